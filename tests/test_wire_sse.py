"""Server-Sent Events without I/O: what the server writes, and the parser clients share."""

import pytest

from wire.sse import Event, EventParser, comment, event, retry

STREAM = (
    retry(2000)
    + event(b'{"id":7}', id=7)
    + comment(b"ping")
    + event(b'{"oldest":3}', type="gap")
    + event(b'{"id":9}', id=9)
)


def test_the_server_writes_events_comments_and_retry_as_the_standard_spells_them():
    assert event(b'{"id":7}', id=7) == b'id: 7\nevent: message\ndata: {"id":7}\n\n'
    assert event(b'{"oldest":3}', type="gap") == b'event: gap\ndata: {"oldest":3}\n\n'
    assert retry(2000) == b"retry: 2000\n\n"
    assert comment(b"ping") == b": ping\n\n"


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 17, len(STREAM)])
def test_events_come_out_whole_however_the_bytes_are_cut(cut: int):
    parser, events = EventParser(), []
    for start in range(0, len(STREAM), cut):
        events += parser.feed(STREAM[start : start + cut])
    assert events == [
        Event("message", b'{"id":7}', "7"),
        Event("gap", b'{"oldest":3}', "7"),  # the last id carries over
        Event("message", b'{"id":9}', "9"),
    ]
    assert parser.retry == 2000


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_of_the_standard_is_one(end: bytes):
    stream = end.join([b"event: note", b"data: a", b"data:  b", b"", b"data", b"", b""])
    for cut in (1, len(stream)):  # a CRLF split between two chunks is still one line end
        parser = EventParser()
        events = [e for i in range(0, len(stream), cut) for e in parser.feed(stream[i : i + cut])]
        assert events == [Event("note", b"a\n b"), Event("message", b"")], (end, cut)


def test_an_event_without_data_is_not_dispatched_and_a_line_can_be_fed_alone():
    parser = EventParser()
    assert parser.feed(b"event: gap\n\n") == []
    assert parser.feed_line(b"data: x") is None
    assert parser.feed_line(b"") == Event("message", b"x")
    assert parser.feed(b"id: bad\0id\ndata: y\n\n") == [Event("message", b"y")]  # NUL: ignored
