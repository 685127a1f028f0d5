"""The core's waiting primitives under gevent."""

import gevent.event
import gevent.lock

from chat_core.waiting import Event, Lock


class GeventWaiting:
    def event(self) -> Event:
        return gevent.event.Event()

    def lock(self) -> Lock:
        return gevent.lock.RLock()
