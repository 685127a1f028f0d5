"""The chat's state in Redis, shared by every chatlab process that names the same store.

Like chat_core it knows nothing of HTTP; unlike it, it does I/O (redis-py's sockets). Under
gevent those sockets must be gevent's: `chatlab serve` patches the standard library before
anything imports redis, and gunicorn's gevent workers do the same; in an unpatched process
every Redis call would block the whole server.
"""

from .chat import RedisChat as RedisChat
from .chat import SharedSession as SharedSession
