"""Locustfile: the chat scenario over WebSocket.

locust -f loadtests/ws.py                      # web UI on http://localhost:8089
locust -f loadtests/ws.py --headless -u 200 -r 50 -t 30s
"""

from loadtests.clients import WebSocketClient
from loadtests.scenario import ChatUser


class WebSocketUser(ChatUser):
    client_class = WebSocketClient
