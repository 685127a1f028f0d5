"""The load generator's reader of the server's WebSocket frames."""

import pytest

from loadtests.clients.ws_frames import OP_PING, OP_TEXT, FrameError, ServerFrames


def _frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    length = len(payload)
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return bytes((first, length)) + payload
    if length < 1 << 16:
        return bytes((first, 126)) + length.to_bytes(2, "big") + payload
    return bytes((first, 127)) + length.to_bytes(8, "big") + payload


def test_frames_come_out_whole_however_the_bytes_are_cut():
    messages = [b"x" * 5, b"y" * 300, b"z" * 70_000]
    stream = b"".join(_frame(OP_TEXT, m) for m in messages)
    for cut in (1, 2, 3, 7, 4096, len(stream)):
        frames, out = ServerFrames(), []
        for start in range(0, len(stream), cut):
            out += frames.feed(stream[start : start + cut])
        assert out == [(OP_TEXT, m) for m in messages], cut


def test_fragments_are_joined_and_control_frames_pass_between_them():
    stream = (_frame(OP_TEXT, b"he", fin=False) + _frame(OP_PING, b"p")
              + _frame(0x0, b"llo"))  # fmt: skip
    assert ServerFrames().feed(stream) == [(OP_PING, b"p"), (OP_TEXT, b"hello")]


def test_a_masked_or_oversized_server_frame_is_refused():
    with pytest.raises(FrameError):
        ServerFrames().feed(bytes((0x81, 0x81)) + b"mask" + b"a")
    with pytest.raises(FrameError):
        ServerFrames(max_message=10).feed(_frame(OP_TEXT, b"a" * 11))
