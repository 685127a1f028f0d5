"""The WebSocket codec without sockets: a server and a client endpoint joined in memory.

Frames the codec would never send (lying, reserved, unmasked) are built with its own
primitives, `frame` and `frame_header`.
"""

import os

import pytest

from wire.websocket import (
    BinaryMessage,
    Close,
    CloseCode,
    Endpoint,
    Opcode,
    Ping,
    Pong,
    Role,
    TextMessage,
    Violation,
    apply_mask,
    close_payload,
    frame,
    frame_header,
    sendable,
)

LIMIT = 64 * 1024


class Link:
    """A server and a client endpoint: what one sends, the other receives."""

    def __init__(self, max_message: int = LIMIT) -> None:
        self.server = Endpoint(Role.SERVER, max_message)
        self.client = Endpoint(Role.CLIENT, max_message)

    def to_server(self, data: bytes) -> list:
        return self.server.receive(data)

    def to_client(self, data: bytes) -> list:
        return self.client.receive(data)


def masked(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    """A client frame of any kind, lying ones included."""
    mask = os.urandom(4)
    return frame_header(opcode, len(payload), fin, mask, rsv) + apply_mask(payload, mask)


def violation(code: int) -> object:
    """Matches a Violation with this code, whatever its reason says."""

    class Matcher:
        def __eq__(self, other: object) -> bool:
            return isinstance(other, Violation) and other.code == code

        def __repr__(self) -> str:
            return f"Violation({code}, ...)"

    return Matcher()


# -- messages both ways -----------------------------------------------------------------------


def test_text_and_binary_cross_the_link_both_ways():
    link = Link()
    sent = link.client.send_text(b'{"type":"send"}') + link.client.send_binary(b"\x00\xff")
    assert link.to_server(sent) == [TextMessage(b'{"type":"send"}'), BinaryMessage(b"\x00\xff")]
    back = link.server.send_text("héllo".encode()) + link.server.send_binary(b"")
    assert link.to_client(back) == [TextMessage("héllo".encode()), BinaryMessage(b"")]


def test_client_frames_are_masked_and_server_frames_are_not():
    link = Link()
    payload = b"x" * 40
    client_frame = link.client.send_text(payload)
    assert client_frame[1] & 0x80 and payload not in client_frame
    assert link.server.send_text(payload) == bytes((0x81, 40)) + payload
    assert link.client.send_text(payload)[2:6] != client_frame[2:6]  # a fresh key each frame


@pytest.mark.parametrize(
    ("length", "header"), [(0, 2), (125, 2), (126, 4), (65_535, 4), (65_536, 10)]
)
def test_each_length_takes_the_fewest_header_bytes(length, header):
    link = Link()
    data = b"y" * length
    wire = link.server.send_binary(data)
    assert len(wire) == header + length
    assert link.to_client(wire) == [BinaryMessage(data)]
    assert link.to_server(link.client.send_binary(data)) == [BinaryMessage(data)]


def test_ping_pong_and_a_close_answered_with_its_own_code():
    link = Link()
    (ping,) = link.to_server(link.client.ping(b"are you there"))
    assert ping == Ping(b"are you there")
    assert link.to_client(link.server.pong(ping.data)) == [Pong(b"are you there")]
    (close,) = link.to_server(link.client.close(CloseCode.GOING_AWAY, "bye"))
    assert close == Close(CloseCode.GOING_AWAY, "bye") and link.client.close_sent
    assert link.to_client(link.server.close(close.answer_code)) == [Close(1001, "")]


# -- however the bytes are cut ----------------------------------------------------------------


def _mixed_stream(link: Link) -> tuple[bytes, list]:
    """Server frames of every length class and kind, fragments and control frames between."""
    server = link.server
    parts = [
        (server.send_text(b"x" * 5), [TextMessage(b"x" * 5)]),
        (server.send_binary(b"y" * 300), [BinaryMessage(b"y" * 300)]),
        (frame(Opcode.TEXT, "é".encode()[:1], fin=False), []),  # a character cut in two
        (server.ping(b"p"), [Ping(b"p")]),
        (frame(Opcode.CONTINUATION, "é".encode()[1:] + b"!"), [TextMessage("é!".encode())]),
        (server.send_text(b""), [TextMessage(b"")]),
        (server.close(CloseCode.NORMAL, "done"), [Close(CloseCode.NORMAL, "done")]),
    ]
    return b"".join(p for p, _ in parts), [e for _, events in parts for e in events]


def test_every_cut_of_the_bytes_gives_the_same_events():
    stream, expected = _mixed_stream(Link())
    for cut in range(len(stream) + 1):
        client = Link().client
        assert client.receive(stream[:cut]) + client.receive(stream[cut:]) == expected, cut


def test_bytes_one_at_a_time_give_the_same_events():
    stream, expected = _mixed_stream(Link())
    client = Link().client
    assert [e for i in range(len(stream)) for e in client.receive(stream[i : i + 1])] == expected


def test_frames_come_out_whole_however_the_bytes_are_cut():
    messages = [b"x" * 5, b"y" * 300, b"z" * 70_000]
    link = Link(max_message=1 << 20)
    stream = b"".join(link.client.send_text(m) for m in messages)
    for cut in (1, 2, 3, 7, 4096, len(stream)):
        server, out = Endpoint(Role.SERVER, 1 << 20), []
        for start in range(0, len(stream), cut):
            out += server.receive(stream[start : start + cut])
        assert out == [TextMessage(m) for m in messages], cut


def test_fragments_are_joined_and_control_frames_pass_between_them():
    link = Link()
    stream = (
        masked(Opcode.TEXT, b"he", fin=False)
        + masked(Opcode.PING, b"p")
        + masked(Opcode.CONTINUATION, b"ll", fin=False)
        + masked(Opcode.PONG, b"q")
        + masked(Opcode.CONTINUATION, b"o")
        + masked(Opcode.BINARY, b"\x01", fin=False)
        + masked(Opcode.CONTINUATION, b"\x02")
    )
    assert link.to_server(stream) == [
        Ping(b"p"),
        Pong(b"q"),
        TextMessage(b"hello"),
        BinaryMessage(b"\x01\x02"),
    ]


def test_events_before_a_violation_in_the_same_read_are_kept_and_later_bytes_dropped():
    link = Link()
    good = link.client.send_text(b"first")
    bad = frame(Opcode.TEXT, b"unmasked")
    assert link.to_server(good + bad + good) == [TextMessage(b"first"), violation(1002)]
    assert not link.server.reading
    assert link.to_server(good) == []


# -- close codes (RFC 6455 §7.4) --------------------------------------------------------------

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CODES)
def test_a_valid_close_code_is_answered_with_the_same_code(code):
    link = Link()
    (event,) = link.to_server(masked(Opcode.CLOSE, code.to_bytes(2, "big") + b"reason"))
    assert event == Close(code, "reason") and event.answer_code == code
    assert sendable(code)


