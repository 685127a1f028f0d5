"""Bytes that really crossed a server socket, read from Linux's TCP_INFO.

The kernel counts every byte of a TCP connection's payload in each direction: HTTP request
lines, headers, bodies, chunk markers and WebSocket framing included. TCP/IP headers are not
in these counts; segment counts are kept so that their overhead can be estimated.
"""

import socket
import struct
from dataclasses import dataclass

# Offsets in struct tcp_info (linux/tcp.h), stable since Linux 4.19.
_TCP_INFO_SIZE = 232
_BYTES_RECEIVED = struct.Struct("=Q")  # at 128: payload bytes received
_SEGS = struct.Struct("=II")  # at 136: segs_out, segs_in
_BYTES_SENT = struct.Struct("=Q")  # at 200: payload bytes sent, retransmits included


@dataclass(frozen=True, slots=True)
class WireCount:
    bytes_in: int = 0
    bytes_out: int = 0
    segs_in: int = 0
    segs_out: int = 0


def read_wire_count(sock: socket.socket) -> WireCount | None:
    """The connection's counts so far; None where TCP_INFO is not available."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except (OSError, AttributeError):
        return None
    if len(info) < _TCP_INFO_SIZE:
        return None
    (bytes_in,) = _BYTES_RECEIVED.unpack_from(info, 128)
    segs_out, segs_in = _SEGS.unpack_from(info, 136)
    (bytes_out,) = _BYTES_SENT.unpack_from(info, 200)
    return WireCount(bytes_in=bytes_in, bytes_out=bytes_out, segs_in=segs_in, segs_out=segs_out)
