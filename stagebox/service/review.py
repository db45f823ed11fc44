"""Review mode in the service: the review desk started beside the engine, the `review`
control command and the buttons' take stepping.

`stagebox review 103 2` (or `--last`, `--circled`, `next`, `previous`) chooses and loads the
take on the control client's thread (disk I/O, never the audio thread), then has the engine
make the cue current and switch to review on the next period boundary. A take still
recording is never cut short for a review: the command is refused until it closes.
"""

from __future__ import annotations

import contextlib
import logging

from stagebox.control.protocol import ControlError

log = logging.getLogger("stagebox.service")

REVIEW = "review"


class ReviewCommands:
    """Mixed into StageService: the review desk and its commands."""

    review = None  # stagebox.review.desk.ReviewDesk once the engine runs

    def _start_review(self, stack: contextlib.ExitStack) -> None:
        from stagebox.review.desk import ReviewDesk

        stage = self.engine.stage
        desk = ReviewDesk(
            self.engine.review,
            self.takelog,
            self.cfg.takes.folder,
            settle=self._review_settle,
            mode=str(stage.mode),
            cue=stage.cue.number if stage.cue else None,
        )
        self.review = self._watch(desk.start())
        stack.callback(desk.stop)
        self.engine.review_status = desk.describe
        self.add_listener(desk.on_event)
        if stage.mode == REVIEW and stage.cue is not None:  # started in review mode
            desk.request(stage.cue.number)

    def _review_settle(self) -> None:
        """Before choosing a take: every take closed so far is in the log and off the writer
        (switching from record to review a moment after the last punch-out reviews it)."""
        try:
            self.book.flush(5.0)
        except TimeoutError:
            log.error("review: the take log is behind; choosing from what it has")
        closing = self.sink.last_close if self.sink is not None else None
        if closing is not None:
            with contextlib.suppress(Exception):  # its state shows in the take log
                closing.result(5.0)

    def _review_request(self, args: dict) -> dict:
        """The `review` control command (see stagebox.cli.review)."""
        from stagebox.review.choose import ReviewChoiceError
        from stagebox.review.take import ReviewTakeError

        desk = self.review
        if desk is None:
            raise ControlError("review is not running (the stage has no engine yet)")
        if "take" in args and "which" in args:
            raise ControlError("review: give a take number or which, not both")
        how = args.get("take", args.get("which"))
        cue = args.get("cue")
        if how is None and cue is None:
            return self._review_state()
        if cue is None:
            stage_cue = self.engine.stage.cue
            if stage_cue is None:
                raise ControlError("no current cue: give the cue, e.g. stagebox review 103 2")
            cue = stage_cue.number
        if self.engine.stage.find(cue) is None:
            raise ControlError(f"no cue {cue!r} in the cue sheet")
        # Refused before the desk moves off its take (the engine checks again when it switches).
        p = self.engine.stage.current  # one read: the engine thread may replace it
        if p is not None and p.take is not None and p.punch_out is None:
            raise ControlError(
                f"take {p.take} of cue {p.cue.number} is recording: review when it closes"
            )
        try:
            take = desk.select(cue, how)
        except (ReviewChoiceError, ReviewTakeError) as exc:
            raise ControlError(str(exc)) from None
        self._queue(REVIEW, {"cue": cue})
        return {**self._review_state(), "cue": take.cue, "take": take.take, "file": take.file}

    def _review_state(self) -> dict:
        desk = self.review
        take = desk.player.take
        return {
            "mode": str(self.engine.stage.mode),
            "review": desk.describe(),
            "policy": desk.policy,
            "cue": take.cue if take else desk.cue,
            "take": take.take if take else None,
            "file": take.file if take else None,
            "tc_in": str(take.tc_in) if take else None,
        }

    def _apply_review(self, args: dict, sample: int) -> dict:
        """Engine thread: the cue made current and the stage switched to review."""
        stage = self.engine.stage
        if stage.take_open:
            p = stage.current
            raise ValueError(
                f"take {p.take} of cue {p.cue.number} is recording: review when it closes"
            )
        stage.select_cue(args["cue"], sample)
        stage.set_mode(REVIEW, sample)
        if self.daw is not None:  # the DAW rolls from the cue's pre-roll, as for rehearse
            self.daw.mode_chosen(stage.mode, stage.cue, rolling=self.engine.clock.locked)
        return {"mode": str(stage.mode), "cue": args["cue"]}

    def _review_button(self, step: str) -> None:
        """NEXT/PREV in review mode: the current cue's next/previous take (button thread)."""
        from stagebox.review.choose import ReviewChoiceError
        from stagebox.review.take import ReviewTakeError

        stage = self.engine.stage
        if stage.cue is None:
            log.warning("review %s: no current cue", step)
            return
        try:
            take = self.review.select(stage.cue.number, step)
        except (ReviewChoiceError, ReviewTakeError) as exc:
            log.warning("review %s: %s", step, exc)
            return
        log.info("review %s by the button: cue %s take %d", step, take.cue, take.take)
