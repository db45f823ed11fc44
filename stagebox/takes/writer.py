"""The take writer thread: the only code that touches the disk while the stage records.

The engine thread calls `open_take`, `write`, `close_take`; each only appends to an in-memory
queue and returns at once (no file system call, no waiting on a lock held across I/O). One
writer thread drains the queue into a `TakeFile`, syncing at least twice a second.

Rules the engine can rely on:
- `write` never blocks. When the queue holds more than `queue_seconds` of audio (an SSD stall
  longer than that), the block is dropped, an `overflow` event is raised and the status says so;
  the writer fills the gap with silence of the same length, so everything after it stays on the
  right sample (the take stays in sync with its TimeReference, with a hole, reported).
- Disk full mid-take: the take is closed valid with the frames that made it, a `disk_full` event
  is raised, the rest of that take's audio is discarded, and the writer keeps running.
- A take that cannot be opened (disk below its reserve, folder gone or read-only) is an
  `open_failed` event and `status().open_error` says why until a take opens again: the writer
  itself carries on, so the next take opens as soon as the cause is gone. A take whose file
  name already exists is opened under the next free take number (`fallback`), never over it.
- An unexpected failure in the thread is kept and reported (`status().error`, a
  `writer_failed` event; the open take is closed with what it had, waiting requests get the
  error) and the writer starts again on what comes next. Only a writer that keeps failing
  (`MAX_RESTARTS` in a minute) stops for good, and `stop()` raises `TakeWriterError` with the
  cause. Nothing is silent.

Event delivery is pull-based (`events()` drains a bounded deque) so the writer never calls into
engine code and neither side can deadlock the other.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stagebox.takes.bwf import (
    DEFAULT_ALIGN,
    DEFAULT_IXML_RESERVE,
    RF64_THRESHOLD,
    TakeFile,
    TakeFormat,
)
from stagebox.takes.disk import OS_DISK, DiskFullError, TakeDisk, TakeError, TakeExistsError
from stagebox.takes.meta import TakeMetadata, TakeMetadataError
from stagebox.takes.space import DEFAULT_DISK_RESERVE
from stagebox.worker import Worker

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SECONDS = 10.0  # seconds of audio the queue holds through an SSD stall
DEFAULT_SYNC_INTERVAL = 0.25  # seconds between header updates (at least twice a second)
MAX_RESTARTS = 5  # unexpected writer failures in RESTART_WINDOW before it gives up for good
RESTART_WINDOW = 60.0  # seconds
MAX_FALLBACKS = 100  # take numbers tried past one whose file already exists


class TakeWriterError(RuntimeError):
    """The writer thread failed or would not stop; the cause is attached."""


@dataclass(frozen=True)
class TakeEvent:
    """Something the engine should know: opened, closed, disk_full, overflow, open_failed,
    error, writer_failed."""

    kind: str
    path: Path | None
    message: str
    frames: int = 0  # frames in the take (closed/disk_full) or dropped (overflow)


@dataclass(frozen=True)
class WriterStatus:
    """A snapshot the engine can read at any time."""

    recording: bool  # a take is open in the writer thread
    path: Path | None  # the current (or last) take
    frames_written: int  # frames of the current/last take on disk
    queued_frames: int  # frames waiting in the queue
    dropped_frames: int  # frames lost to queue overflow in the current/last take
    discarded_frames: int  # frames thrown away because no take was open (disk full, failure)
    error: str | None  # the last problem (disk full, overflow, failure); None when all is well
    alive: bool  # the writer thread is running
    open_error: str | None = None  # why the last take could not be opened (None once one has)


class TakeRequest:
    """The outcome of an `open_take`/`close_take`, known once the writer thread has done it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.error: BaseException | None = None
        self.take: int | None = None  # open: the take number used, when a fallback renamed it
        self.frames = 0  # close: frames of the take on disk
        self.cut_short: str | None = None  # close: why the take ended before its punch-out
        self._done = threading.Event()

    def _finish(self, path: Path | None = None, error: BaseException | None = None) -> None:
        if path is not None:
            self.path = path
        self.error = error
        self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> Path | None:
        """Wait for the writer (not from the engine thread!); re-raise its error."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"take writer did not finish {self.path} within {timeout} s")
        if self.error is not None:
            raise self.error
        return self.path


class TakeWriter(Worker):
    """One writer thread and its queue. `start()`, then open/write/close takes, then `stop()`.

    A `Worker` like every thread of the service; its stop is a request in the queue (behind
    the audio already queued: nothing queued is lost) and its failure for good reaches the
    service's `on_failure` report."""

    name = "take-writer"
    label = "the take writer"
    error_class = TakeWriterError

    @classmethod
    def from_config(cls, takes) -> TakeWriter:
        """A writer set up as `[takes]` of the config says (queue, disk reserve); not started."""
        return cls(
            queue_seconds=takes.writer_queue_seconds,
            disk_reserve_bytes=takes.disk_reserve_mb * 1_000_000,
        )

    def __init__(
        self,
        *,
        queue_seconds: float = DEFAULT_QUEUE_SECONDS,
        sync_interval: float = DEFAULT_SYNC_INTERVAL,
        disk_reserve_bytes: int = DEFAULT_DISK_RESERVE,
        rf64_threshold: int = RF64_THRESHOLD,
        align: int = DEFAULT_ALIGN,
        ixml_reserve: int = DEFAULT_IXML_RESERVE,
        disk: TakeDisk = OS_DISK,
        max_events: int = 1000,
    ) -> None:
        super().__init__()
        if queue_seconds <= 0:
            raise ValueError(f"queue_seconds must be positive, not {queue_seconds}")
        if not 0 < sync_interval <= 0.5:
            raise ValueError(f"sync_interval must be in (0, 0.5] s, not {sync_interval}")
        self.queue_seconds = queue_seconds
        self.sync_interval = sync_interval
        self.disk_reserve_bytes = disk_reserve_bytes
        self._file_options = {
            "rf64_threshold": rf64_threshold,
            "align": align,
            "ixml_reserve": ixml_reserve,
            "disk": disk,
        }
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque = collections.deque()
        self._queued_frames = 0  # frames of audio in the queue
        self._capacity = 0  # frames the queue may hold for the current take
        self._channels = 0  # engine side: channels of the take being fed, 0 = none
        self._events: collections.deque[TakeEvent] = collections.deque(maxlen=max_events)
        self._failure: BaseException | None = None
        self._in_overflow = False
        self._pending: list = []  # items taken from the queue, not yet done (writer thread)
        # Written by the writer thread, read by status() (single assignments: no lock needed).
        self._take: TakeFile | None = None
        self._path: Path | None = None
        self._frames_written = 0
        self._dropped = 0
        self._discarded = 0
        self._error: str | None = None
        self._open_error: str | None = None
        self._cut_short: str | None = None  # why the current/last take ended early

    # --- engine side: never blocks, never touches the disk --------------------------------

    def open_take(
        self,
        path: str | os.PathLike,
        sample_rate: int,
        channels: int,
        bits: int = 24,
        time_reference: int = 0,
        metadata: TakeMetadata | None = None,
        *,
        sample_format: str = "int",
        fallback: Callable[[int], tuple[int, Path, TakeMetadata]] | None = None,
    ) -> TakeRequest:
        """Queue the opening of a take; frames written after this call go into it.

        The format is checked here (a ValueError at once); the disk checks (the take must not
        exist, free space above the reserve) happen in the writer thread: see the returned
        request and the `opened`/`open_failed` events. `fallback(n)` names the n-th take
        after this one (take number, path, metadata), tried when a name is taken already.
        """
        fmt = TakeFormat(sample_rate, channels, bits, sample_format)
        meta = (metadata or TakeMetadata()).with_file_facts(time_reference=time_reference)
        request = TakeRequest(Path(path))
        if self._failure is not None:  # stopped for good: nobody would ever answer
            request._finish(error=TakeWriterError(f"take writer failed: {self._failure}"))
            return request
        with self._cond:
            self._capacity = int(self.queue_seconds * sample_rate)
            self._channels = channels
            self._in_overflow = False
            self._queue.append(("open", request, fmt, meta, fallback))
            self._cond.notify()
        return request

    def write(self, block: np.ndarray) -> bool:
        """Hand a (frames, channels) block to the writer (copied). False if it was dropped."""
        frames = len(block)
        if frames == 0:
            return True
        if self._channels == 0:
            raise TakeWriterError("write() with no take open: call open_take() first")
        if block.ndim != 2 or block.shape[1] != self._channels:
            raise ValueError(f"block shape {block.shape} is not (frames, {self._channels})")
        with self._cond:
            if self._queued_frames + frames > self._capacity or self._failure is not None:
                self._drop(frames)
                return False
            self._queue.append(("audio", np.array(block, copy=True)))
            self._queued_frames += frames
            self._in_overflow = False
            self._cond.notify()
        return True

    def _drop(self, frames: int) -> None:
        # Called with the lock held. A gap item keeps the take in sync: the writer writes
        # silence of the same length.
        if self._queue and self._queue[-1][0] == "gap":
            self._queue[-1] = ("gap", self._queue[-1][1] + frames)
        else:
            self._queue.append(("gap", frames))
        self._dropped += frames
        if not self._in_overflow:
            self._in_overflow = True
            what = "writer failed" if self._failure is not None else "queue full"
            self._error = f"{what}: audio dropped ({self.queue_seconds:.1f} s queue)"
            self._events.append(TakeEvent("overflow", self._path, self._error, frames))
        self._cond.notify()

    def close_take(self, *, note: str | None = None, circled: bool | None = None) -> TakeRequest:
        """Queue the end of the take (after all its queued audio); optional iXML note/circle."""
        request = TakeRequest(None)
        if self._failure is not None:
            self._channels = 0
            request._finish(error=TakeWriterError(f"take writer failed: {self._failure}"))
            return request
        with self._cond:
            self._channels = 0
            self._queue.append(("close", request, note, circled))
            self._cond.notify()
        return request

    def status(self) -> WriterStatus:
        return WriterStatus(
            recording=self._take is not None,
            path=self._path,
            frames_written=self._frames_written,
            queued_frames=self._queued_frames,
            dropped_frames=self._dropped,
            discarded_frames=self._discarded,
            error=self._error,
            alive=self.alive,
            open_error=self._open_error,
        )

    def events(self) -> list[TakeEvent]:
        """Take and clear the events raised since the last call."""
        out = []
        while True:
            try:
                out.append(self._events.popleft())
            except IndexError:
                return out

    def stop(self, timeout: float = 10.0, raise_error: bool = True) -> None:
        """Write what is queued, close any open take, join the thread; raise if it failed."""
        if self._thread is None and self.error is None:
            return
        super().stop(timeout, raise_error)

    def wake(self) -> None:
        """The stop, queued behind the audio already queued (which is written first)."""
        with self._cond:
            self._channels = 0
            self._queue.append(("stop",))
            self._cond.notify()

    # --- the writer thread ------------------------------------------------------------------

    def run(self) -> None:
        """Drain the queue; after an unexpected failure start again, unless it keeps failing
        (then the failure ends the thread and `Worker` reports it)."""
        failures: list[float] = []  # monotonic times of unexpected failures
        while True:
            try:
                self._loop()
                return
            except BaseException as exc:  # surfaced through status(), events() and stop()
                now = time.monotonic()
                failures = [t for t in failures if now - t < RESTART_WINDOW] + [now]
                fatal = len(failures) >= MAX_RESTARTS or not isinstance(exc, Exception)
                self._fail(exc, fatal)
                if fatal:
                    raise

    def _fail(self, exc: BaseException, fatal: bool) -> None:
        """An unexpected failure: report it, close the open take with what it had, answer
        whoever waits, drop what was queued. `fatal`: the writer stops for good."""
        with self._cond:
            if fatal:
                self._failure = exc
            pending = self._pending + list(self._queue)
            self._pending = []
            self._queue.clear()
            self._queued_frames = 0
        what = "failed for good" if fatal else "failed and started again"
        self._error = f"take writer {what}: {exc!r}"
        self._events.append(TakeEvent("writer_failed", self._path, self._error))
        if not fatal:  # a failure for good ends the thread: `Worker` logs and reports it
            log.error("%s", self._error, exc_info=exc)
        self._abandon_take()
        for item in pending:
            # Nobody waiting on an open/close may hang: they get the failure.
            if item[0] in ("open", "close") and not item[1].done():
                error = TakeWriterError(f"take writer failed: {exc}")
                error.__cause__ = exc
                item[1]._finish(error=error)
            elif item[0] == "stop" and not fatal:  # a stop asked for meanwhile still stops
                with self._cond:
                    self._queue.append(item)

    def _loop(self) -> None:
        next_sync = time.monotonic() + self.sync_interval
        while True:
            with self._cond:
                while not self._queue:
                    wait = next_sync - time.monotonic()
                    if self._take is not None and wait <= 0:
                        break
                    self._cond.wait(wait if self._take is not None else None)
                self._pending = list(self._queue)
                self._queue.clear()
            while self._pending:
                item = self._pending[0]
                kind = item[0]
                if kind == "audio":
                    with self._cond:
                        self._queued_frames -= len(item[1])
                    self._write(item[1], silence=0)
                elif kind == "gap":
                    self._write(None, silence=item[1])
                elif kind == "open":
                    self._open(*item[1:])
                    next_sync = time.monotonic() + self.sync_interval
                elif kind == "close":
                    self._close(*item[1:])
                elif kind == "stop":
                    if self._take is not None:
                        self._close(TakeRequest(None), None, None)
                    self._pending.clear()
                    return
                self._pending.pop(0)
            if self._take is not None and time.monotonic() >= next_sync:
                self._sync()
                next_sync = time.monotonic() + self.sync_interval

    def _open(
        self,
        request: TakeRequest,
        fmt: TakeFormat,
        meta: TakeMetadata,
        fallback: Callable[[int], tuple[int, Path, TakeMetadata]] | None,
    ) -> None:
        if self._take is not None:
            self._events.append(
                TakeEvent("error", self._path, "a take was opened before the last was closed")
            )
            self._close(TakeRequest(None), None, None)
        with self._cond:
            self._path = request.path
            self._frames_written = 0
            self._dropped = 0
            self._error = None
            self._cut_short = None
        path, tried = request.path, 0
        while True:
            try:
                self._take = TakeFile(
                    path,
                    fmt,
                    meta,
                    disk_reserve_bytes=self.disk_reserve_bytes,
                    **self._file_options,
                )
                break
            except TakeExistsError as exc:
                tried += 1
                if fallback is None or tried > MAX_FALLBACKS:
                    return self._open_failed(request, path, exc)
                taken = path.name
                request.take, path, meta = fallback(tried)
                log.warning("%s exists already: recording take %d as %s", taken, request.take, path)
            except (OSError, TakeMetadataError, ValueError) as exc:
                # A full disk, a folder gone or read-only: this take is lost (reported), the
                # writer is not; the next take opens as soon as the cause is gone.
                return self._open_failed(request, path, exc)
        with self._cond:
            self._path = request.path = Path(path)
        self._open_error = None
        self._events.append(TakeEvent("opened", self._path, f"recording {self._path.name}"))
        request._finish(self._path)

    def _open_failed(self, request: TakeRequest, path: Path, exc: BaseException) -> None:
        self._take = None
        message = str(exc) if isinstance(exc, TakeError) else f"{path}: cannot open take: {exc}"
        self._error = self._open_error = message
        self._events.append(TakeEvent("open_failed", Path(path), message))
        log.error("%s", message)
        request._finish(error=exc)

    def _write(self, block: np.ndarray | None, silence: int) -> None:
        take = self._take
        frames = silence if block is None else len(block)
        if take is None:
            self._discarded += frames
            return
        try:
            if block is None:
                take.write_silence(silence)
            else:
                take.write(block)
        except DiskFullError as exc:
            self._finish_after_failure("disk_full", exc)
        except TakeError as exc:
            self._finish_after_failure("error", exc)
        else:
            self._frames_written = take.frames

    def _finish_after_failure(self, kind: str, exc: Exception) -> None:
        take = self._take
        self._take = None
        message = str(exc)
        try:
            take.close()
        except TakeError as close_exc:
            message += f"; closing it also failed: {close_exc}"
        self._frames_written = take.frames
        self._error = self._cut_short = message
        self._events.append(TakeEvent(kind, take.path, message, take.frames))
        log.error("%s", message)

    def _sync(self) -> None:
        try:
            self._take.sync()
        except TakeError as exc:
            self._finish_after_failure("error", exc)

    def _close(self, request: TakeRequest, note: str | None, circled: bool | None) -> None:
        take = self._take
        if take is None:  # already closed by a failure (reported then), or never opened
            request.frames, request.cut_short = self._frames_written, self._cut_short
            request._finish(self._path)
            return
        self._take = None
        try:
            take.close(note=note, circled=circled)
        except TakeError as exc:
            self._error = str(exc)
            self._events.append(TakeEvent("error", take.path, str(exc), take.frames))
            request.frames = take.frames
            request._finish(take.path, exc)
            return
        self._frames_written = request.frames = take.frames
        self._events.append(
            TakeEvent("closed", take.path, f"{take.path.name}: {take.frames} frames", take.frames)
        )
        request._finish(take.path)

    def _abandon_take(self) -> None:
        take, self._take = self._take, None
        if take is not None:
            self._frames_written = take.frames
            self._cut_short = "take writer failed"
            try:
                take.close()
            except Exception:  # the original failure is what gets reported
                log.exception("closing %s after a writer failure", take.path)
