"""The DAW driven from the crew's buttons: what stagebox tells the DAW's transport, and when.

- The crew chooses a cue (NEXT/PREVIOUS buttons, `stagebox cue`): the DAW is LOCATEd to the
  cue's TC-in minus the pre-roll, so it is parked ready to roll. A cue chosen while a take
  records waits for the take to close (the stage never splits a pass), and so does its locate.
  A cue the stage *follows* from timecode is never located to: the DAW put it there. A park
  still waiting when another is asked for (NEXT held down) is dropped for the newer one.
- RECORD, REHEARSE or REVIEW (button, `stagebox mode`, `stagebox review`) with
  `daw.roll_on_record`: if the DAW is not already rolling (no LTC), LOCATE to the current
  cue's pre-roll and DEFERRED PLAY (MMC's play once the locate has arrived). Pressed while it
  rolls, nothing is sent: a pass is never cut.
- SAFE: STOP.
- A pass that runs out of its post-roll in record, rehearse or review: with `daw.loop` the DAW
  is located back to the cue's pre-roll and rolled again (stagebox's own loop, for DAWs whose loop
  playback is not set up); else with `daw.stop_after_postroll` it is stopped and parked there.

The stage calls in on its engine thread (`cue_chosen`, `mode_chosen`, `on_event`), which must
never wait on a MIDI port: messages go through a queue to a sender thread. A MIDI port that
is not there (a USB interface unplugged) does not stop the stage: the error is logged and
shown by `stagebox daw status`, and the port is opened again for the next message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from stagebox import events as ev
from stagebox.cues.cue import Cue
from stagebox.daw import mmc
from stagebox.daw.backend import MidiError, MidiOutput
from stagebox.timecode import Rate, Timecode, TimecodeError
from stagebox.worker import Worker, WorkerError

log = logging.getLogger("stagebox.daw")

SEND_TIMEOUT = 2.0  # seconds a control client waits for its message to go out
HISTORY = 20  # messages kept for `stagebox daw status`
ROLLING_MODES = ("record", "rehearse", "review")


@dataclass(frozen=True)
class DawSettings:
    """The [daw] keys the behaviour needs (the port and backend are the output's)."""

    device_id: int = mmc.ALL_CALL  # 0..127, 127: all-call
    preroll_seconds: float | None = None  # seconds before TC-in; None: the stage's pre-roll
    roll_on_record: bool = True  # record/rehearse roll the DAW
    loop: bool = False  # after the post-roll: back to the pre-roll and roll again
    stop_after_postroll: bool = False  # after the post-roll: stop (and park at the pre-roll)

    @classmethod
    def from_config(cls, daw) -> DawSettings:
        return cls(
            device_id=daw.device_id,
            preroll_seconds=daw.preroll_seconds,
            roll_on_record=daw.roll_on_record,
            loop=daw.loop,
            stop_after_postroll=daw.stop_after_postroll,
        )


@dataclass
class _Send:
    """Messages for the sender thread; `done` set once they went out (or failed)."""

    messages: list[bytes]
    why: str
    done: threading.Event | None = None
    error: str | None = None
    park: bool = False  # a cue's LOCATE alone: a later one waiting makes it pointless


_CLOSE = _Send([], "close")


class DawControl(Worker):
    """MMC out to the DAW, from the stage's cue and mode changes. See the module docstring."""

    name = "stagebox-daw"
    label = "the DAW sender"

    @classmethod
    def from_config(cls, cfg, *, mode: str, stage_preroll, find_cue) -> DawControl | None:
        """The DawControl for `cfg.daw` (not started); None when [daw] is not enabled."""
        from stagebox.daw.backend import open_output

        daw = cfg.daw
        if not daw.enabled:
            return None
        opener = lambda: open_output(daw.backend, daw.port)  # noqa: E731
        if daw.backend == "sim":
            # One simulated port for the service's life: the demo and tests read its history.
            opener = open_output("sim", daw.port).reopen
        return cls(
            opener,
            DawSettings.from_config(daw),
            mode=mode,
            stage_preroll=stage_preroll,
            find_cue=find_cue,
        )

    def __init__(
        self,
        opener: Callable[[], MidiOutput],
        settings: DawSettings,
        *,
        mode: str = "safe",
        stage_preroll: Callable[[], float] = lambda: 5.0,
        find_cue: Callable[[str], Cue | None] = lambda number: None,
    ) -> None:
        super().__init__()
        self.opener = opener  # opens the MIDI output (again, after it failed)
        self.settings = settings
        self.mode = mode  # the stage's mode as last seen
        self.stage_preroll = stage_preroll  # seconds: the stage's pre-roll (it can reload)
        self.find_cue = find_cue
        self.output: MidiOutput | None = None
        self.port = ""  # the port as last opened
        self.last_error = ""  # why the last message did not go out ("" once one did)
        self.history: list[tuple[float, str, str]] = []  # (wall time, message, why)
        self._pending_cue: str | None = None  # chosen mid-take: located when it applies
        self._queue: queue.Queue[_Send] = queue.Queue()
        self._lock = threading.Lock()

    # -- life -----------------------------------------------------------------------------

    def start(self) -> DawControl:
        """Open the port (a failure is logged, not raised: it is tried again) and the sender."""
        try:
            self._open()
        except MidiError as exc:
            self.last_error = str(exc)
            log.warning("DAW control: %s; trying again with the first message", exc)
        return super().start()

    def wake(self) -> None:
        self._queue.put(_CLOSE)  # after what is queued: that is sent first

    def closed(self) -> None:
        self._close()

    def stop(self, timeout: float = 2.0, raise_error: bool = False) -> None:
        """Send what is queued, close the port, end the sender thread (a sender that will not
        stop is logged: the stage is stopping and a MIDI port must not hold it up)."""
        try:
            super().stop(timeout, raise_error)
        except WorkerError as exc:
            log.error("DAW control: %s", exc)

    # -- the stage's side (engine thread: never blocks) ------------------------------------

    def cue_chosen(self, cue: Cue, deferred: bool = False) -> None:
        """The crew chose `cue`; `deferred`: it applies when the recording take closes."""
        if deferred:
            self._pending_cue = cue.number
            return
        self._pending_cue = None
        self._locate_cue(cue, f"cue {cue.number} chosen")

    def mode_chosen(self, mode: str, cue: Cue | None, rolling: bool) -> None:
        """The crew asked for `mode` (even the one it is in: RECORD again rolls a parked DAW).
        `cue`: the current cue; `rolling`: LTC is running (the DAW plays already)."""
        self.mode = mode
        s = self.settings
        if mode == "safe":
            self._send([mmc.stop(s.device_id)], "stage made safe")
        elif mode in ROLLING_MODES and s.roll_on_record and not rolling:
            messages = [mmc.deferred_play(s.device_id)]
            where = ""
            if cue is not None:
                start = self.start_of(cue)
                messages.insert(0, mmc.locate(start, s.device_id))
                where = f" from {start} (cue {cue.number})"
            self._send(messages, f"{mode}: roll{where}")

    def on_event(self, event: ev.StageEvent) -> None:
        """A stage listener: deferred cue changes, passes ending, the mode."""
        if event.event == ev.MODE:
            self.mode = event.mode
        elif event.event == ev.CUE and self._pending_cue is not None:
            if event.cue == self._pending_cue:
                self._pending_cue = None
                cue = self.find_cue(event.cue)
                if cue is not None:
                    self._locate_cue(cue, f"cue {cue.number} chosen (after the take)")
        elif event.event == ev.PASS_END and event.reason == "post-roll ended":
            self._after_postroll(event.cue)

    def _after_postroll(self, number: str | None) -> None:
        s = self.settings
        if self.mode not in ROLLING_MODES or not (s.loop or s.stop_after_postroll):
            return
        cue = self.find_cue(number) if number else None
        if cue is None:
            return
        start = self.start_of(cue)
        d = s.device_id
        if s.loop:
            why = f"loop: cue {cue.number} again from {start}"
            self._send([mmc.locate(start, d), mmc.deferred_play(d)], why)
        else:
            why = f"post-roll of cue {cue.number} ended: stop, park at {start}"
            self._send([mmc.stop(d), mmc.locate(start, d)], why)

    def _locate_cue(self, cue: Cue, why: str) -> None:
        start = self.start_of(cue)
        message = mmc.locate(start, self.settings.device_id)
        self._queue.put(_Send([message], f"{why}: pre-roll {start}", park=True))

    def start_of(self, cue: Cue) -> Timecode:
        """Where the DAW parks for `cue`: TC-in minus the pre-roll, counted in frame labels
        as the stage counts its pass window (so the DAW starts where the pass does)."""
        seconds = self.settings.preroll_seconds
        if seconds is None:
            seconds = self.stage_preroll()
        return cue.tc_in - round(seconds * cue.tc_in.rate.nominal)

    # -- the control socket's side (waits for the send) -----------------------------------

    def request(self, args: dict, rate: Rate | None) -> dict:
        """`stagebox daw ACTION [TARGET]`: locate TC|CUE, play, stop, status.

        `rate`: the timecode rate a label is read at (the cue sheet's or the LTC's)."""
        action = str(args.get("action", ""))
        d = self.settings.device_id
        if action == "status":
            return self.status()
        if action == "play":
            return self._send_now([mmc.play(d)], "stagebox daw play")
        if action == "stop":
            return self._send_now([mmc.stop(d)], "stagebox daw stop")
        if action == "locate":
            target = str(args.get("to", "")).strip()
            if not target:
                raise ValueError("locate where? give a timecode HH:MM:SS:FF or a cue number")
            return self._send_now([mmc.locate(self._target(target, rate), d)], "stagebox daw")
        raise ValueError(f"unknown DAW action {action!r} (locate, play, stop, status)")

    def _target(self, target: str, rate: Rate | None) -> Timecode:
        cue = self.find_cue(target)
        if cue is not None:
            return self.start_of(cue)
        if any(sep in target for sep in ":;"):
            if rate is None:
                raise ValueError(
                    "no timecode rate to read it at: load a cue sheet, set timecode.rate "
                    "or let the LTC run"
                )
            try:
                return Timecode.parse(target, rate)
            except TimecodeError as exc:
                raise ValueError(str(exc)) from None
        raise ValueError(f"{target!r} is neither a cue in the sheet nor a timecode HH:MM:SS:FF")

    def status(self) -> dict:
        with self._lock:
            history = [
                {"time": t, "message": m, "why": why} for t, m, why in self.history[-HISTORY:]
            ]
        return {
            "port": self.port,
            "connected": self.output is not None,
            "device_id": self.settings.device_id,
            "error": self.last_error,
            "sent": history,
        }

    # -- sending --------------------------------------------------------------------------

    def _send(self, messages: list[bytes], why: str) -> None:
        self._queue.put(_Send(messages, why))

    def _send_now(self, messages: list[bytes], why: str) -> dict:
        item = _Send(messages, why, done=threading.Event())
        self._queue.put(item)
        if not item.done.wait(SEND_TIMEOUT):
            raise ValueError(f"the MIDI port did not take the message within {SEND_TIMEOUT} s")
        if item.error:
            raise ValueError(item.error)
        return {"port": self.port, "sent": [mmc.describe(m) for m in messages]}

    def run(self) -> None:
        waiting: list[_Send] = []
        while True:
            if not waiting:
                waiting.append(self._queue.get())
            while True:  # everything queued meanwhile, to skip the parks overtaken below
                try:
                    waiting.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            item = waiting.pop(0)
            if item is _CLOSE:
                return
            if item.park and waiting and waiting[0].park:
                # NEXT held down repeats every 0.25 s: only the cue it stops on is located to
                # (a DAW chasing each cue on the way would still be seeking when it arrives).
                log.debug("DAW: %s overtaken by %s: not sent", item.why, waiting[0].why)
                continue
            try:
                self._deliver(item)
            except MidiError as exc:
                item.error = str(exc)
                if self.last_error != item.error:  # once per problem, not per message
                    log.error("DAW control: %s (%s: not sent)", exc, item.why)
                self.last_error = item.error
            finally:
                if item.done is not None:
                    item.done.set()

    def _deliver(self, item: _Send) -> None:
        if self.output is None:
            self._open()
        for message in item.messages:
            try:
                self.output.send(message)
            except MidiError:
                self._close()  # opened again for the next message
                raise
            text = mmc.describe(message)
            with self._lock:
                self.history.append((time.time(), text, item.why))
                del self.history[:-HISTORY]
            log.info("DAW: %s (%s)", text, item.why)
        if self.last_error:
            log.info("DAW control: MIDI port %s works again", self.port)
        self.last_error = ""

    def _open(self) -> None:
        self.output = self.opener()
        self.port = self.output.port_name

    def _close(self) -> None:
        output, self.output = self.output, None
        if output is not None:
            try:
                output.close()
            except MidiError as exc:
                log.warning("DAW control: closing %s: %s", self.port, exc)
