"""What a sweep runs: one `RunSpec` per run, and the presets of `chatlab bench`.

Every preset is a list of specs, so `--help` can say exactly what each one includes. A run
measures one server over one transport (`lab.servers`); `--transports` names them as
`TRANSPORT_CHOICES` spells them.
"""

import math
from dataclasses import dataclass, replace

from chat_core import Transport
from lab.servers import BARE_BROADCAST, CHATLAB, SERVERS

from .options import DEFAULT_SEND_INTERVAL, DEFAULTS, command_line

TRANSPORTS = tuple(str(t) for t in Transport)
LOCUSTFILES = {
    Transport.SHORT_POLL: "short_poll.py",
    Transport.LONG_POLL: "long_poll.py",
    Transport.SSE: "sse.py",
    Transport.WEBSOCKET: "ws.py",
}


def _transport_choices() -> dict[str, tuple[str, str]]:
    """chatlab's transports by their own names; another server's as SERVER:TRANSPORT, and by
    the server's name alone where it speaks one transport."""
    choices = {}
    for server in SERVERS.values():
        for transport in server.transports:
            spelling = transport if server is CHATLAB else f"{server.name}:{transport}"
            choices[str(spelling)] = (server.name, str(transport))
        if server is not CHATLAB and len(server.transports) == 1:
            choices[server.name] = (server.name, str(server.transports[0]))
    return choices


TRANSPORT_CHOICES = _transport_choices()  # `--transports` spelling → (server, transport)
BARE = BARE_BROADCAST.name  # spelled so in a plan: the bare loop over WebSocket
QUICK_USERS = (50, 200)  # the user counts of --quick, and of a plan that names none


@dataclass(frozen=True)
class RunSpec:
    transport: str  # a Transport value: what the Locust users speak
    workload: str
    users: int
    room_size: int = DEFAULTS.room_size
    send_interval: float = 0.0  # 0: the workload's default
    poll_interval: float = DEFAULTS.poll_interval
    long_poll_timeout: float = DEFAULTS.long_poll_timeout
    header_profile: str = DEFAULTS.header_profile
    burst_size: int = DEFAULTS.burst_size
    private_share: float = DEFAULTS.private_share
    window: float = 10.0  # seconds measured once every user is ready
    label: str = ""
    server: str = CHATLAB.name  # the server under test, a lab.servers.SERVERS name
    backend: str = "memory"  # chatlab's chat: in the process, or "redis" (a run's own Redis)
    workers: int = 1  # chatlab server processes (more than one: --workers N, on Redis)

    @classmethod
    def of(cls, choice: str, *args: object, **fields: object) -> "RunSpec":
        """A spec for a `--transports` spelling, e.g. "sse" or "bare_broadcast"."""
        server, transport = TRANSPORT_CHOICES[choice]
        return cls(transport, *args, server=server, **fields)  # type: ignore[arg-type]

    @property
    def locustfile(self) -> str:
        return LOCUSTFILES[Transport(self.transport)]

    @property
    def effective_send_interval(self) -> float:
        return self.send_interval or DEFAULT_SEND_INTERVAL[self.workload]

    @property
    def spawn_rate(self) -> float:
        """Users started per second: a ramp of about two seconds, within what one server core
        can log in and connect."""
        return float(min(500, max(10, math.ceil(self.users / 2))))

    def run_name(self, index: int) -> str:
        server = [] if self.server == CHATLAB.name else [self.server]
        parts = [f"{index:02d}", *server, self.transport, self.workload, f"u{self.users}"]
        if self.room_size != DEFAULTS.room_size:
            parts.append(f"room{self.room_size}")
        if self.transport == Transport.SHORT_POLL and self.poll_interval != DEFAULTS.poll_interval:
            parts.append(f"poll{self.poll_interval:g}")
        if self.header_profile != DEFAULTS.header_profile:
            parts.append(self.header_profile)
        if self.backend != "memory" or self.workers != 1:
            parts.append(f"{self.backend}-w{self.workers}")
        return "-".join(parts)

    def locust_options(self) -> list[str]:
        """The scenario's command-line options for this run."""
        return command_line(
            workload=self.workload,
            room_size=self.room_size,
            send_interval=self.send_interval,
            poll_interval=self.poll_interval,
            long_poll_timeout=self.long_poll_timeout,
            header_profile=self.header_profile,
            burst_size=self.burst_size,
            private_share=self.private_share,
        )


