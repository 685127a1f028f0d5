"""The one chat scenario, run unchanged over every transport.

`ChatUser` holds the scenario; a concrete user only names its client class (see ws.py and its
siblings). A user logs in, starts receiving, joins its room, waits for the room to open, and
then plays its part in the workload:

- chat: every user sends every S seconds (random phase); a share of its messages goes
  privately to another member of its room;
- ticker: the room's first member publishes every S seconds (default 1); the others listen;
- burst: the room's first member sends B messages back to back every S seconds, keeping
  `SENDS_IN_FLIGHT` sends in flight at once (as a browser's connections to one host allow:
  over a link with a round trip, one send at a time would space a burst one RTT apart);
- idle: nobody sends (connections held open, for memory per connection).

Every delivery is a `deliver` request in Locust's statistics, timed from the sender's `ts`.
"""

import random
import time
from typing import Any, ClassVar

import gevent
import gevent.event
from locust import User, constant, events, task
from locust.exception import StopUser

from .clients import SENDS_IN_FLIGHT, ChatClient, ClientSettings, SendFailed, SetupFailed
from .coordinator import Coordinator
from .generator import Generator, install
from .options import register_options

TEXT = "The quick brown fox jumps over the lazy dog"  # 43 characters, ASCII


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    register_options(parser)


@events.init.add_listener
def _roles(environment: Any, **_: Any) -> None:
    install(environment, Coordinator)


class ChatUser(User):
    abstract = True
    client_class: ClassVar[type[ChatClient]]
    host = "http://127.0.0.1:5000"
    wait_time = constant(0)  # the workload paces itself

    def on_start(self) -> None:
        generator = Generator.current
        assert generator is not None, "the chatlab scenario was not installed (no init event?)"
        self.generator = generator
        self.options = generator.options
        self.transport = self.client_class.transport
        self.name, self.room, self.ledger = generator.enroll(self.transport)
        self.sequence = 0
        settings = ClientSettings(
            base_url=self.host,
            header_profile=self.options.header_profile,
            poll_interval=self.options.poll_interval,
            long_poll_timeout=self.options.long_poll_timeout,
            drop_every=self.options.drop_every,
            new_connection_per_request=self.options.new_connection_per_request,
        )
        self.chat = self.client_class(self.name, settings, generator.fire, inbox=self)
        try:
            self.chat.login()
            self.chat.start_receiving()
            self.chat.join(self.room.name)
        except SetupFailed:
            generator.user_failed(self.transport, self.room, self.name)
            self.chat.close()
            raise StopUser() from None
        if self.options.workload == "idle":
            self.chat.release_api()
        generator.user_ready(self.transport, self.room, self)

    def on_stop(self) -> None:
        chat = getattr(self, "chat", None)
        if chat is None:
            return
        if self in self.generator.users:
            self.generator.user_stopped(self.transport, self)
        chat.close()

    @task
    def play(self) -> None:
        if not self.room.opened.wait(timeout=1.0):
            return  # Locust calls the task again
        if not self.generator.sending:
            gevent.sleep(1.0)  # the run is ending: this user is about to be stopped
            return
        workload = self.options.workload
        interval = self.options.send_interval
        publisher = self.name == self.room.publisher
        if workload == "chat":
            self._every(interval, self._chat_message)
        elif workload == "ticker" and publisher:
            self._every(interval, lambda: self._send(room=self.room.name))
        elif workload == "burst" and publisher:
            self._every(interval, self._burst)
        else:
            self.generator.pause(1.0)  # a listener: nothing to do but receive

    # -- the workloads ----------------------------------------------------------------------

    def _every(self, interval: float, action: Any) -> None:
        """Call `action` every `interval` seconds from a random phase, at a fixed rate (a late
        call is not made up for), until sending stops."""
        due = time.monotonic() + random.uniform(0, interval)
        while self.generator.sending:
            wait = due - time.monotonic()
            if wait > 0:
                self.generator.pause(wait)
            if not self.generator.sending:
                return
            action()
            due = max(due + interval, time.monotonic())

    def _chat_message(self) -> None:
        others = self.room.others(self.name)
        if others and random.random() < self.options.private_share:
            self._send(to=random.choice(others))
        else:
            self._send(room=self.room.name)

    def _burst(self) -> None:
        remaining = iter(range(self.options.burst_size))  # shared by the senders below
        refused = gevent.event.Event()

        def sender() -> None:
            for _ in remaining:
                if refused.is_set() or not self._send(room=self.room.name):
                    refused.set()
                    return

        senders = min(SENDS_IN_FLIGHT, self.options.burst_size)
        gevent.joinall([gevent.spawn(sender) for _ in range(senders)])

    def _send(self, room: str | None = None, to: str | None = None) -> bool:
        """One message, registered with the ledger before it leaves; False if refused."""
        if not self.generator.sending:
            return False
        self.sequence += 1
        cid = f"{self.name}-{self.sequence}"
        recipients = self.room.members if room is not None else (self.name, to)
        self.ledger.expect(cid, recipients)
        self.generator.send_started()
        try:
            self.chat.send(TEXT, cid, time.time(), room=room, to=to)
        except SendFailed:
            self.ledger.withdraw(cid)
            return False
        finally:
            self.generator.send_ended()
        self.ledger.accepted()
        return True

    # -- the inbox (called by the client's receiving greenlet) ------------------------------

    def message(self, message: dict[str, Any], arrival: float, size: int) -> None:
        latency = self.ledger.received(
            self.name,
            message.get("cid"),
            message["id"],
            message.get("ts"),
            arrival,
            size,
            accepted_at=message.get("at"),
        )
        if latency is not None:
            self.generator.fire("deliver", self.transport, latency, size, None)

    def gap(self) -> None:
        self.ledger.gap()

    def reconnected(self, resumed: int) -> None:
        self.ledger.reconnected(resumed)
