"""Debian's nginx in front of two chatlab servers, configured by deploy/nginx.conf (only its
ports changed): on a free port, with its own prefix folder, stopped by its pid."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

from lab.redis_server import free_port
from lab.server_metrics import read_metrics

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONFIG = ROOT / "deploy" / "nginx.conf"


class NginxProxy:
    def __init__(self, folder: Path, upstream_ports: tuple[int, int]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        text = CONFIG.read_text()
        for placeholder, port in (("5001", upstream_ports[0]), ("5002", upstream_ports[1]),
                                  ("8080", self.port)):  # fmt: skip
            assert f"127.0.0.1:{placeholder};" in text
            text = text.replace(f"127.0.0.1:{placeholder};", f"127.0.0.1:{port};")
        config = self.folder / "nginx.conf"
        config.write_text(text)
        globals_ = f"daemon off; pid {self.folder}/nginx.pid; error_log {self.folder}/error.log;"
        with open(self.folder / "stderr.log", "w") as errors:
            self.process = subprocess.Popen(
                [NGINX, "-p", str(self.folder), "-c", str(config), "-g", globals_],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "stderr.log").read_text())
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx never answered")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


class Balanced:
    """Two chatlab servers on one Redis behind nginx, used as one server (`url`,
    `metrics()`, `stop()`)."""

    def __init__(self, folder: Path, servers: list[Any]) -> None:
        self.servers = servers
        self.config = servers[0].config
        self.proxy = NginxProxy(folder / "nginx", (servers[0].port, servers[1].port))
        self.url = self.proxy.url

    def metrics(self) -> dict[str, Any]:
        return read_metrics(self.url)

    def stop(self) -> None:
        self.proxy.stop()
        for server in self.servers:
            server.stop()
