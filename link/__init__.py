"""An emulated network link: a TCP relay that delays, paces and counts what crosses it.

The lab runs on loopback, where a round trip takes ~0.1 ms, and this kernel has no `netem`;
`link.relay.Link` puts a chosen round-trip time (and optionally jitter and a rate cap)
between a client and a server in user space, on gevent's event loop. `chatlab link`
(`link.command`) is its command, `link.process` starts that command as a child process, and
`link.cost` measures what the relay itself costs. Nothing here imports gevent until a link
is started (`chatlab --help` stays light).
"""
