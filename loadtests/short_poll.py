"""Locustfile: the chat scenario over short polling.

locust -f loadtests/short_poll.py                      # web UI on http://localhost:8089
locust -f loadtests/short_poll.py --headless -u 200 -r 50 -t 30s
"""

from loadtests.clients import ShortPollClient
from loadtests.scenario import ChatUser


class ShortPollUser(ChatUser):
    client_class = ShortPollClient