@pytest.mark.parametrize("code", INVALID_CODES)
def test_a_close_code_no_peer_may_send_is_a_protocol_error(code):
    link = Link()
    assert link.to_server(masked(Opcode.CLOSE, code.to_bytes(2, "big"))) == [violation(1002)]
    assert not sendable(code)


def test_a_close_without_a_code_is_answered_with_1000():
    (event,) = Link().to_server(masked(Opcode.CLOSE, b""))
    assert event == Close(CloseCode.NO_STATUS, "") and event.answer_code == CloseCode.NORMAL


def test_a_one_byte_close_payload_is_a_protocol_error():
    assert Link().to_server(masked(Opcode.CLOSE, b"\x03")) == [violation(1002)]


def test_a_close_reason_that_is_not_utf8_is_invalid_data():
    payload = (
        close_payload(CloseCode.NORMAL)
        + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
    )
    assert Link().to_server(masked(Opcode.CLOSE, payload)) == [violation(1007)]


def test_a_long_close_reason_is_cut_between_characters():
    payload = close_payload(CloseCode.NORMAL, "é" * 100)
    assert len(payload) == 2 + 122  # 61 two-byte characters: the 62nd would need byte 124
    (event,) = Link().to_server(masked(Opcode.CLOSE, payload))
    assert event == Close(CloseCode.NORMAL, "é" * 61)


# -- the size limit, from the header ----------------------------------------------------------


def test_a_message_of_exactly_the_limit_passes():
    link = Link()
    assert link.to_server(link.client.send_text(b"x" * LIMIT)) == [TextMessage(b"x" * LIMIT)]


def test_a_header_over_the_limit_is_refused_before_its_payload_arrives():
    link = Link()
    header = frame_header(Opcode.TEXT, LIMIT + 1, mask=os.urandom(4))
    assert link.to_server(header[:3]) == []  # the length is not known yet
    assert link.to_server(header[3:]) == [violation(1009)]
    assert link.to_server(b"x" * LIMIT) == []  # nothing more is read, nor kept


def test_a_terabyte_header_is_refused_at_once():
    header = frame_header(Opcode.BINARY, 1 << 40, mask=os.urandom(4))
    assert Link().to_server(header) == [violation(1009)]


def test_fragments_count_together_and_the_crossing_fragment_is_refused_by_its_header():
    link = Link()
    first = masked(Opcode.TEXT, b"x" * 40_000, fin=False)
    crossing = masked(Opcode.CONTINUATION, b"x" * 30_000)
    assert link.to_server(first) == []
    assert link.to_server(crossing[:14]) == [violation(1009)]  # header and key only


def test_fragments_adding_up_to_exactly_the_limit_pass():
    link = Link()
    stream = masked(Opcode.BINARY, b"a" * (LIMIT - 1), fin=False)
    stream += masked(Opcode.CONTINUATION, b"b")
    assert link.to_server(stream) == [BinaryMessage(b"a" * (LIMIT - 1) + b"b")]


