"""Look-alikes: Unicode's confusables (UTS #39 skeletons) and the script of each character.

The tables are Unicode's own, as the confusable-homoglyphs package ships them (confusables.txt
and Scripts.txt of Unicode 15, as JSON, in its package folder). They are read once per
process (about 1 MB of JSON, ~0.25 s), by `load()` when a `Chat` is made, so that no request
pays for it. Nothing here touches the network.

The package keeps confusables.txt as a two-way graph (each character → the characters it may be
taken for) rather than as the file's one-way map to a prototype. The graph is a set of stars:
one prototype joined to the characters that map to it (checked for every edge: no two
characters with several neighbours are joined). The prototype of a star is its centre; in a
star of two, it is the side written with several characters if there is one (a source is
always one code point), else either side, chosen once: the skeleton only has to be the same
for characters that are confusable, not to spell the file's prototype.

Checked against Unicode 13's confusables.txt (6,311 mappings): every mapping gives equal
skeletons but 5 that the newer table no longer has (U+2028, U+2029, U+1E9A, U+1F16D, U+3164),
and no two of that file's classes share a skeleton.
"""

import json
import unicodedata
from functools import cache, lru_cache

_DIRECTION_MARKS = "\u200e\u200f"  # the package keeps the marks that display right-to-left


def _character_only(entry: dict[str, str]) -> object:
    """An entry of the table, {"c": character, "n": its name}, as its character alone."""
    return entry["c"] if entry.keys() == {"c", "n"} else entry


@cache
def _tables() -> tuple[dict[str, str], object]:
    # Read here rather than through the package's `confusables` module, which keeps the whole
    # table, names of characters and all, for the process's life: the server grew 17 MB with
    # it, 2.7 MB reading only the characters (measured).
    from confusable_homoglyphs import categories, utils

    with open(utils.path("confusables.json"), encoding="utf-8") as table:
        two_way = json.load(table, object_hook=_character_only)
    graph: dict[str, set[str]] = {}
    for key, characters in two_way.items():
        node = key.strip(_DIRECTION_MARKS)
        if not node:
            continue
        neighbours = graph.setdefault(node, set())
        neighbours.update(c.strip(_DIRECTION_MARKS) for c in characters)
        neighbours.discard("")
    prototype: dict[str, str] = {}
    for node, neighbours in graph.items():
        if len(node) != 1:
            continue  # a prototype of several characters: not a source
        if len(neighbours) > 1:
            continue  # the centre of a star: a prototype, itself
        (other,) = neighbours
        if len(graph.get(other, ())) > 1 or len(other) > 1 or other < node:
            prototype[node] = other
    # A prototype of several characters may hold one that its two-star partner stands for.
    for node, target in prototype.items():
        if len(target) > 1:
            prototype[node] = "".join(prototype.get(ch, ch) for ch in target)
    return prototype, categories.alias


def load() -> None:
    """Read the tables now rather than at the first name checked."""
    _tables()


def skeleton(text: str) -> str:
    """UTS #39's skeleton: two strings are confusable when their skeletons are equal."""
    prototype, _ = _tables()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototype.get(ch, ch) for ch in decomposed))


@lru_cache(maxsize=4096)  # the package searches its ranges in Python: ~4 us a character
def script(ch: str) -> str:
    """The Unicode script of a character, as Scripts.txt names it ("LATIN", "HAN", "COMMON")."""
    _, alias = _tables()
    return alias(ch)  # type: ignore[operator]


class LookalikeIndex:
    """The names in use by skeleton, so that a look-alike is found in one look-up however many
    names there are. Holds one name per skeleton: a name whose skeleton is taken is refused."""

    def __init__(self) -> None:
        self._by_skeleton: dict[str, str] = {}

    def holder(self, name: str) -> str | None:
        """The name in use that `name` would be taken for, if any (itself included)."""
        return self._by_skeleton.get(skeleton(name))

    def add(self, name: str) -> None:
        self._by_skeleton[skeleton(name)] = name

    def discard(self, name: str) -> None:
        key = skeleton(name)
        if self._by_skeleton.get(key) == name:
            del self._by_skeleton[key]

    def __len__(self) -> int:
        return len(self._by_skeleton)
