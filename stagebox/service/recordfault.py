"""Why takes cannot be written now: one answer, loud everywhere, gone when the cause is.

A take that cannot reach the disk is the one failure an ADR stage cannot forgive, so it is
never left to a line in a log. Two sources feed the fault:

- the take writer: a take that could not be opened (disk below its reserve, folder gone or
  read-only) or a writer that stopped for good; known the instant it happens;
- the takes folder itself, probed off the audio path by the disk watch every few seconds:
  it exists, is a folder, a file can be created in it, free space is above the reserve.

The writer's fault stands until a probe made after it finds the folder fit again (the next
take then opens), so the stage recovers by itself once space is freed or the folder is back.
While there is a fault: the journal has it at error priority (once per change), `status`,
the monitor, the front panel and the streamer screen show it in red, record mode will not
arm, and in record mode the record light flashes to tell the booth nothing is recorded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger("stagebox.service")

PROBE_NAME = ".stagebox-write-probe"
FLASH_PERIOD = 0.5  # seconds: the record light's flash cycle while nothing can be recorded


def probe_folder(folder: str | os.PathLike, free_bytes: int, reserve_bytes: int) -> str:
    """ "" when takes can be created in `folder`, else why not (one line)."""
    path = Path(folder)
    if not path.exists():
        return f"takes folder {path} is gone"
    if not path.is_dir():
        return f"takes folder {path} is not a folder"
    probe = path / PROBE_NAME
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.close(fd)
        probe.unlink()
    except OSError as exc:
        return f"takes folder {path}: cannot create a take: {exc.strerror or exc}"
    if free_bytes < reserve_bytes:
        return (
            f"takes disk full: {free_bytes / 1e6:.0f} MB free, below the "
            f"{reserve_bytes / 1e6:.0f} MB reserve"
        )
    return ""


class RecordFault:
    """The current record fault, from the writer's events and the folder probe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder = ""  # the last probe's answer
        self._writer = ""  # the writer's last failure, until a later probe passes
        self._writer_at = 0.0  # monotonic time of that failure
        self._stopped = ""  # the writer stopped for good: only a restart mends it
        self._said = ""  # what the journal was last told

    def writer_failed(self, message: str, *, for_good: bool = False) -> None:
        with self._lock:
            if for_good:
                self._stopped = f"take writer stopped: {message}; restart the service"
            else:
                self._writer, self._writer_at = message, time.monotonic()

    def probed(self, problem: str, started: float) -> None:
        """A folder probe that began at monotonic `started` found `problem` ("" = fit)."""
        with self._lock:
            self._folder = problem
            if not problem and started > self._writer_at:
                self._writer = ""

    @property
    def reason(self) -> str:
        """ "" when takes can be written, else the one line the crew sees."""
        with self._lock:
            return self._stopped or self._writer or self._folder

    def announce(self) -> str:
        """The reason, journalled at error priority when it changes (audio thread: one log
        call per change, no I/O of its own)."""
        reason = self.reason
        if reason != self._said:
            if reason:
                log.error("NOT RECORDING: %s", reason)
            else:
                log.warning("takes can be written again (was: %s)", self._said)
            self._said = reason
        return reason

    @staticmethod
    def flash_state(now: float) -> bool:
        """The record light's state at monotonic `now` while it flashes."""
        return (now % FLASH_PERIOD) < FLASH_PERIOD / 2
