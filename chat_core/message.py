"""A chat message and its JSON encoding, made once when the message is accepted."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, the encoding of every body and frame chatlab writes."""
    return _encode(value).encode()


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    room: str | None
    to: str | None
    sender: str
    text: str
    at: float
    cid: str | None = None
    ts: float | None = None
    # Every recipient gets the same bytes: each wire form is built once per message and
    # shared, so fan-out costs a reference per recipient, never a serialization.
    json: bytes = field(init=False, repr=False, compare=False)
    wire_forms: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "json", dumps(self.as_dict()))

    @classmethod
    def from_json(cls, encoded: bytes) -> "Message":
        """A message back from its JSON (a shared store's copy), keeping those very bytes:
        nothing is encoded again."""
        fields = json.loads(encoded)
        message = object.__new__(cls)
        for name, value in (
            ("id", fields["id"]),
            ("room", fields["room"]),
            ("to", fields["to"]),
            ("sender", fields["from"]),
            ("text", fields["text"]),
            ("at", fields["at"]),
            ("cid", fields["cid"]),
            ("ts", fields["ts"]),
            ("json", encoded),
            ("wire_forms", {}),
        ):
            object.__setattr__(message, name, value)
        return message

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room": self.room,
            "to": self.to,
            "from": self.sender,
            "text": self.text,
            "at": self.at,
            "cid": self.cid,
            "ts": self.ts,
        }

    def wire(self, form: str, encode: Callable[["Message"], bytes]) -> bytes:
        """This message as a transport writes it, encoded on first use and then reused."""
        encoded = self.wire_forms.get(form)
        if encoded is None:
            encoded = self.wire_forms[form] = encode(self)
        return encoded
