"""The gateway in front of Flask (transports.gateway) reads a request as Flask reads it."""

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from transports.gateway import query_of

QUERIES = [
    "since=5&timeout=3",
    "since=",
    "since",
    "since=1&since=2",
    "&&since=7&",
    "=v",
    "a=b=c",
    "token=a+b",
    "token=%41%42",
    "since=%ZZ",
    "token=%E4%B8%AD",
    "token=%FF",
]


@pytest.mark.parametrize("query", QUERIES)
def test_query_arguments_are_read_as_werkzeug_reads_them(query):
    environ = EnvironBuilder(path="/api/poll", query_string=query).get_environ()
    args = Request(environ).args
    assert query_of(environ["QUERY_STRING"]) == {name: args[name] for name in args}
