"""Bytes that really crossed a socket, read from Linux's TCP_INFO: the server's sockets for
its metrics, the load generator's for the peer servers that count no bytes themselves.

The kernel counts every byte of a TCP connection's payload in each direction: HTTP request
lines, headers, bodies, chunk markers and WebSocket framing included. TCP/IP headers are not
in these counts; segment counts are kept so that their overhead can be estimated.

Incoming bytes are counted as the reader has *taken* them off the socket: the kernel's count
less what still waits unread in the receive queue. A client that sends its next request the
moment an answer reaches it can have that request in the queue before the server has charged
the answer; counted as received, those bytes would go to the request before.
"""

import array
import fcntl
import socket
import struct
import termios
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
    # The unread count first: a segment landing between the two reads is then counted as
    # taken a moment early, never charged negatively.
    unread = array.array("i", [0])
    try:
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, unread)
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except (OSError, AttributeError, ValueError):  # ValueError: the socket is closed
        return None
    if len(info) < _TCP_INFO_SIZE:
        return None
    (bytes_in,) = _BYTES_RECEIVED.unpack_from(info, 128)
    bytes_in -= unread[0]
    segs_out, segs_in = _SEGS.unpack_from(info, 136)
    (bytes_out,) = _BYTES_SENT.unpack_from(info, 200)
    return WireCount(bytes_in=bytes_in, bytes_out=bytes_out, segs_in=segs_in, segs_out=segs_out)
