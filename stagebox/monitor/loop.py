"""The live monitor: poll `status` ten times a second over one connection and draw frames.

The terminal is put in cbreak mode (keys arrive one by one, Ctrl-C still interrupts) on the
alternate screen with the cursor hidden, and put back however the loop ends. When the service
is not there (stopped, restarting) the frame says so and the loop reconnects once a second.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from stagebox.control.client import ControlClient
from stagebox.control.protocol import ControlError
from stagebox.monitor.meter import PeakHold
from stagebox.monitor.render import meter_levels, render
from stagebox.signals import sigterm_exits

POLL_INTERVAL = 0.1  # seconds between `status` requests
RETRY_INTERVAL = 1.0  # seconds between reconnection attempts
ANSWER_TIMEOUT = 2.0  # seconds: a service this slow to answer is treated as gone
QUIT_KEYS = ("q", "Q")

ENTER = "\x1b[?1049h\x1b[?25l\x1b[2J"  # alternate screen, cursor hidden, cleared
LEAVE = "\x1b[0m\x1b[?25h\x1b[?1049l"  # colours reset, cursor shown, main screen back


def frame_text(lines: list[str]) -> str:
    """A whole frame drawn from the top-left corner, each line and the rest cleared.

    No newline after the last line, so a frame as tall as the terminal never scrolls it.
    """
    return "\x1b[H" + "\x1b[K\n".join(lines) + "\x1b[K\x1b[J"


@contextlib.contextmanager
def terminal(out: TextIO, keys_fd: int | None) -> Iterator[None]:
    """Alternate screen and cbreak mode for the duration; restored on any exit."""
    saved = None
    if keys_fd is not None:
        import termios
        import tty

        saved = termios.tcgetattr(keys_fd)
        tty.setcbreak(keys_fd)
    out.write(ENTER)
    out.flush()
    try:
        yield
    finally:
        out.write(LEAVE)
        out.flush()
        if saved is not None:
            import termios

            termios.tcsetattr(keys_fd, termios.TCSADRAIN, saved)


def read_key(fd: int | None, timeout: float) -> str:
    """A key pressed within `timeout` seconds, or "" (also when there is no keyboard)."""
    if fd is None:
        time.sleep(max(0.0, timeout))
        return ""
    ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
    if not ready:
        return ""
    data = os.read(fd, 64)
    return data.decode(errors="replace") if data else ""


class StatusSource:
    """One connection to the service, reopened when it goes away; `poll()` -> status or None."""

    def __init__(self, path: str | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.clock = clock
        self.error = ""  # why the last poll had no status
        self._client: ControlClient | None = None
        self._next_try = 0.0  # monotonic time of the next connection attempt

    def poll(self) -> dict | None:
        now = self.clock()
        if self._client is None:
            if now < self._next_try:
                return None
            client = ControlClient(self.path, timeout=ANSWER_TIMEOUT)
            try:
                client.connect()
            except ControlError as exc:
                self.error = str(exc)
                self._next_try = now + RETRY_INTERVAL
                return None
            self._client = client
        try:
            status = self._client.call("status")
        except (ControlError, OSError, ValueError) as exc:
            self.error = str(exc)
            self.close()
            self._next_try = now + RETRY_INTERVAL
            return None
        if not isinstance(status, dict):
            self.error = f"the service answered status with {type(status).__name__}"
            return None
        self.error = ""
        return status

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def run_monitor(
    path: str | None,
    out: TextIO = sys.stdout,
    keys_fd: int | None = None,
    *,
    colour: bool = True,
    ascii: bool = False,
    frames: int | None = None,
) -> None:
    """Draw the live monitor until `q`, Ctrl-C, SIGTERM, or `frames` frames have been drawn."""
    source = StatusSource(path)
    hold = PeakHold()
    drawn = 0
    with sigterm_exits(), terminal(out, keys_fd):
        try:
            while frames is None or drawn < frames:
                started = time.monotonic()
                status = source.poll()
                peaks = hold.update(meter_levels(status), started) if status else None
                size = shutil.get_terminal_size((80, 24))
                lines = render(
                    status,
                    size.columns,
                    size.lines,
                    hold=peaks,
                    colour=colour,
                    ascii=ascii,
                    error=source.error,
                )
                out.write(frame_text(lines))
                out.flush()
                drawn += 1
                key = read_key(keys_fd, started + POLL_INTERVAL - time.monotonic())
                if key and key[0] in QUIT_KEYS:
                    return
        except KeyboardInterrupt:
            return
        finally:
            source.close()
