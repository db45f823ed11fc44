"""The control socket client used by the CLI (`stagebox status`, `stagebox mode record`...)."""

from __future__ import annotations

import json
import os
import socket

from stagebox.control import DEFAULT_SOCKET
from stagebox.control.protocol import ControlError, encode


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
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise NotRunning(
                f"stagebox is not running (nothing answers at {self.path}); "
                "start it with: sudo systemctl start stagebox"
            ) from None
        except PermissionError:
            sock.close()
            raise ControlError(
                f"permission denied on {self.path}: add yourself to the stagebox group "
                "(sudo usermod -aG stagebox $USER) and log in again"
            ) from None
        self._sock = sock
        self._file = sock.makefile("rb")
        return self

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
        reply = json.loads(line)
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
