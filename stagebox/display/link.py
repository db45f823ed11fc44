"""DisplayLink: how the engine starts, feeds and stops the display process.

The engine thread calls `publish(snapshot)` after every audio period. It must never wait on
the display, so `publish` only hands the snapshot to a bounded `multiprocessing.Queue` with
`put_nowait` (the queue's own feeder thread pickles and writes it to the pipe). When the queue
is full because the display is busy or gone, the oldest snapshot is dropped to make room: the
display only ever wants the newest one, and it drains the queue to the last item each refresh.

The process is started with the spawn context (a clean interpreter: no copy of the engine's
threads, locks or audio handles). If it dies (a bug, the OOM killer), `publish` notices within
half a second and starts a new one, at most once per `restart_delay`. Closing a laptop window
ends the process cleanly (exit 0 after a `closed` status) and is not undone.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import time
from typing import Any

from stagebox.display.config import DisplayConfig
from stagebox.display.process import DisplayStatus, run_process
from stagebox.snapshot import StageSnapshot

log = logging.getLogger(__name__)

CHECK_INTERVAL = 0.5  # seconds between liveness checks made by publish()


class DisplayLink:
    """The engine's handle on the display process."""

    def __init__(
        self,
        config: DisplayConfig,
        queue_size: int = 4,
        restart_delay: float = 2.0,
    ) -> None:
        self.config = config
        self.queue_size = queue_size  # snapshots in flight; older ones are dropped
        self.restart_delay = restart_delay  # seconds: minimum time between (re)starts
        self.restarts = 0  # times the process was restarted after dying
        self.dropped = 0  # snapshots dropped because the display was behind
        self._ctx = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._inbox: Any = None
        self._outbox: Any = None
        self._stop: Any = None
        self._status: DisplayStatus | None = None
        self._started_at = -1e9
        self._next_check = 0.0
        self._running = False  # between start() and stop()
        self._closed_by_user = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the display process (returns at once; the screen opens in the background)."""
        if self._running:
            return
        self._running = True
        self._closed_by_user = False
        self._spawn()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the process to stop, wait `timeout` s, then terminate, then kill."""
        self._running = False
        process = self._process
        if process is None:
            return
        self._stop.set()
        process.join(timeout)
        if process.is_alive():
            log.warning(
                "display: process %s did not stop in %g s; terminating", process.pid, timeout
            )
            process.terminate()
            process.join(1.0)
        if process.is_alive():
            process.kill()
            process.join(1.0)
        self._drain_status()
        self._close_queues()
        self._process = None

    def __enter__(self) -> DisplayLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- feeding ------------------------------------------------------------------------------

    def publish(self, snapshot: StageSnapshot) -> bool:
        """Hand the display the newest snapshot; never blocks. False if it was not queued."""
        if not self._running:
            return False
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + CHECK_INTERVAL
            self.check()
        if self._process is None:
            return False
        try:
            self._inbox.put_nowait(snapshot)
            return True
        except queue.Full:
            pass
        # Full: drop the oldest snapshot (non-blocking) and try once more.
        try:
            self._inbox.get_nowait()
            self.dropped += 1
        except queue.Empty:
            pass
        try:
            self._inbox.put_nowait(snapshot)
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def check(self) -> None:
        """Restart the process if it died (called by publish; callable on its own)."""
        if not self._running or self._closed_by_user:
            return
        process = self._process
        if process is not None:
            if process.exitcode is None:
                return  # alive
            self._drain_status()
            if process.exitcode == 0 and self._status and self._status.state == "closed":
                log.info("display: window closed; not reopening it")
                self._closed_by_user = True
                self._close_queues()
                self._process = None
                return
            if time.monotonic() - self._started_at < self.restart_delay:
                return  # a crash loop restarts at most once per restart_delay
            log.warning(
                "display: process %s died (exit code %s); restarting it",
                process.pid,
                process.exitcode,
            )
            self._close_queues()
            self._process = None
            self.restarts += 1
        self._spawn()

    # -- reading back -------------------------------------------------------------------------

    def status(self) -> DisplayStatus | None:
        """The newest status the display process reported (None before the first)."""
        self._drain_status()
        return self._status

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    # -- internals ----------------------------------------------------------------------------

    def _spawn(self) -> None:
        self._inbox = self._ctx.Queue(self.queue_size)
        self._outbox = self._ctx.Queue(64)
        self._stop = self._ctx.Event()
        self._process = self._ctx.Process(
            target=run_process,
            args=(self.config, self._inbox, self._outbox, self._stop),
            name="stagebox-display",
            daemon=True,
        )
        self._process.start()
        self._started_at = time.monotonic()
        log.info("display: process %s started (%s backend)", self._process.pid, self.config.backend)

    def _drain_status(self) -> None:
        if self._outbox is None:
            return
        while True:
            try:
                self._status = self._outbox.get_nowait()
            except (queue.Empty, EOFError, OSError):
                return

    def _close_queues(self) -> None:
        for q in (self._inbox, self._outbox):
            if q is not None:
                q.cancel_join_thread()  # never wait on a pipe nobody reads
                q.close()
        self._inbox = self._outbox = None
