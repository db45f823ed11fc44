"""The control socket server: one thread with a selector loop over a unix socket's clients.

Requests are handed to a dispatcher (`dispatch(cmd, args) -> result`, raising ControlError to
refuse). The dispatcher is the service's: it answers queries from the latest stage snapshot
and passes commands that change the stage to the engine thread, which applies them on a
period boundary, so that nothing a client does can stall the audio. Queries are answered on
the loop thread in arrival order; requests that wait go to a few worker threads (see
ControlServer). Every connection's peer is known from SO_PEERCRED, and the commands that
change the stage leave an audit line in the journal with the peer's user.
"""

from __future__ import annotations

import contextlib
import grp
import json
import logging
import os
import pwd
import queue
import selectors
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from stagebox.control.protocol import (
    MAX_LINE,
    ControlError,
    decode_request,
    encode,
    reply_error,
    reply_ok,
)
from stagebox.worker import Worker

log = logging.getLogger("stagebox.control")

Dispatcher = Callable[[str, dict], object]
Checker = Callable[[str, dict], dict]

LISTEN_BACKLOG = 512  # connections queued before accept(): 200 clients at once fit
WORKERS = 8  # threads for requests that wait (engine commands, disk, lights test)
RECV_BYTES = 65536  # bytes read from a client at a time
MAX_OUTBOX = 64 << 20  # bytes of replies a client may leave unread before it is hung up on
MAX_CONNECTIONS = 900  # open at once (the service's file descriptor limit is 1024)
ACCEPT_PAUSE = 0.5  # seconds without accepting when the limit or EMFILE is reached

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


class ControlServerError(RuntimeError):
    """The control socket's thread failed or would not stop."""


