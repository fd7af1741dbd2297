"""The HTTP side of `docgen serve`: the listening socket, and uvicorn in a thread of its own.

The socket is bound here, before uvicorn starts, so a busy port is a `UsageError` naming the
port and `--port` (uvicorn would log it and exit), and `--port 0` knows its port at once.
uvicorn runs in a thread: the main thread keeps the signals (Ctrl-C stops a build and its
kernels the way it does in `docgen build`) and runs the builds, so pages are served while a
build runs.
"""

from __future__ import annotations

import errno
import socket
import threading
from dataclasses import dataclass

import uvicorn

from docgen.errors import UsageError
from docgen.serve.app import make_app
from docgen.serve.live import LiveSite

STOP_TIMEOUT_S = 5.0


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or a `UsageError` saying what to change."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UsageError(
            f"cannot serve on host {host!r}: {e.strerror}; pick another with --host"
        ) from e
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is already in use; pick another with --port N "
                "(--port 0 picks a free one)"
            ) from e
        raise UsageError(
            f"cannot serve on {host} port {port}: {e.strerror or e}; pick another with "
            "--port N or --host HOST"
        ) from e
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self, live: LiveSite) -> None:
        """Ends the event streams (so no connection holds the shutdown), then the server."""
        live.stop()
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT_S)
        self.sock.close()


def start(sock: socket.socket, live: LiveSite) -> RunningServer:
    config = uvicorn.Config(
        make_app(live),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="docgen-serve", daemon=True
    )
    thread.start()
    return RunningServer(server, thread, sock)
