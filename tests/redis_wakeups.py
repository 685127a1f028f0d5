"""A RedisChat's wakeups in a process without gevent: one subscriber thread, as the server's
one subscriber greenlet (transports/backplane.py)."""

import threading
from typing import Any


class ThreadSubscriber:
    def __init__(self, chat: Any) -> None:
        self.chat = chat
        self.pubsub = chat.redis.pubsub()
        self.pubsub.subscribe(chat.wake_channel)
        for _ in range(100):  # wait until subscribed: nothing published later is missed
            message = self.pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "subscribe":
                break
        else:
            raise RuntimeError("the subscription was never confirmed")
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            message = self.pubsub.get_message(timeout=0.1)
            if message is not None and message["type"] == "message":
                self.chat.wake(message["data"])

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.pubsub.close()
