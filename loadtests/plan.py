"""What a sweep runs: one `RunSpec` per run, and the presets of `chatlab bench`.

Every preset is a list of specs, so `--help` can say exactly what each one includes. A run
measures one server over one transport (`lab.servers`); `--transports` names them as
`TRANSPORT_CHOICES` spells them. A capacity run (`RunSpec.capacity`) steps its users up
instead of holding a count (loadtests/capacity_shape.py), on loopback.
"""

from dataclasses import dataclass, replace

from chat_core import Transport
from lab.servers import (
    BARE_BROADCAST,
    CHATLAB,
    SERVERS,
    SOCKETIO_POLLING,
    SOCKETIO_WEBSOCKET,
    client_name,
)

from .options import DEFAULT_SEND_INTERVAL, DEFAULTS, command_line

TRANSPORTS = tuple(str(t) for t in Transport)
LOCUSTFILES = {
    Transport.SHORT_POLL: "short_poll.py",
    Transport.LONG_POLL: "long_poll.py",
    Transport.SSE: "sse.py",
    Transport.WEBSOCKET: "ws.py",
}
# a peer's clients by the name they count under (lab.servers.client_name)
PEER_LOCUSTFILES = {
    SOCKETIO_POLLING: "socketio_polling.py",
    SOCKETIO_WEBSOCKET: "socketio_websocket.py",
}
CAPACITY_SHAPE = "capacity_shape.py"


def _transport_choices() -> dict[str, tuple[str, str]]:
    """chatlab's transports by their own names; another server's as SERVER:TRANSPORT, by the
    server's name alone where it speaks one transport, and by its clients' names for it
    (`socketio_polling`)."""
    choices = {}
    for server in SERVERS.values():
        for transport in server.transports:
            spelling = transport if server is CHATLAB else f"{server.name}:{transport}"
            choices[str(spelling)] = (server.name, str(transport))
        if server is not CHATLAB and len(server.transports) == 1:
            choices[server.name] = (server.name, str(server.transports[0]))
        for transport, spelling in server.spelled:
            choices[spelling] = (server.name, str(transport))
    return choices


TRANSPORT_CHOICES = _transport_choices()  # `--transports` spelling → (server, transport)
BARE = BARE_BROADCAST.name  # spelled so in a plan: the bare loop over WebSocket
PEERS = (SOCKETIO_POLLING, SOCKETIO_WEBSOCKET)  # Flask-SocketIO's long polling and WebSocket
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
    # the network: None runs on loopback; a number puts `chatlab link` of that round trip
    # between the users and the server (jitter and a rate cap with it, if set)
    rtt_ms: float | None = None
    jitter_ms: float = 0.0
    rate_kbit: float | None = None
    new_connection: bool = False  # HTTP receive requests each on a new TCP connection
    # a capacity run: (first step's users, factor, largest step's users); `users` is the
    # largest and `window` each step's measured seconds
    capacity: tuple[int, float, int] | None = None

    @classmethod
    def of(cls, choice: str, *args: object, **fields: object) -> "RunSpec":
        """A spec for a `--transports` spelling, e.g. "sse" or "bare_broadcast"."""
        server, transport = TRANSPORT_CHOICES[choice]
        return cls(transport, *args, server=server, **fields)  # type: ignore[arg-type]

    @property
    def client(self) -> str:
        """The name its clients count under (their ledger, latency files, the metrics)."""
        return client_name(self.server, self.transport)

    @property
    def locustfile(self) -> str:
        return PEER_LOCUSTFILES.get(self.client) or LOCUSTFILES[Transport(self.transport)]

    @property
    def effective_send_interval(self) -> float:
        return self.send_interval or DEFAULT_SEND_INTERVAL[self.workload]

    @property
    def spawn_rate(self) -> float:
        """Users started per second: a ramp of about a second (two from 1,000 users on),
        within what one server core can log in and connect."""
        return float(min(500, max(10, self.users)))

    @property
    def linked(self) -> bool:
        """Whether the users reach the server through an emulated link."""
        return self.rtt_ms is not None

    def link_options(self) -> list[str]:
        """`chatlab link`'s options beyond --rtt for this run."""
        words = ["--jitter", f"{self.jitter_ms:g}"] if self.jitter_ms else []
        return words + (["--rate", f"{self.rate_kbit:g}"] if self.rate_kbit else [])

    def run_name(self, index: int) -> str:
        server = [] if self.server == CHATLAB.name else [self.server]
        parts = [f"{index:02d}", *server, self.transport, self.workload, f"u{self.users}"]
        if self.room_size != DEFAULTS.room_size:
            parts.append(f"room{self.room_size}")
        if self.transport == Transport.SHORT_POLL and self.poll_interval != DEFAULTS.poll_interval:
            parts.append(f"poll{self.poll_interval:g}")
        if self.header_profile != DEFAULTS.header_profile:
            parts.append(self.header_profile)
        if self.rtt_ms is not None:
            parts.append(f"rtt{self.rtt_ms:g}")
        if self.jitter_ms:
            parts.append(f"jitter{self.jitter_ms:g}")
        if self.rate_kbit:
            parts.append(f"rate{self.rate_kbit:g}")
        if self.new_connection:
            parts.append("newconn")
        if self.capacity is not None:
            parts[parts.index(f"u{self.users}")] = "capacity"
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
            new_connection_per_request=self.new_connection,
        )

    def capacity_options(self) -> list[str]:
        """loadtests/capacity_shape.py's options for a capacity run."""
        assert self.capacity is not None
        start, factor, largest = self.capacity
        return [f"--capacity-start={start}", f"--capacity-factor={factor:g}",
                f"--capacity-largest={largest}", f"--capacity-hold={self.window:g}"]  # fmt: skip


