"""The control socket server: a thread accepting connections on a unix socket.

Each connection is served on its own short-lived thread; requests are handed to a dispatcher
(`handle(cmd, args) -> result`, raising ControlError to refuse). The dispatcher is the
service's: it answers queries from the latest stage snapshot and passes commands that change
the stage to the engine thread, which applies them on a period boundary, so that nothing a
client does can stall the audio.
"""

from __future__ import annotations

import contextlib
import grp
import logging
import os
import socket
import socketserver
import stat
import threading
from collections.abc import Callable

from stagebox.control.protocol import (
    MAX_LINE,
    ControlError,
    decode_request,
    encode,
    reply_error,
    reply_ok,
)

log = logging.getLogger("stagebox.control")

Dispatcher = Callable[[str, dict], object]


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.request)

    def finish(self) -> None:
        self.server.untrack(self.request)
        super().finish()

    def handle(self) -> None:
        while not self.server.stopping.is_set():
            line = self.rfile.readline(MAX_LINE + 1)
            if not line or self.server.stopping.is_set():
                return  # the client hung up, or the service is stopping: no more answers
            if len(line) > MAX_LINE:
                self.wfile.write(encode(reply_error("request too long")))
                return
            try:
                cmd, args = decode_request(line)
                reply = reply_ok(self.server.dispatch(cmd, args))
            except ControlError as exc:
                reply = reply_error(str(exc))
            except Exception as exc:  # a bug must not kill the socket; the journal gets it
                log.exception("control command failed")
                reply = reply_error(f"internal error: {exc}")
            try:
                self.wfile.write(encode(reply))
            except (BrokenPipeError, ConnectionResetError):
                return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, path: str, dispatch: Dispatcher) -> None:
        self.dispatch = dispatch
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(path, _Handler)

    def track(self, conn: socket.socket) -> None:
        with self._lock:
            if self.stopping.is_set():  # accepted in the instant stop() began
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def hang_up_all(self) -> None:
        """End every open connection: a handler blocked reading sees the end and returns."""
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class ControlServer:
    """Serves the control socket at `path` until `stop()`."""

    def __init__(
        self, path: str, dispatch: Dispatcher, *, mode: int = 0o660, group: str | None = None
    ) -> None:
        self.path = path
        self.dispatch = dispatch
        self.mode = mode
        self.group = group
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        _remove_stale_socket(self.path)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._server = _Server(self.path, self.dispatch)
        os.chmod(self.path, self.mode)
        if self.group:
            try:
                os.chown(self.path, -1, grp.getgrnam(self.group).gr_gid)
            except KeyError:
                log.warning("control socket group %r does not exist; left as is", self.group)
            except PermissionError as exc:
                log.warning("cannot give %s to group %r: %s", self.path, self.group, exc)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="control"
        )
        self._thread.start()
        log.info("control socket listening at %s", self.path)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, hang up every open connection, remove the socket."""
        if self._server is None:
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        # Connections already open would otherwise go on being answered by a service that is
        # shutting down (or gone); a client sees the connection close, as after a restart.
        self._server.hang_up_all()
        if self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError("control socket thread did not stop")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._server = None


def _remove_stale_socket(path: str) -> None:
    """Remove a socket left by a crashed service; refuse if one is still answering."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ControlError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)  # nobody home: stale
        return
    finally:
        probe.close()
    raise ControlError(f"another stagebox is already serving {path}")