def _each(choices: tuple[str, ...], **fields: object) -> list[RunSpec]:
    return [RunSpec.of(choice, **fields) for choice in choices]


def quick() -> list[RunSpec]:
    """About a minute: the chat workload, every transport at 50 and 200 users."""
    return [
        spec
        for users in QUICK_USERS
        for spec in _each(TRANSPORTS, workload="chat", users=users, window=4.0)
    ]


ROOM_OF_100 = dict(workload="chat", users=100, room_size=100, send_interval=1.0,
                   private_share=0.0, label="one room of 100, a message a second each")  # fmt: skip


def default() -> list[RunSpec]:
    """About five minutes: what the report draws from."""
    plan: list[RunSpec] = []
    for users in (100, 300, 1000):  # the everyday cost, up to 1,000 users
        plan += _each(TRANSPORTS, workload="chat", users=users, window=8.0)
    for profile in ("minimal", "browser"):  # the header-overhead table
        plan += _each(TRANSPORTS, workload="ticker", users=100, header_profile=profile,
                      window=4.0, label=f"ticker, {profile} headers")  # fmt: skip
    for interval in (0.25, 2.0):  # the poll-interval trade-off (1 s is in the chat rows)
        plan.append(RunSpec("short_poll", "chat", 300, poll_interval=interval, window=6.0,
                            label=f"poll every {interval:g} s"))  # fmt: skip
    plan += _each(TRANSPORTS, workload="burst", users=20, send_interval=2.0, window=6.0,
                  label="bursts of 20 back to back")  # fmt: skip
    plan += _each(("websocket", "long_poll", "sse"), workload="idle", users=1000, window=3.0,
                  label="connections held open")  # fmt: skip
    plan += _each(("websocket", BARE), window=8.0, **ROOM_OF_100)  # type: ignore[arg-type]
    return plan


def targets() -> list[RunSpec]:
    """The issue's target scenarios, at full size (about three minutes)."""
    plan = _each(TRANSPORTS, workload="chat", users=1000, window=20.0,
                 label="1,000 users in rooms of 10")  # fmt: skip
    plan += _each(("websocket", BARE), window=15.0, **ROOM_OF_100)  # type: ignore[arg-type]
    plan += _each(("websocket", "long_poll"), workload="idle", users=5000, window=3.0,
                  label="5,000 connections held open")  # fmt: skip
    return plan


PRESETS = {"quick": quick, "default": default, "targets": targets}


def custom(
    transports: list[str],  # TRANSPORT_CHOICES spellings
    users: list[int],
    workload: str,
    poll_intervals: list[float],
    header_profile: str,
    window: float,
    send_interval: float = 0.0,
) -> list[RunSpec]:
    """A plan from the command line: every combination of what was chosen."""
    plan = []
    for count in users:
        for choice in transports:
            polls = TRANSPORT_CHOICES[choice][1] == Transport.SHORT_POLL
            for interval in poll_intervals if polls else [1.0]:
                plan.append(RunSpec.of(choice, workload, count, poll_interval=interval,
                                       header_profile=header_profile, window=window,
                                       send_interval=send_interval))  # fmt: skip
    return plan


BACKENDS = ("memory", "redis")


def across_backends(plan: list[RunSpec], backends: list[str], workers: list[int]) -> list[RunSpec]:
    """Each of chatlab's runs once per backend and worker count (`--backend`, `--workers`);
    several workers share the chat through Redis only, so memory runs keep one worker. Other
    servers' runs are kept as they are."""
    expanded: list[RunSpec] = []
    for spec in plan:
        if spec.server != CHATLAB.name:
            expanded.append(spec)
            continue
        for backend in backends:
            for count in workers if backend == "redis" else [1]:
                expanded.append(replace(spec, backend=backend, workers=count))
    return expanded


def with_window(plan: list[RunSpec], window: float) -> list[RunSpec]:
    return [replace(spec, window=window) for spec in plan]