class _Connection:
    """One client: its socket, the bytes read but not yet a whole line, the replies not yet
    sent, and whether a request of it is with a worker (its later lines wait: replies go
    back in order)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.peer = Peer.of(sock)
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.busy = False  # a request is with a worker thread
        self.closing = False  # close once the outbox is sent


class ControlServer(Worker):
    """Serves the control socket at `path` until `stop()`.

    One thread runs a selector loop over the listening socket and every connection: it
    accepts, reads request lines, and answers the requests `inline(cmd)` allows (the
    service's queries, answered from the latest snapshot in well under a millisecond) in the
    order they arrive, so a crowd of clients is served first come, first served by one
    thread instead of a thread per client racing for the interpreter lock. Requests that can
    wait (on the engine's next period, the disk, a lights test) go to a small pool of worker
    threads; the loop goes on serving everyone else meanwhile. A client that sends a line
    longer than MAX_LINE, or stops reading its replies, is hung up on.

    A `Worker`: its loop thread's failure is logged and reaches the service's report.
    """

    name = "control"
    label = "the control socket"
    error_class = ControlServerError

    def __init__(
        self,
        path: str,
        dispatch: Dispatcher,
        *,
        mode: int = 0o660,
        group: str | None = None,
        check: Checker | None = None,
        audited: Callable[[str], bool] | None = None,
        inline: Callable[[str], bool] | None = None,
        workers: int = WORKERS,
    ) -> None:
        """`check(cmd, args)` validates a request's arguments before `dispatch` sees them
        (the service's is control.schema.check_args); `audited(cmd)` says which commands get
        an audit line in the journal with the peer's user (SO_PEERCRED); `inline(cmd)` which
        are answered on the loop thread (quick, never blocking); the rest go to `workers`
        worker threads."""
        super().__init__()
        self.path = path
        self.dispatch = dispatch
        self.mode = mode
        self.group = group
        self.check_args = check
        self.audited = audited or (lambda cmd: False)
        self.inline = inline or (lambda cmd: False)
        self._workers = workers
        self._listener: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._done: queue.SimpleQueue = queue.SimpleQueue()  # (connection, reply) from workers
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._connections: dict[int, _Connection] = {}
        self._paused_until = 0.0  # monotonic seconds: accepting again then (0: accepting)

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> ControlServer:
        """Bind the socket and start serving (a socket that cannot be bound raises here)."""
        _remove_stale_socket(self.path)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.path)
            # Connections waiting to be accepted: socketserver's 5 turned a burst of clients
            # away with EAGAIN. The kernel caps it at net.core.somaxconn (4096 nowadays).
            listener.listen(LISTEN_BACKLOG)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        os.chmod(self.path, self.mode)
        if self.group:
            try:
                os.chown(self.path, -1, grp.getgrnam(self.group).gr_gid)
            except KeyError:
                log.warning("control socket group %r does not exist; left as is", self.group)
            except PermissionError as exc:
                log.warning("cannot give %s to group %r: %s", self.path, self.group, exc)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(listener, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="control-worker")
        super().start()
        log.info("control socket listening at %s", self.path)
        return self

    def stop(self, timeout: float = 5.0, raise_error: bool = True) -> None:
        """Stop accepting, hang up every open connection, remove the socket."""
        if self._listener is None:
            return
        super().stop(timeout, raise_error)

    def closed(self) -> None:
        # Requests with a worker finish on their own (each is bounded: the engine's
        # COMMAND_TIMEOUT, one lights test step); their replies go nowhere.
        self._pool.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._listener = None

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        selector = self._selector
        try:
            while not self.stopping.is_set():
                for key, events in selector.select(timeout=0.1 if self._paused_until else 1.0):
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "wake":
                        with contextlib.suppress(OSError):
                            while self._wake_r.recv(4096):
                                pass
                    else:
                        conn = key.data
                        if events & selectors.EVENT_READ:
                            self._read(conn)
                        if events & selectors.EVENT_WRITE and conn.sock.fileno() >= 0:
                            self._flush(conn)
                    if self.stopping.is_set():
                        break
                self._collect()
                if self._paused_until and time.monotonic() >= self._paused_until:
                    self._resume_accepting()
        finally:
            # Hang up on everyone: a client sees the connection close, as after a restart.
            for conn in list(self._connections.values()):
                self._close(conn)
            selector.close()
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()

    def _accept(self) -> None:
        while True:
            if len(self._connections) >= MAX_CONNECTIONS:
                self._pause_accepting(f"{MAX_CONNECTIONS} connections open")
                return
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE: out of file descriptors
                self._pause_accepting(exc.strerror or str(exc))
                return
            sock.setblocking(False)
            conn = _Connection(sock)
            self._connections[sock.fileno()] = conn
            self._selector.register(sock, selectors.EVENT_READ, conn)

    def _pause_accepting(self, why: str) -> None:
        """Stop watching the listener for a while (new clients wait in the backlog, then
        their connect times out): a listener that stays readable would spin the loop."""
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(self._listener)
        self._paused_until = time.monotonic() + ACCEPT_PAUSE
        log.warning("control socket: not accepting for %g s: %s", ACCEPT_PAUSE, why)

    def _resume_accepting(self) -> None:
        self._paused_until = 0.0
        self._selector.register(self._listener, selectors.EVENT_READ, "listen")

    def _read(self, conn: _Connection) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client hung up: what it asked and did not wait for is dropped
            self._close(conn)
            return
        conn.inbox += data
        self._next_requests(conn)

    def _next_requests(self, conn: _Connection) -> None:
        """Answer the connection's whole lines, in order, until one goes to a worker."""
        while not conn.busy and not conn.closing:
            end = conn.inbox.find(b"\n")
            if end < 0:
                if len(conn.inbox) > MAX_LINE:
                    self._send(conn, reply_error("request too long"))
                    conn.closing = True
                break
            line = bytes(conn.inbox[: end + 1])
            del conn.inbox[: end + 1]
            if len(line) > MAX_LINE + 1:
                self._send(conn, reply_error("request too long"))
                conn.closing = True
                break
            try:
                cmd, args = decode_request(line)
            except ControlError as exc:
                self._send(conn, reply_error(str(exc)))
                continue
            try:
                if self.check_args is not None:
                    args = self.check_args(cmd, args)
            except ControlError as exc:
                self._send(conn, reply_error(str(exc)))
                if self.audited(cmd):
                    conn.peer.log(cmd, None, f"refused: {one_line(str(exc))}")
                continue
            if self.inline(cmd):
                self._send(conn, self._answer(conn.peer, cmd, args))
            else:
                conn.busy = True
                self._pool.submit(self._work, conn, cmd, args)
        self._flush(conn)

    def _work(self, conn: _Connection, cmd: str, args: dict) -> None:
        """On a worker thread: answer, and hand the reply back to the loop."""
        self._done.put((conn, self._answer(conn.peer, cmd, args)))
        self.wake()

    def _collect(self) -> None:
        """Replies the workers finished: send them, then the connection's next requests."""
        while True:
            try:
                conn, reply = self._done.get_nowait()
            except queue.Empty:
                return
            conn.busy = False
            if conn.sock.fileno() < 0:
                continue  # hung up meanwhile
            self._send(conn, reply)
            self._next_requests(conn)

    def _answer(self, peer: Peer, cmd: str, args: dict) -> dict:
        _peer.current = peer
        try:
            reply = reply_ok(self.dispatch(cmd, args))
            if self.audited(cmd):
                peer.log(cmd, args, "done")
        except ControlError as exc:
            reply = reply_error(str(exc))
            if self.audited(cmd):
                peer.log(cmd, args, f"refused: {one_line(str(exc))}")
        except Exception as exc:  # a bug must not kill the socket; the journal gets it
            log.exception("control command %r failed", cmd)
            reply = reply_error(f"internal error: {exc}")
        finally:
            _peer.current = None
        return reply

    # -- sending ------------------------------------------------------------------------------

    def _send(self, conn: _Connection, reply: dict) -> None:
        conn.outbox += encode(reply)
        if len(conn.outbox) > MAX_OUTBOX:  # the client does not read its replies
            log.warning(
                "control client %s (pid %d) does not read: hung up", conn.peer.user, conn.peer.pid
            )
            self._close(conn)

    def _flush(self, conn: _Connection) -> None:
        if conn.sock.fileno() < 0:
            return
        while conn.outbox:
            try:
                sent = conn.sock.send(conn.outbox)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # EPIPE, ECONNRESET: the client left
                self._close(conn)
                return
            del conn.outbox[:sent]
        if not conn.outbox and conn.closing:
            self._close(conn)
            return
        wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outbox else 0)
        with contextlib.suppress(KeyError, ValueError):
            if self._selector.get_key(conn.sock).events != wanted:
                self._selector.modify(conn.sock, wanted, conn)

    def _close(self, conn: _Connection) -> None:
        conn.closing = True
        fd = conn.sock.fileno()
        if fd < 0:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn.sock)
        self._connections.pop(fd, None)
        with contextlib.suppress(OSError):
            conn.sock.shutdown(socket.SHUT_RDWR)
        conn.sock.close()


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
