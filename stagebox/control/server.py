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
import json
import logging
import os
import pwd
import socket
import socketserver
import stat
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

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
Checker = Callable[[str, dict], dict]

LISTEN_BACKLOG = 512  # connections queued before accept(): 200 clients at once fit

_peer = threading.local()  # the Peer whose request this handler thread is serving


def current_peer() -> Peer | None:
    """Who sent the request being dispatched on this thread (None off a control thread)."""
    return getattr(_peer, "current", None)


def one_line(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first + (" ..." if "\n" in text else "")


@dataclass(frozen=True)
class Peer:
    """The process at the other end of a connection, as the kernel vouches (SO_PEERCRED)."""

    pid: int
    uid: int
    gid: int
    user: str  # the uid's login name, or the number when it has none

    @classmethod
    def of(cls, conn: socket.socket) -> Peer:
        try:
            raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pid, uid, gid = struct.unpack("3i", raw)
        except (OSError, AttributeError, struct.error):
            return cls(0, -1, -1, "unknown")
        try:
            user = pwd.getpwuid(uid).pw_name
        except KeyError:
            user = str(uid)
        return cls(pid, uid, gid, user)

    def log(self, cmd: str, args: dict | None, outcome: str) -> None:
        """The audit line: what was asked, by whom, and what came of it."""
        shown = " ".join(f"{k}={_short(v)}" for k, v in (args or {}).items())
        log.info(
            "audit: %s%s by %s (uid %d, pid %d): %s",
            cmd,
            f" {shown}" if shown else "",
            self.user,
            self.uid,
            self.pid,
            outcome,
            extra={"CLIENT_USER": self.user, "CLIENT_UID": str(self.uid), "COMMAND": cmd},
        )


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=True)  # control characters escaped, one line
    return text if len(text) <= 80 else text[:77] + "..."


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.peer = Peer.of(self.request)
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
            cmd = None
            try:
                cmd, args = decode_request(line)
                if self.server.check is not None:
                    args = self.server.check(cmd, args)
                _peer.current = self.peer
                reply = reply_ok(self.server.dispatch(cmd, args))
                if self.server.audited(cmd):
                    self.peer.log(cmd, args, "done")
            except ControlError as exc:
                reply = reply_error(str(exc))
                if cmd is not None and self.server.audited(cmd):
                    self.peer.log(cmd, None, f"refused: {one_line(str(exc))}")
            except Exception as exc:  # a bug must not kill the socket; the journal gets it
                log.exception("control command failed")
                reply = reply_error(f"internal error: {exc}")
            finally:
                _peer.current = None
            try:
                self.wfile.write(encode(reply))
            except (BrokenPipeError, ConnectionResetError):
                return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = False
    # Connections waiting to be accepted. 5 (socketserver's) turns a burst of clients away
    # with EAGAIN; the kernel caps this at net.core.somaxconn (4096 on current kernels).
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        path: str,
        dispatch: Dispatcher,
        check: Checker | None = None,
        audited: Callable[[str], bool] | None = None,
    ) -> None:
        self.dispatch = dispatch
        self.check = check
        self.audited = audited or (lambda cmd: False)
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
        self,
        path: str,
        dispatch: Dispatcher,
        *,
        mode: int = 0o660,
        group: str | None = None,
        check: Checker | None = None,
        audited: Callable[[str], bool] | None = None,
    ) -> None:
        """`check(cmd, args)` validates a request's arguments before `dispatch` sees them
        (the service's is control.schema.check_args); `audited(cmd)` says which commands get
        an audit line in the journal with the peer's user (SO_PEERCRED)."""
        self.path = path
        self.dispatch = dispatch
        self.check = check
        self.audited = audited
        self.mode = mode
        self.group = group
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        _remove_stale_socket(self.path)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._server = _Server(self.path, self.dispatch, self.check, self.audited)
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
