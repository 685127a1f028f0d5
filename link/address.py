"""Addresses as the link prints them: HOST:PORT, [HOST]:PORT for IPv6."""

import socket
from typing import Any


def host_port(address: Any) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
