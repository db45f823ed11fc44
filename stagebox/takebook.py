"""The take book: take numbers for the engine without the engine touching the disk.

The take log (`stagebox.takes.TakeLog`) persists every reservation and every take with an
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

log = logging.getLogger("stagebox.takebook")


class TakeBook:
    """Take numbering and logging for the engine (engine side: memory and a queue only)."""

    def __init__(self, takes, *, project: str = "") -> None:  # takes: stagebox.takes.TakeLog
        self.log = takes
        self.project = project
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="take-book", daemon=True)
        self._thread.start()

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

    def take_closed(self, info: dict) -> None:
        self._queue.put(("take", info))

    # -- the log thread -----------------------------------------------------------------------

    def _run(self) -> None:
        from stagebox.takes import TakeRecord

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
                else:
                    info = item[1]
                    flags = tuple(x for x in info.get("note", "").split("; ") if x)
                    self.log.record_take(
                        TakeRecord(
                            cue=info["cue"],
                            take=info["take"],
                            file=info["file"],
                            tc_in=info["tc_in"],
                            tc_out=info["tc_out"] or info["tc_in"],
                            rate=info["rate"],
                            sample_rate=info["sample_rate"],
                            frames=info["frames"],
                            flags=flags,
                            character=info.get("character", ""),
                            line=info.get("line", ""),
                            original_line=info.get("original_line", ""),
                            tags=info.get("tags", ""),
                        )
                    )
            except Exception as exc:  # reported, never kills the thread
                log.exception("take log: %s", exc)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued is in the log (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(("call", done))
        if not done.wait(timeout):
            raise TimeoutError("take log did not catch up")

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("take book thread did not stop")
