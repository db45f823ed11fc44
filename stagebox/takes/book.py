"""The take book: take numbers for the engine without the engine touching the disk.

The take log (`stagebox.takes.log.TakeLog`) persists every reservation and every take with an
fsync, and finds the highest take number of a cue by looking at the files in the folder. The
engine thread may do neither. So the take book keeps the next number of each cue in memory
(primed from the log when a cue sheet is loaded, off the audio path) and hands the log's
writes to its own thread, in order. Numbers still only ever go up, across restarts, because
the log and the files on disk are where the memory was primed from.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable

from stagebox.cues.cue import Cue
from stagebox.worker import Worker

log = logging.getLogger("stagebox.takes.book")

WRITER_WAIT = 120.0  # seconds the log thread waits for the writer to open or close a take


class TakeBook(Worker):
    """Take numbering and logging for the engine (engine side: memory and a queue only).
    Its log thread starts with it; `stop()` writes what is queued first."""

    name = "stagebox-take-book"
    label = "the take log thread"

    def __init__(self, takes, *, project: str = "") -> None:  # takes: stagebox.takes.log.TakeLog
        super().__init__()
        self.log = takes
        self.project = project
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        # Called on the log thread with each finished take's record and its guide channel
        # (a stagebox.takes.guidetrack.CapturedGuide, or None), once it is logged (the
        # service's sync scorer takes it from there). Set before takes are recorded.
        self.on_logged = None
        self.start()

    # -- off the audio path -------------------------------------------------------------------

    def prime(self, cues: Iterable[Cue]) -> None:
        """Read the next take number of every cue from the log and the folder (disk I/O)."""
        for cue in cues:
            number = self.log.upcoming_take(cue.number)
            with self._lock:
                self._next[cue.number] = max(self._next.get(cue.number, 1), number)

    # -- engine side --------------------------------------------------------------------------

    def next_take(self, cue: str) -> int:
        with self._lock:
            if cue not in self._next:
                # A cue that was not primed (should not happen): number after what memory has
                # and let the log thread confirm it; a clash is reported, never overwritten
                # (take files are opened exclusively).
                self._next[cue] = 1
                log.warning("cue %s was not primed; numbering from memory", cue)
            take = self._next[cue]
            self._next[cue] = take + 1
        self._queue.put(("reserve", cue, take))
        return take

    def upcoming(self, cue: str) -> int:
        """The number the next take of `cue` will get (for displays; reserves nothing)."""
        with self._lock:
            return self._next.get(cue, 1)

    def name_for(self, cue: Cue, take: int) -> str:
        return self.log.take_name(cue.number, take, character=cue.character, project=self.project)

    def take_opened(self, info: dict) -> None:
        self._queue.put(("open", info))

    def take_closed(self, info: dict) -> None:
        self._queue.put(("take", info))

    # -- the log thread -----------------------------------------------------------------------

    def run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if item[0] == "call":
                item[1].set()
                continue
            try:
                if item[0] == "reserve":
                    _, cue, take = item
                    logged = self.log.next_take(cue)
                    if logged != take:
                        raise RuntimeError(
                            f"take log numbered cue {cue} take {logged}, the engine used {take}"
                        )
                elif item[0] == "open":
                    self._log_opened(item[1])
                else:
                    self._log_closed(item[1])
            except Exception as exc:  # reported, never kills the thread
                log.exception("take log: %s", exc)

    def _log_opened(self, info: dict) -> None:
        """The writer's answer to the opening: the take is *recording*, or *failed* (no
        file, with the reason), and the log says so at once."""
        from stagebox.takes.log import FAILED, RECORDING

        opened = info.get("opened")
        state, reason = RECORDING, ""
        if opened is not None:
            try:
                opened.result(WRITER_WAIT)
            except Exception as exc:
                state, reason = FAILED, str(exc)
            if opened.take is not None:  # the name was taken: the writer moved to a free one
                with self._lock:
                    self._next[info["cue"]] = max(self._next.get(info["cue"], 1), opened.take + 1)
                info["file"] = opened.path.name
                info["take"] = opened.take
        self.log.record_take(self._record(info, state=state, reason=reason, frames=0))

    def _log_closed(self, info: dict) -> None:
        """The take's outcome from the writer: the frames that are on disk, and *complete*
        or *interrupted* (with why: LTC lost, disk full...). A take that never opened stays
        *failed*."""
        from stagebox.takes.log import COMPLETE, INTERRUPTED

        opened, closed = info.get("opened"), info.get("closed")
        if opened is not None and opened.error is not None:
            return  # logged as failed when the opening failed
        frames, reason = info["frames"], info.get("interrupted", "")
        if closed is not None:
            try:
                closed.result(WRITER_WAIT)
                frames = closed.frames
            except Exception as exc:
                frames = closed.frames
                reason = reason or f"closing failed: {exc}"
            if closed.cut_short:
                reason = f"{reason}; {closed.cut_short}" if reason else closed.cut_short
        state = INTERRUPTED if reason else COMPLETE
        record = self._record(info, state=state, reason=reason, frames=frames)
        self.log.record_take(record)
        if self.on_logged is not None:
            self.on_logged(record, info.get("guide"))

    @staticmethod
    def _record(info: dict, *, state: str, reason: str, frames: int):
        from stagebox.takes.log import TakeRecord

        flags = tuple(info.get("flags", ()))
        return TakeRecord(
            cue=info["cue"],
            take=info["take"],
            file=info["file"],
            tc_in=info["tc_in"],
            tc_out=info.get("tc_out") or info["tc_in"],
            rate=info["rate"],
            sample_rate=info["sample_rate"],
            frames=frames,
            flags=flags,
            character=info.get("character", ""),
            line=info.get("line", ""),
            original_line=info.get("original_line", ""),
            tags=info.get("tags", ""),
            state=state,
            reason=reason,
            kind=info.get("kind", "line"),
            stamp=info.get("stamp", "LTC"),
        )

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued is in the log (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(("call", done))
        if not done.wait(timeout):
            raise TimeoutError("take log did not catch up")

    def wake(self) -> None:
        self._queue.put(None)  # after everything queued: the log gets it all first

    def stop(self, timeout: float = 10.0, raise_error: bool = True) -> None:
        super().stop(timeout, raise_error)
