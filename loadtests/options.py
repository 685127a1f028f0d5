"""The scenario's knobs: Locust command-line options, and the settings a run reads from them.

The options are registered through Locust's `init_command_line_parser` hook, so they show in
the web UI and the master hands them to its workers. Workers only learn the values when a
test starts: read `ScenarioOptions.from_parsed(environment.parsed_options)` then, not at import.
"""

import argparse
from dataclasses import dataclass
from typing import Any

WORKLOADS = ("chat", "ticker", "burst", "idle")
HEADER_PROFILES = ("minimal", "browser")

# The send interval when --send-interval is not given: MEASURING.md's defaults per workload.
DEFAULT_SEND_INTERVAL = {"chat": 5.0, "ticker": 1.0, "burst": 5.0, "idle": 0.0}


def register_options(parser: Any) -> None:
    """Add the scenario's options to Locust's parser (a LocustArgumentParser)."""
    # the parser's own add_argument: only it understands include_in_web_ui
    parser.add_argument(
        "--workload",
        choices=WORKLOADS,
        default="chat",
        help="chat | ticker | burst | idle (see MEASURING.md)",
    )
    parser.add_argument("--room-size", type=int, default=10, help="members per room")
    parser.add_argument(
        "--send-interval",
        type=float,
        default=0.0,
        help="seconds between a sender's messages (0: the workload's default: "
        "chat 5, ticker 1, burst 5)",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=1.0, help="short polling: seconds between polls"
    )
    parser.add_argument(
        "--long-poll-timeout",
        type=float,
        default=25.0,
        help="long polling: seconds the server may hold a poll",
    )
    parser.add_argument(
        "--header-profile",
        choices=HEADER_PROFILES,
        default="minimal",
        help="minimal: only the headers the protocol needs; browser: the set a "
        "desktop browser sends, with the session cookie",
    )
    parser.add_argument(
        "--burst-size", type=int, default=20, help="burst: messages a publisher sends back to back"
    )
    parser.add_argument(
        "--private-share",
        type=float,
        default=0.1,
        help="chat: share of messages sent privately to a room member",
    )
    parser.add_argument(
        "--drop-every",
        type=float,
        default=0.0,
        help="cut each receiving connection about every N seconds and resume "
        "from the cursor (0: never)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=10.0,
        help="seconds to wait at the end for messages still on their way",
    )
    parser.add_argument(
        "--lab-window",
        type=float,
        default=0.0,
        include_in_web_ui=False,
        help="stop the run this many seconds after every user is ready (0: stop by -t or by hand)",
    )
    parser.add_argument(
        "--lab-output",
        default="",
        include_in_web_ui=False,
        help="folder for the scenario's counts and raw latency samples",
    )


@dataclass(frozen=True, slots=True)
class ScenarioOptions:
    workload: str = "chat"
    room_size: int = 10
    send_interval: float = 5.0
    poll_interval: float = 1.0
    long_poll_timeout: float = 25.0
    header_profile: str = "minimal"
    burst_size: int = 20
    private_share: float = 0.1
    drop_every: float = 0.0
    drain_timeout: float = 10.0
    lab_window: float = 0.0
    lab_output: str = ""

    @classmethod
    def from_parsed(cls, parsed: argparse.Namespace | None) -> "ScenarioOptions":
        if parsed is None:
            return cls()
        workload = getattr(parsed, "workload", "chat")
        interval = float(getattr(parsed, "send_interval", 0.0) or 0.0)
        options = cls(
            workload=workload,
            room_size=int(parsed.room_size),
            send_interval=interval or DEFAULT_SEND_INTERVAL[workload],
            poll_interval=float(parsed.poll_interval),
            long_poll_timeout=float(parsed.long_poll_timeout),
            header_profile=parsed.header_profile,
            burst_size=int(parsed.burst_size),
            private_share=float(parsed.private_share),
            drop_every=float(parsed.drop_every),
            drain_timeout=float(parsed.drain_timeout),
            lab_window=float(parsed.lab_window),
            lab_output=str(parsed.lab_output or ""),
        )
        options.check()
        return options

    def check(self) -> None:
        """Refuse settings the scenario cannot run, with the reason."""
        if self.workload not in WORKLOADS:
            raise ValueError(f"--workload must be one of {', '.join(WORKLOADS)}")
        if self.header_profile not in HEADER_PROFILES:
            raise ValueError(f"--header-profile must be one of {', '.join(HEADER_PROFILES)}")
        if self.room_size < 1:
            raise ValueError("--room-size must be at least 1")
        if self.workload != "idle" and self.send_interval <= 0:
            raise ValueError("--send-interval must be positive")
        if self.poll_interval <= 0 or self.long_poll_timeout <= 0:
            raise ValueError("--poll-interval and --long-poll-timeout must be positive")
        if not 0 <= self.private_share <= 1:
            raise ValueError("--private-share must be between 0 and 1")
        if self.burst_size < 1:
            raise ValueError("--burst-size must be at least 1")

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}
