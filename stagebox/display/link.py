"""DisplayLink: how the engine starts, feeds and stops the display process.

The engine thread calls `publish(snapshot)` after every audio period. It must never wait on
the display, so `publish` only puts the snapshot in a one-slot mailbox (replacing one not yet
sent: a stale snapshot is worth nothing to a display that wants the newest) and wakes a sender
thread. The sender pickles the snapshot and writes it to the display's pipe; if the display
stalls and the pipe fills, it is the sender that waits, while newer snapshots keep replacing
each other in the mailbox. The display drains the pipe to its last item every refresh. So the
newest snapshot always reaches the display, and the engine thread never blocks on it (the
mailbox lock is held only to swap one reference).

The process is started with the spawn context (a clean interpreter: no copy of the engine's
threads, locks or audio handles). If it dies (a bug, the OOM killer), `publish` notices within
half a second and starts a new one, at most once per `restart_delay`. Closing a laptop window
ends the process cleanly (exit 0 after a `closed` status) and is not undone. If the engine's
process dies, the pipe closes and the display ends too, releasing the monitor.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import threading
import time
from typing import Any

from stagebox.display.config import DisplayConfig
from stagebox.display.process import DisplayStatus, run_process
from stagebox.snapshot import SnapshotChange, StageSnapshot
from stagebox.worker import Worker, WorkerError

log = logging.getLogger(__name__)

CHECK_INTERVAL = 0.5  # seconds between liveness checks made by publish()
JOIN_TIMEOUT = 2.0  # seconds to wait for the sender thread at stop


class _Sender(Worker):
    """Writes the newest snapshot from the mailbox to the display's pipe, as what changed
    since the one sent before (`SnapshotChange`): the first send to a process is whole."""

    name = "stagebox-display-sender"
    label = "the display sender"

    def __init__(self, conn: Any, min_interval: float = 0.0) -> None:
        super().__init__()
        self.conn = conn
        # seconds between sends: the display's own frame period. The engine publishes every
        # audio period (~190 a second at 256 samples, 48 kHz); pickling each costs a core's
        # share for nothing, as the display draws the newest one per refresh anyway.
        self.min_interval = min_interval
        self.sent = 0
        self.lock = threading.Lock()
        self._ready = threading.Event()  # a snapshot waits in the mailbox (or a stop)
        self.pending: StageSnapshot | None = None
        self.last: StageSnapshot | None = None  # the snapshot the display has now
        self.broken = False  # the display's end is gone

    def put(self, snapshot: StageSnapshot) -> bool:
        """Leave `snapshot` for sending; True if it replaced one not yet sent."""
        with self.lock:
            replaced = self.pending is not None
            self.pending = snapshot
        self.wake()
        return replaced

    def wake(self) -> None:
        self._ready.set()

    def run(self) -> None:
        last = 0.0
        while not self.stopping.is_set():
            self._ready.wait(0.5)
            wait = last + self.min_interval - time.monotonic()
            if wait > 0 and self.stopping.wait(wait):  # newer ones replace each other meanwhile
                return
            self._ready.clear()
            with self.lock:
                snapshot, self.pending = self.pending, None
            if snapshot is None or self.stopping.is_set():
                continue
            try:
                # may wait while the display is stalled
                self.conn.send(SnapshotChange.between(self.last, snapshot))
            except (OSError, ValueError, EOFError):
                self.broken = True  # the process died; DisplayLink.check restarts it
                return
            self.last = snapshot
            last = time.monotonic()
            self.sent += 1

    def close(self) -> None:
        """Stop sending: the pipe is closed first, which unblocks a send waiting on a
        stalled display, then the thread is joined."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.conn.close()
        with contextlib.suppress(WorkerError):  # a thread that will not end is left behind
            self.stop(JOIN_TIMEOUT, raise_error=False)


class DisplayLink:
    """The engine's handle on the display process."""

    def __init__(self, config: DisplayConfig, restart_delay: float = 2.0) -> None:
        self.config = config
        self.restart_delay = restart_delay  # seconds: minimum time between (re)starts
        self.restarts = 0  # times the process was restarted after dying
        self.dropped = 0  # snapshots replaced by a newer one before they were sent
        self._ctx = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._sender: _Sender | None = None
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
        self._release()

    def __enter__(self) -> DisplayLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- feeding ------------------------------------------------------------------------------

    def publish(self, snapshot: StageSnapshot) -> bool:
        """Hand the display the newest snapshot; never blocks. False when no display runs."""
        if not self._running:
            return False
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + CHECK_INTERVAL
            self.check()
        sender = self._sender
        if sender is None:
            return False
        if sender.put(snapshot):
            self.dropped += 1
        return True

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
                self._release()
                return
            if time.monotonic() - self._started_at < self.restart_delay:
                return  # a crash loop restarts at most once per restart_delay
            log.warning(
                "display: process %s died (exit code %s); restarting it",
                process.pid,
                process.exitcode,
            )
            self._release()
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
        receive, send = self._ctx.Pipe(duplex=False)
        self._outbox = self._ctx.Queue(64)
        self._stop = self._ctx.Event()
        self._process = self._ctx.Process(
            target=run_process,
            args=(self.config, receive, self._outbox, self._stop),
            name="stagebox-display",
            daemon=True,
        )
        self._process.start()
        # Only the display holds the reading end now, so its death breaks the pipe.
        receive.close()
        self._sender = _Sender(send, 1.0 / self.config.refresh_hz)
        self._sender.start()
        self._started_at = time.monotonic()
        log.info("display: process %s started (%s backend)", self._process.pid, self.config.backend)

    def _release(self) -> None:
        """Close the sender and the status queue of a process that has ended."""
        if self._sender is not None:
            self._sender.close()
            self._sender = None
        self._drain_status()
        if self._outbox is not None:
            self._outbox.cancel_join_thread()  # never wait on a pipe nobody reads
            self._outbox.close()
            self._outbox = None
        self._process = None

    def _drain_status(self) -> None:
        if self._outbox is None:
            return
        while True:
            try:
                self._status = self._outbox.get_nowait()
            except (queue.Empty, EOFError, OSError):
                return
