"""systemd integration: sd_notify (READY, STATUS, WATCHDOG, STOPPING) and the watchdog rule.

systemd-python's `daemon.notify` is used when it is installed; it returns False harmlessly
when the service is not run by systemd (no NOTIFY_SOCKET). Without the library (a laptop
without libsystemd), the same datagram is sent with the standard socket module, so the
protocol is the same everywhere and the tests can bind a datagram socket as NOTIFY_SOCKET.

The watchdog is fed only from the audio loop and only while audio really flows: a hung engine
or a dead sound card stops the pings, and systemd restarts the service (WatchdogSec).
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("stagebox.notify")


def _send(message: str) -> bool:
    """Send one message; False when there is no systemd or it refused (never raises: a
    status line systemd will not take must not stop the stage)."""
    try:
        return _deliver(message)
    except Exception as exc:
        log.warning("sd_notify %r refused: %s", message[:40], exc)
        return False


def _deliver(message: str) -> bool:
    try:
        from systemd import daemon  # systemd-python, optional off the Pi
    except ImportError:
        daemon = None
    if daemon is not None:
        return bool(daemon.notify(message))
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    if path.startswith("@"):
        path = "\0" + path[1:]  # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.sendto(message.encode(), path)
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", path, exc)
            return False
    return True


class Notifier:
    """Tells systemd how the service is doing."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self.ready_sent = False
        # WATCHDOG_USEC is set by systemd when WatchdogSec= is on; ping at half the period.
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        self.watchdog_interval = usec / 2e6 if usec > 0 else None  # seconds
        self._last_ping = 0.0
        self._last_status = ""

    def ready(self) -> None:
        """Audio flows: the service is up."""
        if not self.ready_sent:
            _send("READY=1")
            self.ready_sent = True

    def status(self, text: str) -> None:
        """One line shown by `systemctl status stagebox` (only sent when it changes)."""
        if text != self._last_status:
            self._last_status = text
            _send(f"STATUS={text}")

    def audio_flowing(self) -> None:
        """Called by the audio loop after each period it processed: feeds the watchdog."""
        if self.watchdog_interval is None:
            return
        now = self._clock()
        if now - self._last_ping >= self.watchdog_interval:
            self._last_ping = now
            _send("WATCHDOG=1")

    def stopping(self) -> None:
        _send("STOPPING=1")
