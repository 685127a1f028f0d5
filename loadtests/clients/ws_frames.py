"""The server's WebSocket frames, parsed from whatever a socket read returned. No I/O.

websocket-client reads a frame with three socket reads (header, length, payload); a server
that writes a batch of frames in one go is read here with one, and each frame costs a few
slices. At ten thousand deliveries a second this is the difference between a load generator
that measures the server and one that measures itself.
"""

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


class FrameError(Exception):
    pass


class ServerFrames:
    """Feed bytes in, get whole messages and control frames out: (opcode, payload)."""

    def __init__(self, max_message: int = 16 * 1024 * 1024) -> None:
        self._buffer = bytearray()
        self._max = max_message
        self._opcode: int | None = None  # of a fragmented message being put together
        self._parts: list[bytes] = []

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        buffer = self._buffer
        buffer += data
        out: list[tuple[int, bytes]] = []
        pos, end = 0, len(buffer)
        while end - pos >= 2:
            first, second = buffer[pos], buffer[pos + 1]
            if second & 0x80:
                raise FrameError("a server must not mask its frames")
            length, head = second & 0x7F, 2
            if length == 126:
                if end - pos < 4:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if end - pos < 10:
                    break
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            if length > self._max:
                raise FrameError(f"a frame of {length} bytes is over the limit")
            if end - pos < head + length:
                break
            payload = bytes(buffer[pos + head : pos + head + length])
            pos += head + length
            self._take(first, payload, out)
        del buffer[:pos]
        return out

    def _take(self, first: int, payload: bytes, out: list[tuple[int, bytes]]) -> None:
        fin, opcode = first & 0x80, first & 0x0F
        if opcode >= OP_CLOSE:
            out.append((opcode, payload))  # control frames may come between fragments
            return
        if opcode == OP_CONTINUATION:
            if self._opcode is None:
                raise FrameError("a continuation of nothing")
            self._parts.append(payload)
        else:
            if self._opcode is not None:
                raise FrameError("a new message inside a fragmented one")
            if fin:
                out.append((opcode, payload))
                return
            self._opcode, self._parts = opcode, [payload]
        if fin:
            out.append((self._opcode, b"".join(self._parts)))
            self._opcode, self._parts = None, []