def _each(choices: tuple[str, ...], **fields: object) -> list[RunSpec]:
    return [RunSpec.of(choice, **fields) for choice in choices]


QUICK_RTT_MS = 100.0  # 50 ms each way: Hickson's "50 ms" packet, and his 150 ms beside it
HTTP_TRANSPORTS = ("short_poll", "long_poll", "sse")


_OVER = ", over a "


def _over(label: str, rtt_ms: float | None) -> str:
    """A run's label with its round trip (the label alone on loopback)."""
    base = label.split(_OVER)[0]
    return base if rtt_ms is None else f"{base}{_OVER}{rtt_ms:g} ms round trip"


# Bursts small enough that the server's own time to fan them out stays well under a transit,
# so the transits show: two publishers, bursts of 10 into rooms of 5.
NETWORK_BURST = dict(workload="burst", users=10, room_size=5, burst_size=10, send_interval=1.5)


def _network(users: int, rtts: tuple[float, ...], window: float) -> list[RunSpec]:
    """The argument over a network: chat over every transport at each round trip; a new
    connection per poll beside keep-alive (the handshake's cost, "150 ms → 50 ms"); and
    long polling under bursts (up to three transits, a round trip more when it reconnects)."""
    plan: list[RunSpec] = []
    for rtt in rtts:
        plan += _each(TRANSPORTS, workload="chat", users=users, window=window, rtt_ms=rtt,
                      label=_over("chat", rtt))  # fmt: skip
    rtt = QUICK_RTT_MS if QUICK_RTT_MS in rtts else rtts[-1]
    fresh_polls = _over("a new connection per poll", rtt)
    plan.append(RunSpec("short_poll", "chat", users, window=window, rtt_ms=rtt,
                        new_connection=True, label=fresh_polls))  # fmt: skip
    for fresh in (False, True):
        what = "bursts of 10" + (", a new connection per poll" if fresh else "")
        plan.append(RunSpec("long_poll", window=window, rtt_ms=rtt, new_connection=fresh,
                            label=_over(what, rtt), **NETWORK_BURST))  # type: ignore[arg-type]  # fmt: skip
    return plan


def quick() -> list[RunSpec]:
    """About two and a half minutes: every part of the argument, each at its smallest."""
    window = 2.5
    plan = [
        spec
        for users in QUICK_USERS
        for spec in _each(TRANSPORTS, workload="chat", users=users, window=window)
    ]
    plan.append(RunSpec.of(BARE, "chat", QUICK_USERS[-1], window=window,
                           label="the bare broadcast loop, same load"))  # fmt: skip
    plan += _each(PEERS, workload="chat", users=QUICK_USERS[-1], window=window,
                  label="Flask-SocketIO, same load")  # fmt: skip
    for interval in (0.25, 2.0):  # the poll-interval trade-off (1 s is in the chat rows)
        plan.append(RunSpec("short_poll", "chat", QUICK_USERS[0], poll_interval=interval,
                            window=window, label=f"poll every {interval:g} s"))  # fmt: skip
    for profile in ("minimal", "browser"):  # the header-overhead table
        plan += _each(TRANSPORTS, workload="ticker", users=20, header_profile=profile,
                      window=2.0, label=f"ticker, {profile} headers")  # fmt: skip
    return plan + _network(QUICK_USERS[0], (QUICK_RTT_MS,), window=window)


