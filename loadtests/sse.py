"""Locustfile: the chat scenario over Server-Sent Events.

locust -f loadtests/sse.py                      # web UI on http://localhost:8089
locust -f loadtests/sse.py --headless -u 200 -r 50 -t 30s
"""

from loadtests.clients import SseClient
from loadtests.scenario import ChatUser


class SseUser(ChatUser):
    client_class = SseClient
