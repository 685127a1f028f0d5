"""The chat itself, with no I/O: identities, rooms, private messages, per-user streams.

This package does no network or disk I/O and imports no Flask, gevent or Locust: transports
read and write bytes, the core decides what those bytes mean. (One exception, once per
process: the Unicode tables that confusable-homoglyphs reads from its own package folder when
the first `Chat` is made; see `lookalikes`.) Blocking is passed in (see
``waiting``), so the same core runs under gevent in the server and under threads in tests.
"""

from .chat import Chat as Chat
from .chat import SendResult as SendResult
from .errors import ChatError as ChatError
from .errors import ErrorCode as ErrorCode
from .limits import Limits as Limits
from .message import Message as Message
from .sessions import Session as Session
from .storage import Batch as Batch
from .storage import MemoryStorage as MemoryStorage
from .storage import Storage as Storage
from .transport_name import TRANSPORT_HEADER as TRANSPORT_HEADER
from .transport_name import Transport as Transport
from .waiting import ThreadingWaiting as ThreadingWaiting
from .waiting import Waiting as Waiting
