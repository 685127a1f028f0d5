"""What the app's views share: the chat, the counters, the live connections, the settings."""

from dataclasses import dataclass, field

from flask import current_app

from chat_core import Chat, Waiting

from .deliveries import Deliveries
from .live import LiveConnections
from .metrics import Metrics


@dataclass
class ServerState:
    chat: Chat
    chat_waiting: Waiting
    metrics: Metrics = field(default_factory=Metrics)
    live: LiveConnections = field(default_factory=LiveConnections)
    deliveries: Deliveries = field(default_factory=Deliveries)  # to WebSockets


def state() -> ServerState:
    return current_app.extensions["chatlab"]