ROOM_OF_100 = dict(workload="chat", users=100, room_size=100, send_interval=1.0,
                   private_share=0.0, label="one room of 100, a message a second each")  # fmt: skip


# Capacity: chat from 250 users, doubling to 4,000, each step measured 4 s after a send
# interval of settling; over chatlab's four transports and Flask-SocketIO's two.
CAPACITY_STEPS = (250, 2.0, 4000)
CAPACITY_HOLD_S = 4.0


def capacity_runs(choices: tuple[str, ...] = (*TRANSPORTS, *PEERS),
                  steps: tuple[int, float, int] = CAPACITY_STEPS,
                  hold: float = CAPACITY_HOLD_S, **fields: object) -> list[RunSpec]:  # fmt: skip
    """A capacity run per transport: the chat workload, the user count stepped up."""
    values: dict[str, object] = dict(workload="chat", label="capacity, users stepped up")
    values.update(fields)
    return _each(choices, users=steps[2], window=hold, capacity=steps, **values)


def default() -> list[RunSpec]:
    """About fifteen minutes: what the report draws from, at more sizes and round trips,
    Flask-SocketIO beside chatlab, and where each transport hits the wall."""
    plan: list[RunSpec] = []
    for users in (100, 300, 1000):  # the everyday cost, up to 1,000 users
        plan += _each(TRANSPORTS, workload="chat", users=users, window=8.0)
        if users >= 300:  # each transport beside its Flask-SocketIO counterpart
            plan += _each(PEERS, workload="chat", users=users, window=8.0,
                          label="Flask-SocketIO, same load")  # fmt: skip
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
    plan += _each(("websocket", BARE, SOCKETIO_WEBSOCKET), window=8.0, **ROOM_OF_100)  # type: ignore[arg-type]
    # the link's own cost at the sweep's load: the same chat through a link of rtt 0
    plan.append(RunSpec("websocket", "chat", 100, window=6.0, rtt_ms=0.0,
                        label=_over("chat through the link", 0.0)))  # fmt: skip
    return plan + _network(100, (50.0, QUICK_RTT_MS, 200.0), window=6.0) + capacity_runs()


def targets() -> list[RunSpec]:
    """The issue's target scenarios, at full size (about three minutes)."""
    plan = _each((*TRANSPORTS, SOCKETIO_POLLING), workload="chat", users=1000, window=20.0,
                 label="1,000 users in rooms of 10")  # fmt: skip
    plan += _each(("websocket", BARE, SOCKETIO_WEBSOCKET), window=15.0, **ROOM_OF_100)  # type: ignore[arg-type]
    plan += _each(("websocket", "long_poll"), workload="idle", users=5000, window=3.0,
                  label="5,000 connections held open")  # fmt: skip
    return plan


PRESETS = {"quick": quick, "default": default, "targets": targets, "capacity": capacity_runs}


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


def with_window(plan: list[RunSpec], window: float) -> list[RunSpec]:
    return [replace(spec, window=window) for spec in plan]


def with_network(
    plan: list[RunSpec],
    rtts: list[float] | None = None,
    jitter_ms: float | None = None,
    rate_kbit: float | None = None,
    new_connection: bool = False,
) -> list[RunSpec]:
    """The plan with the command line's network: every run at each of `rtts` (its own round
    trip replaced), jitter and rate on every linked run, a new connection per request for
    chatlab's HTTP transports; runs that become the same are kept once. Capacity runs stay
    on loopback."""
    specs = plan
    if rtts:
        specs = [replace(spec, rtt_ms=rtt, label=_over(spec.label, rtt) if spec.label else "")
                 for spec in plan if spec.capacity is None for rtt in rtts]  # fmt: skip
        specs += [spec for spec in plan if spec.capacity is not None]
    changed: dict[RunSpec, RunSpec] = {}  # the run without its label → the run, first label kept
    for spec in specs:
        if spec.linked and jitter_ms is not None:
            spec = replace(spec, jitter_ms=jitter_ms)
        if spec.linked and rate_kbit is not None:
            spec = replace(spec, rate_kbit=rate_kbit)
        fresh = spec.server == CHATLAB.name and spec.capacity is None
        if new_connection and fresh and spec.transport in HTTP_TRANSPORTS:
            spec = replace(spec, new_connection=True)
        changed.setdefault(replace(spec, label=""), spec)
    return list(changed.values())