# -- UTF-8 ------------------------------------------------------------------------------------

NOT_UTF8 = [
    b"\xff\xfe",  # never in UTF-8
    b"\xc0\xaf",  # an overlong "/"
    b"\xed\xa0\x80",  # a surrogate
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    "κόσμε".encode()[:-1],  # cut inside its last character
]


@pytest.mark.parametrize("payload", NOT_UTF8)
def test_a_text_message_that_is_not_utf8_is_invalid_data(payload):
    assert Link().to_server(masked(Opcode.TEXT, payload)) == [violation(1007)]


def test_a_bad_fragment_fails_at_once_without_waiting_for_the_last():
    link = Link()
    assert link.to_server(masked(Opcode.TEXT, "κό".encode(), fin=False)) == []
    assert link.to_server(masked(Opcode.CONTINUATION, b"\xed\xa0\x80", fin=False)) == [
        violation(1007)
    ]


def test_a_character_may_span_fragments_but_must_end_with_the_message():
    link = Link()
    euro = "€".encode()
    stream = masked(Opcode.TEXT, euro[:1], fin=False) + masked(Opcode.CONTINUATION, euro[1:])
    assert link.to_server(stream) == [TextMessage(euro)]
    stream = masked(Opcode.TEXT, b"ok", fin=False) + masked(Opcode.CONTINUATION, euro[:2])
    assert Link().to_server(stream) == [violation(1007)]


def test_binary_messages_are_not_checked_as_text():
    assert Link().to_server(masked(Opcode.BINARY, b"\xff\xfe")) == [BinaryMessage(b"\xff\xfe")]


# -- every other rule: 1002 -------------------------------------------------------------------


@pytest.mark.parametrize("rsv", range(1, 8))
def test_reserved_bits_are_a_protocol_error(rsv):
    assert Link().to_server(masked(Opcode.TEXT, b"x", rsv=rsv)) == [violation(1002)]


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_are_a_protocol_error(opcode):
    assert Link().to_server(masked(opcode, b"")) == [violation(1002)]


def test_an_unmasked_client_frame_and_a_masked_server_frame_are_protocol_errors():
    link = Link()
    assert link.to_server(frame(Opcode.TEXT, b"x")) == [violation(1002)]
    assert link.to_client(masked(Opcode.TEXT, b"x")) == [violation(1002)]


@pytest.mark.parametrize(
    "stream",
    [
        masked(Opcode.PING, b"p", fin=False),  # a fragmented control frame
        masked(Opcode.PING, b"p" * 126),  # a control frame over 125 bytes
        masked(Opcode.CLOSE, b"\x03\xe8" + b"r" * 124),
        masked(Opcode.CONTINUATION, b"x"),  # a continuation of nothing
        masked(Opcode.TEXT, b"a", fin=False) + masked(Opcode.TEXT, b"b"),  # new inside
        masked(Opcode.TEXT, b"a", fin=False) + masked(Opcode.BINARY, b"b", fin=False),
    ],
    ids=[
        "fragmented ping",
        "long ping",
        "long close",
        "lone continuation",
        "text in text",
        "binary in text",
    ],  # fmt: skip
)
def test_bad_control_frames_and_continuation_sequences_are_protocol_errors(stream):
    assert Link().to_server(stream) == [violation(1002)]


def test_a_control_frame_of_125_bytes_passes():
    assert Link().to_server(masked(Opcode.PING, b"p" * 125)) == [Ping(b"p" * 125)]


def test_after_a_close_nothing_more_is_read():
    link = Link()
    events = link.to_server(link.client.close() + link.client.send_text(b"late"))
    assert events == [Close(CloseCode.NORMAL, "")]
    assert link.to_server(link.client.send_text(b"later")) == []


# -- primitives -------------------------------------------------------------------------------


def test_masking_is_the_xor_of_rfc_6455_and_undoes_itself():
    data, key = os.urandom(1001), os.urandom(4)
    assert apply_mask(data, key) == bytes(b ^ key[i % 4] for i, b in enumerate(data))
    assert apply_mask(apply_mask(data, key), key) == data
    assert apply_mask(b"", key) == b""


def test_the_rfc_examples_come_out_byte_for_byte():
    # RFC 6455 §5.7: "Hello" unmasked, masked with 37 fa 21 3d, and an unmasked ping
    assert frame(Opcode.TEXT, b"Hello") == bytes.fromhex("810548656c6c6f")
    masked_hello = bytes.fromhex("818537fa213d7f9f4d5158")
    assert frame(Opcode.TEXT, b"Hello", mask=bytes.fromhex("37fa213d")) == masked_hello
    assert Link().to_server(masked_hello) == [TextMessage(b"Hello")]
    assert frame(Opcode.PING, b"Hello") == bytes.fromhex("890548656c6c6f")
