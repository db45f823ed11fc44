"""The review desk: which take is under review, loaded off the audio thread.

The desk keeps the selection (a policy, "last" or "circled", for every cue, and the takes the
crew picked by number or stepped to, per cue) and loads the chosen take's file whole into
memory on its own thread or the control client's, never on the audio thread, then hands it to
the player in one assignment. It follows the stage: in review mode, when the current cue
changes (a button, the CLI, or the LTC entering another cue's window) the new cue's take is
loaded, and the old one stops at once (the player is emptied on the audio thread, a pointer
assignment, so a take never plays over another cue).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from stagebox import events as ev
from stagebox.events import StageEvent
from stagebox.review.choose import LAST, POLICIES, STEPS, ReviewChoiceError, choose
from stagebox.review.player import ReviewPlayer
from stagebox.review.take import ReviewTake, ReviewTakeError, load_review_take
from stagebox.worker import Worker

log = logging.getLogger("stagebox.review")

REVIEW = "review"


class ReviewDesk(Worker):
    """The review selection and its loads. `select` runs on the caller's thread (disk I/O);
    `on_event` on the audio thread (queues only); loads it queues run on the desk's thread."""

    name = "stagebox-review"
    label = "the review thread"

    def __init__(
        self,
        player: ReviewPlayer,
        takelog,  # stagebox.takes.log.TakeLog
        folder: str | Path,
        *,
        settle: Callable[[], None] = lambda: None,  # the take log and writer caught up
        mode: str = "safe",
        cue: str | None = None,
    ) -> None:
        super().__init__()
        self.player = player
        self.takelog = takelog
        self.folder = Path(folder)
        self.settle = settle
        self.policy = LAST  # how a cue's take is chosen unless one was picked
        self.mode = mode  # the stage's, as last seen in its events
        self.cue = cue  # the stage's current cue number
        self.note = ""  # why nothing is loaded for the current cue ("" when a take is)
        self._picked: dict[str, int] = {}  # cue -> take picked by number or stepped to
        self._lock = threading.Lock()  # one selection at a time
        self._requests: queue.Queue[str | None] = queue.Queue()

    # -- what status shows --------------------------------------------------------------------

    def describe(self) -> str:
        """ "103 take 2" under review, else why not ("cue 104 has no take to review")."""
        take = self.player.take
        if self.player.problem:
            return self.player.problem
        if take is not None and take.cue == self.cue:
            return take.label
        return self.note

    # -- selecting (control thread, desk thread) ----------------------------------------------

    def select(self, cue: str, how: str | int | None = None) -> ReviewTake:
        """Choose cue `cue`'s take (`how`: a take number, "last", "circled", "next",
        "previous"; None: as picked before or by the policy) and load it for the player.
        Disk I/O: never call on the audio thread. ReviewChoiceError / ReviewTakeError say
        why not, in one line; the player then holds nothing for the cue."""
        with self._lock:
            self.settle()
            if how in POLICIES:
                self.policy = str(how)
                self._picked.pop(cue, None)
            elif how is None:
                how = self._picked.get(cue, self.policy)
            current = self.player.take
            at = current.take if current is not None and current.cue == cue else None
            try:
                record = choose(cue, self.takelog.takes(cue), how, at)
                if isinstance(how, int) or how in STEPS:
                    self._picked[cue] = record.take
                if current is not None and (current.cue, current.take) == (cue, record.take):
                    take = current  # already in memory (a take file is never rewritten)
                else:
                    take = load_review_take(self.folder / record.file, cue, record.take)
            except (ReviewChoiceError, ReviewTakeError) as exc:
                self.note = str(exc)
                if current is not None and current.cue == cue:
                    self.player.load(None)
                raise
            self.note = ""
            self.player.load(take)
            log.info("review: cue %s take %d (%s)", cue, take.take, take.file)
            return take

    # -- following the stage (audio thread: no blocking) --------------------------------------

    def on_event(self, event: StageEvent) -> None:
        """A stage listener: entering review mode or a new current cue queues a load."""
        if event.event == ev.MODE:
            self.mode = event.mode
            if self.mode == REVIEW and self.cue is not None:
                self.request(self.cue)
        elif event.event == ev.CUE:
            self.cue = event.cue
            take = self.player.take
            if take is not None and take.cue != self.cue:
                self.player.load(None)  # the old cue's take never plays over the new cue
            if self.mode == REVIEW and self.cue is not None:
                self.request(self.cue)

    def request(self, cue: str) -> None:
        """Load cue `cue`'s take on the desk's thread (returns at once)."""
        self._requests.put(cue)

    def run(self) -> None:
        while not self.stopping.is_set():
            cue = self._requests.get()
            if cue is None:
                continue
            if cue != self.cue:
                continue  # the stage moved on before this load's turn
            try:  # a take already in memory is kept, not read again
                self.select(cue)
            except (ReviewChoiceError, ReviewTakeError) as exc:
                log.warning("review: %s", exc)
            except Exception as exc:  # the log gone, a disk error: said, never fatal
                self.note = f"review: {exc}"
                log.exception("review: loading a take of cue %s failed", cue)

    def wake(self) -> None:
        self._requests.put(None)
