"""The Redis backplane's greenlets in one server process: the one pub/sub subscriber that
wakes this process's waiting connections, and the heartbeat that keeps the streams it holds
open counted, and the publisher of its metrics (transports/shared_metrics.py). Nothing runs
for the memory backend.

The subscriber (re)subscribes until stopped: while Redis is away it retries every
RECONNECT_PAUSE seconds, and once back it wakes every waiting connection, which reads again
from its cursor (wakeups published meanwhile were lost; messages were not).
"""

import logging
from typing import Any

import gevent
import redis

from . import shared_metrics
from .backends import is_shared

log = logging.getLogger(__name__)
RECONNECT_PAUSE = 0.5  # seconds between attempts to reach Redis again
HEARTBEAT_EVERY = 1.0  # seconds; well inside chat_redis's OPEN_STREAMS_TTL


def start(state: Any) -> list[gevent.Greenlet]:
    """Start the backplane's greenlets for the server's state (none for the memory chat):
    the subscriber, the heartbeat, the metrics' publisher. Kill them to stop."""
    chat = state.chat
    if not is_shared(chat):
        return []
    return [
        gevent.spawn(subscribe_forever, chat),
        gevent.spawn(heartbeat_forever, chat),
        gevent.spawn(shared_metrics.publish_forever, chat, state.metrics, gevent.sleep),
    ]


def subscribe_forever(chat: Any) -> None:
    reported = False
    while True:
        pubsub = chat.redis.pubsub()
        try:
            pubsub.subscribe(chat.wake_channel)
            while True:
                message = pubsub.get_message(timeout=5.0)
                if message is None:
                    continue
                if message["type"] == "message":
                    chat.wake(message["data"])
                elif message["type"] == "subscribe":
                    # subscribed from now on: readers woken now miss nothing published later
                    chat.wake_all()
                    if reported:
                        log.warning("Redis at %s answers again", chat.where())
                        reported = False
        except redis.RedisError as error:
            if not reported:
                log.warning("Redis at %s is not answering (%s); retrying", chat.where(), error)
                reported = True
        finally:
            try:
                pubsub.close()
            except redis.RedisError:
                pass
        chat.wake_all()
        gevent.sleep(RECONNECT_PAUSE)


def heartbeat_forever(chat: Any) -> None:
    from chat_core import ChatError

    while True:
        try:
            chat.heartbeat()
        except ChatError:
            pass  # Redis is away; the subscriber says so
        gevent.sleep(HEARTBEAT_EVERY)
