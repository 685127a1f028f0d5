"""Locustfile: the chat scenario over long polling.

locust -f loadtests/long_poll.py                      # web UI on http://localhost:8089
locust -f loadtests/long_poll.py --headless -u 200 -r 50 -t 30s
"""

from loadtests.clients import LongPollClient
from loadtests.scenario import ChatUser


class LongPollUser(ChatUser):
    client_class = LongPollClient
