"""The scenario's knobs: Locust command-line options, and the settings a run reads from them.

`ScenarioOptions` holds every knob and its default; the options are registered from it
through Locust's `init_command_line_parser` hook, so they show in the web UI and the master
hands them to its workers. Workers only learn the values when a test starts: read
`ScenarioOptions.from_parsed(environment.parsed_options)` then, not at import.
"""

import argparse
from dataclasses import dataclass, fields
from typing import Any

WORKLOADS = ("chat", "ticker", "burst", "idle")
HEADER_PROFILES = ("minimal", "browser")

# The send interval when --send-interval is not given: docs/MEASURING.md's defaults per workload.
DEFAULT_SEND_INTERVAL = {"chat": 5.0, "ticker": 1.0, "burst": 5.0, "idle": 0.0}


@dataclass(frozen=True, slots=True)
class ScenarioOptions:
    workload: str = "chat"
    room_size: int = 10
    send_interval: float = DEFAULT_SEND_INTERVAL["chat"]  # seconds; as resolved for the workload
    poll_interval: float = 1.0
    long_poll_timeout: float = 25.0
    header_profile: str = "minimal"
    burst_size: int = 20
    private_share: float = 0.1
    drop_every: float = 0.0
    new_connection_per_request: bool = False
    drain_timeout: float = 10.0
    lab_window: float = 0.0
    lab_output: str = ""
    lab_server: str = ""
    lab_link_pid_file: str = ""
    lab_link_stats: str = ""
    lab_start_file: str = ""

    @classmethod
    def from_parsed(cls, parsed: argparse.Namespace | None) -> "ScenarioOptions":
        if parsed is None:
            return cls()
        values = {}
        for knob in fields(cls):
            given = getattr(parsed, knob.name, None)
            if given is None:
                values[knob.name] = knob.default
            elif isinstance(knob.default, bool):  # the web UI hands a checkbox over as text
                values[knob.name] = given is True or str(given).lower() in ("true", "on", "1")
            else:
                values[knob.name] = type(knob.default)(given)
        # 0 (the option's default) means the workload's own interval
        interval = values["send_interval"] or DEFAULT_SEND_INTERVAL[values["workload"]]
        options = cls(**{**values, "send_interval": interval})
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


DEFAULTS = ScenarioOptions()
_INTERVALS = ", ".join(f"{w} {s:g}" for w, s in DEFAULT_SEND_INTERVAL.items() if s)

# Every knob's option, after the field it sets: (field, extra argparse keywords, help).
_OPTIONS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("workload", {"choices": WORKLOADS}, "chat | ticker | burst | idle (see docs/MEASURING.md)"),
    ("room_size", {}, "members per room"),
    ("send_interval", {"default": 0.0},
     f"seconds between a sender's messages (0: the workload's default: {_INTERVALS})"),
    ("poll_interval", {}, "short polling: seconds between polls"),
    ("long_poll_timeout", {}, "long polling: seconds the server may hold a poll"),
    ("header_profile", {"choices": HEADER_PROFILES},
     "minimal: only the headers the protocol needs; browser: the set a desktop browser sends, "
     "with the session cookie"),
    ("burst_size", {}, "burst: messages a publisher sends back to back"),
    ("private_share", {}, "chat: share of messages sent privately to a room member"),
    ("drop_every", {},
     "cut each receiving connection about every N seconds and resume from the cursor "
     "(0: never)"),
    ("new_connection_per_request", {},
     "HTTP clients: open a new TCP connection for every request on the receiving channel "
     "and close it after the answer, as HTTP/1.0 polling did (default: keep-alive)"),
    ("drain_timeout", {}, "seconds to wait at the end for messages still on their way"),
    ("lab_window", {"include_in_web_ui": False},
     "stop the run this many seconds after every user is ready (0: stop by -t or by hand)"),
    ("lab_output", {"include_in_web_ui": False},
     "folder for the scenario's run files (lab.run_files)"),
    ("lab_server", {"include_in_web_ui": False},
     "read the server's metrics from this URL (default: --host; the sweep names the server "
     "itself when the users reach it through an emulated link)"),
    ("lab_link_pid_file", {"include_in_web_ui": False},
     "a file holding the pid of the `chatlab link` the users go through: its counts and CPU "
     "are read at both ends of the measurement window"),
    ("lab_link_stats", {"include_in_web_ui": False}, "that link's --stats file"),
    ("lab_start_file", {"include_in_web_ui": False},
     "start the users only once this file exists (the sweep writes it when the server, and "
     "the link, are ready)"),
)  # fmt: skip


def option(name: str) -> str:
    """The command-line option that sets the field `name`."""
    return "--" + name.replace("_", "-")


def register_options(parser: Any) -> None:
    """Add the scenario's options to Locust's parser (a LocustArgumentParser)."""
    # the parser's own add_argument: only it understands include_in_web_ui
    for name, extra, help_text in _OPTIONS:
        default = getattr(DEFAULTS, name)
        if isinstance(default, bool):  # a flag (a checkbox in the web UI)
            kind: dict[str, Any] = {"action": "store_true"}
        else:
            kind = {} if isinstance(default, str) else {"type": type(default)}
        parser.add_argument(option(name), **{"default": default, **kind, **extra}, help=help_text)


def command_line(**values: object) -> list[str]:
    """The options that set these fields, as the scenario's command line takes them (a flag
    only when it is on)."""
    words = []
    for name, value in values.items():
        if isinstance(value, bool):
            words += [option(name)] if value else []
        elif isinstance(value, float):
            words.append(f"{option(name)}={value:g}")
        else:
            words.append(f"{option(name)}={value}")
    return words
