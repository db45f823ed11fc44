"""The control socket client used by the CLI (`stagebox status`, `stagebox mode record`...)."""

from __future__ import annotations

import json
import os
import random
import socket
import time

from stagebox.control import DEFAULT_SOCKET
from stagebox.control.protocol import ControlError, encode
from stagebox.safefile import show_path

CONNECT_PATIENCE = 2.0  # seconds a busy or refusing socket is retried before giving up


class NotRunning(ControlError):
    """No service answers on the socket; the message says how to start it."""


class ControlClient:
    """One connection to the service; `call(cmd, **args)` returns the result or raises."""

    def __init__(self, path: str | None = None, timeout: float = 10.0) -> None:
        self.path = path or os.environ.get("STAGEBOX_SOCKET", DEFAULT_SOCKET)
        self.timeout = timeout  # seconds
        self._sock: socket.socket | None = None
        self._file = None

    def connect(self) -> ControlClient:
        """Connect, retrying a busy or refused socket with bounded backoff.

        A unix socket whose listen queue is full refuses at once with EAGAIN, and one whose
        service is restarting with ECONNREFUSED: both are retried (10 ms doubling to 200 ms,
        for at most CONNECT_PATIENCE seconds) before the client gives up with one line.
        """
        delay = 0.01  # seconds
        deadline = time.monotonic() + CONNECT_PATIENCE
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.path)
            except (BlockingIOError, ConnectionRefusedError, InterruptedError) as exc:
                sock.close()
                if time.monotonic() + delay > deadline:
                    if isinstance(exc, BlockingIOError):
                        raise ControlError(
                            f"stagebox is too busy to answer at {show_path(self.path)} (tried for "
                            f"{CONNECT_PATIENCE:g} s); try again"
                        ) from None
                    raise self._not_running() from None
                time.sleep(delay * (0.5 + random.random()))  # jitter: a burst spreads out
                delay = min(delay * 2, 0.2)
                continue
            except (FileNotFoundError, NotADirectoryError):
                sock.close()
                raise self._not_running() from None
            except PermissionError:
                sock.close()
                raise ControlError(
                    f"permission denied on {show_path(self.path)}: add yourself to the stagebox "
                    "group (sudo usermod -aG stagebox $USER) and log in again"
                ) from None
            except TimeoutError:
                sock.close()
                raise ControlError(
                    f"stagebox did not accept the connection within {self.timeout} s"
                ) from None
            except OSError as exc:  # ENAMETOOLONG, ENOTSOCK ...: the path itself is wrong
                sock.close()
                raise ControlError(
                    f"cannot connect to {show_path(self.path)}: {exc.strerror}"
                ) from None
            break
        self._sock = sock
        self._file = sock.makefile("rb")
        return self

    def _not_running(self) -> NotRunning:
        return NotRunning(
            f"stagebox is not running (nothing answers at {show_path(self.path)}); "
            "start it with: sudo systemctl start stagebox"
        )

    def call(self, cmd: str, **args) -> object:
        if self._sock is None:
            self.connect()
        assert self._sock is not None and self._file is not None
        try:
            self._sock.sendall(encode({"cmd": cmd, "args": args}))
            line = self._file.readline()
        except TimeoutError:
            raise ControlError(f"stagebox did not answer {cmd!r} within {self.timeout} s") from None
        except (BrokenPipeError, ConnectionResetError):
            raise NotRunning("stagebox closed the connection (is it stopping?)") from None
        if not line:
            raise NotRunning("stagebox closed the connection (is it stopping?)")
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
            raise ControlError(f"the reply to {cmd!r} is not JSON") from None
        if not isinstance(reply, dict):
            raise ControlError(f"the reply to {cmd!r} is not a JSON object")
        if not reply.get("ok"):
            raise ControlError(reply.get("error", "request refused"))
        return reply.get("result")

    def close(self) -> None:
        if self._file:
            self._file.close()
        if self._sock:
            self._sock.close()
        self._sock = self._file = None

    def __enter__(self) -> ControlClient:
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.close()
