"""One function per plot: each draws onto a matplotlib Axes from a sweep's rows and returns
its notes (what is missing, what is estimated). Files and backends belong to the builder."""

from .catalog import PLOTS as PLOTS
from .catalog import PlotSpec as PlotSpec
from .cost import cpu_per_message as cpu_per_message
from .cost import memory_per_connection as memory_per_connection
from .latency import latency_cdf as latency_cdf
from .latency import latency_vs_users as latency_vs_users
from .latency import poll_interval_tradeoff as poll_interval_tradeoff
from .network import burst_over_link as burst_over_link
from .network import latency_vs_rtt as latency_vs_rtt
from .peers import peer_cpu as peer_cpu
from .peers import users_per_core as users_per_core
from .wire import requests_and_empty_polls as requests_and_empty_polls
from .wire import wire_bytes_per_message as wire_bytes_per_message
