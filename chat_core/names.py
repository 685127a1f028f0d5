"""The rule every user and room name follows (docs/PROTOCOL.md, "Names"), each refusal saying
which part it broke. Whether a name looks like one already in use is the chat's to decide
(it knows what is in use); this module only judges the name itself.

1. A visible character at least (a name of fillers or marks alone shows nothing).
2. chatlab's repertoire: letters, marks and digits of any script, and `_`, `-`, `.` (names
   are parts of URL paths and of sentences; no spaces, no symbols).
3. RFC 8265's UsernameCasePreserved profile (PRECIS, by precis-i18n): NFC, full-width and
   half-width forms read as their plain forms, no compatibility variants (styled mathematical
   letters, ligatures, Roman numerals, circled letters), no invisible or control characters,
   the Bidi Rule. Case is kept: `alice` and `Alice` are two names.
4. One script, or a mix that UTS #39 calls Moderately Restrictive: Latin with Han and
   Hiragana/Katakana, Bopomofo or Hangul, or Latin with any one other script but Cyrillic and
   Greek, whose letters are the look-alikes of Latin's.
"""

import unicodedata
from typing import Any

import precis_i18n
from precis_i18n.unicode import UnicodeData

from .errors import ChatError, ErrorCode
from .lookalikes import script

_PUNCTUATION = frozenset("_-.")
_PROFILE = precis_i18n.get_profile("UsernameCasePreserved")
_UNICODE = UnicodeData()
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})
_EAST_ASIAN_WITH_LATIN = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_NOT_WITH_LATIN = frozenset({"CYRILLIC", "GREEK"})


def checked_name(value: Any, what: str, max_length: int) -> str:
    """`value` as a name (its PRECIS form), or bad_request saying which rule it broke."""
    if not isinstance(value, str):
        raise ChatError(ErrorCode.BAD_REQUEST, f"The {what} must be a string.")
    name = unicodedata.normalize("NFC", value)
    if not 1 <= len(name) <= max_length:
        raise ChatError(
            ErrorCode.BAD_REQUEST, f"The {what} must be 1 to {max_length} characters long."
        )
    if not any(_visible(ch) for ch in name):
        raise ChatError(ErrorCode.BAD_REQUEST, f"The {what} has no visible character.")
    outside = next((ch for ch in name if not _in_repertoire(ch)), None)
    if outside is not None:
        if not _visible(outside) and not outside.isspace():
            raise ChatError(ErrorCode.BAD_REQUEST, _invisible(what, outside))
        raise ChatError(
            ErrorCode.BAD_REQUEST,
            f"The {what} may hold only letters, digits, '_', '-' and '.'.",
        )
    try:
        enforced = _PROFILE.enforce(name)
    except UnicodeEncodeError as error:
        raise ChatError(ErrorCode.BAD_REQUEST, _precis_refusal(what, name, error)) from None
    name = enforced
    mixed = _confusable_mix(name)
    if mixed:
        raise ChatError(ErrorCode.BAD_REQUEST, f"The {what} '{name}' mixes {mixed} letters.")
    return name


def _in_repertoire(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in _PUNCTUATION


def _invisible(what: str, ch: str) -> str:
    return f"The {what} holds an invisible or control character ({_code_point(ch)})."


def _visible(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNPS" and not _UNICODE.default_ignorable(ord(ch))


def _code_point(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()


def _precis_refusal(what: str, given: str, error: UnicodeEncodeError) -> str:
    """The sentence for a PRECIS refusal, from the kind precis-i18n names ("DISALLOWED/…").
    The character named is the one given, not its width-mapped form (U+FFA0, not U+3164)."""
    kind = error.reason.rpartition("/")[2]
    ch = ""
    if error.end - error.start == 1:
        mapped = error.object
        ch = (given if len(given) == len(mapped) else mapped)[error.start]
    if kind == "has_compat" and ch:
        plain = unicodedata.normalize("NFKC", ch)
        return (
            f"The {what} holds '{ch}' ({_code_point(ch)}), a styled or compatibility form of "
            f"'{plain}' (RFC 8265): write '{plain}' itself."
        )
    if ch and kind in {"precis_ignorable_properties", "old_hangul_jamo", "zero_width_joiner",
                       "zero_width_nonjoiner", "join_control", "controls"}:  # fmt: skip
        return _invisible(what, ch)
    if kind == "unassigned" and ch:
        return f"The {what} holds a character Unicode has not assigned ({_code_point(ch)})."
    if kind == "bidi_rule":
        return (
            f"The {what} mixes right-to-left and left-to-right characters in a way the Bidi "
            "Rule (RFC 5893) forbids."
        )
    where = f"'{ch}' ({_code_point(ch)})" if ch else "a character"
    return f"The {what} holds {where}, which user names may not hold (RFC 8265: {kind})."


def _confusable_mix(name: str) -> str:
    """'Latin and Cyrillic' when the name mixes scripts in a way UTS #39's Moderately
    Restrictive level does not allow; '' when it does not."""
    scripts = {script(ch) for ch in name} - _NEUTRAL_SCRIPTS
    if len(scripts) <= 1 or any(scripts <= allowed for allowed in _EAST_ASIAN_WITH_LATIN):
        return ""
    if len(scripts) == 2 and "LATIN" in scripts and not scripts & _NOT_WITH_LATIN:
        return ""
    words = sorted((s.replace("_", " ").title() for s in scripts), key=lambda w: (w != "Latin", w))
    return ", ".join(words[:-1]) + " and " + words[-1]
