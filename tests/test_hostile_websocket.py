"""Issue 9's WebSocket probes, written as the attacker would: a raw socket client whose every
frame is built with the codec's primitives (tests/raw_ws.py), against `chatlab serve`.
Each test asserts the bound: the connection closed with its code, the server's memory
bounded, another client served meanwhile."""

import os
import threading
import time

import requests
from raw_ws import RawWebSocket

from wire.websocket import Close, CloseCode, Opcode, Pong, TextMessage, frame

MiB = 1024 * 1024


def masked(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    return frame(opcode, payload, fin, os.urandom(4))


def rss(server) -> int:
    return requests.get(f"{server.url}/api/metrics", timeout=10).json()["process"]["rss_bytes"]


def raw_ws(server, user, **options) -> RawWebSocket:
    ws = RawWebSocket(server.url, "/ws", {"Authorization": f"Bearer {user.token}"}, **options)
    assert ws.status == 101, ws.body
    return ws


def pong_for(ws: RawWebSocket, payload: bytes) -> float:
    """Send a ping and wait for its pong; when it came (time.monotonic)."""
    ws.send(masked(Opcode.PING, payload))
    for _ in range(1_000_000):
        event = ws.next_event()
        assert event is not None and not isinstance(event, Close), event
        if isinstance(event, Pong) and event.data == payload:
            return time.monotonic()
    raise AssertionError("no pong")


def test_a_ping_flood_that_never_reads_its_pongs_is_closed_with_1008_in_bounded_memory(
    server_factory, people
):
    server = server_factory(CLOSE_TIMEOUT=10.0)
    room, (alice, bob, mallory) = people(server, "alice", "bob", "mallory")
    victim = raw_ws(server, bob)
    attacker = raw_ws(server, mallory, rcvbuf=4096)
    before = rss(server)
    flood = b"".join(masked(Opcode.PING, b"p" * 125) for _ in range(1000)) * 100  # 100,000: 13 MB

    def send_flood() -> None:
        try:
            attacker.sock.sendall(flood)
        except OSError:
            pass  # the server may cut the connection before it has read it all

    flooding = threading.Thread(target=send_flood)
    flooding.start()
    served_during_flood = 0
    for round_ in range(10_000):
        pong_for(victim, b"v%d" % round_)
        if not flooding.is_alive():
            break
        served_during_flood += 1
    flooding.join(timeout=60)
    assert not flooding.is_alive()
    # what the server sent it: pongs, then the close frame once the kernel had taken them
    assert attacker.recv_close_code() == CloseCode.POLICY_VIOLATION
    attacker.close()
    assert served_during_flood >= 1
    assert rss(server) - before < 24 * MiB  # the issue measured 48 -> 216 MiB
    sent = alice.say(room=room, text="after the flood")
    for _ in range(100):
        event = victim.next_event()
        if isinstance(event, TextMessage) and b'"message"' in event.data:
            assert b'"id":%d' % sent in event.data
            break
    else:
        raise AssertionError("the victim got no message after the flood")
    victim.close()


def test_a_message_in_too_many_fragments_is_closed_with_1008_and_the_bound_itself_is_read(
    server_factory, people
):
    server = server_factory(MAX_FRAGMENTS=1024)
    room, (alice, mallory) = people(server, "alice", "mallory")
    body = b'{"type":"join","room":"%s"}' % room.encode()
    # exactly the bound: 1,024 frames, the last carrying the message's end
    ws = raw_ws(server, alice)
    pieces = [body[:1]] + [b""] * 1022 + [body[1:]]
    ws.send(
        b"".join(
            masked(Opcode.TEXT if i == 0 else Opcode.CONTINUATION, piece, fin=i == 1023)
            for i, piece in enumerate(pieces)
        )
    )
    event = ws.next_event()
    assert isinstance(event, TextMessage) and b'"joined"' in event.data
    ws.close()
    # 2,000,000 empty continuation fragments: closed at the 1,025th, the rest never read
    attacker = raw_ws(server, mallory)
    endless = masked(Opcode.TEXT, b"{", fin=False) + masked(Opcode.CONTINUATION, b"", False) * 2000
    attacker.send(endless)

    def keep_sending() -> None:
        try:
            for _ in range(1000):
                attacker.sock.sendall(masked(Opcode.CONTINUATION, b"", False) * 2000)
        except OSError:
            pass

    more = threading.Thread(target=keep_sending)
    more.start()
    assert attacker.recv_close_code() == CloseCode.POLICY_VIOLATION
    more.join(timeout=60)
    attacker.close()
    assert not more.is_alive()


def test_a_connection_with_much_input_buffered_takes_turns_with_the_others(server, people):
    _, (bob, mallory) = people(server, "bob", "mallory")
    victim = raw_ws(server, bob)
    attacker = raw_ws(server, mallory)
    # pongs ask for no answer: 200,000 of them keep the server's reader busy for a while
    first = masked(Opcode.PONG, b"u" * 125) * 10_000
    rest = masked(Opcode.PONG, b"u" * 125) * 190_000 + masked(Opcode.PING, b"last")
    flooding = threading.Event()
    attacker_done: list[float] = []

    def flood() -> None:
        attacker.sock.sendall(first)
        flooding.set()
        attacker.sock.sendall(rest)
        for _ in range(10):
            event = attacker.next_event()
            if isinstance(event, Pong) and event.data == b"last":
                attacker_done.append(time.monotonic())
                return

    flooder = threading.Thread(target=flood)
    flooder.start()
    assert flooding.wait(timeout=60)
    victim_done = pong_for(victim, b"me too")
    flooder.join(timeout=120)
    attacker.close()
    victim.close()
    assert attacker_done, "the attacker's own ping was never answered"
    # without turns the victim's ping would wait behind every buffered byte of the attacker
    assert victim_done < attacker_done[0]
