"""One chat client per transport, all with the same shape (see `base.ChatClient`)."""

from .base import SENDS_IN_FLIGHT as SENDS_IN_FLIGHT
from .base import ChatClient as ChatClient
from .base import ClientSettings as ClientSettings
from .base import Inbox as Inbox
from .base import SendFailed as SendFailed
from .base import SetupFailed as SetupFailed
from .http_clients import LongPollClient as LongPollClient
from .http_clients import ShortPollClient as ShortPollClient
from .http_clients import SseClient as SseClient
from .socketio_client import SocketIOPollingClient as SocketIOPollingClient
from .socketio_client import SocketIOWebSocketClient as SocketIOWebSocketClient
from .ws_client import WebSocketClient as WebSocketClient
