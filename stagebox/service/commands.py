"""The service's commands: the control socket's and the buttons', and how they reach the engine.

Commands that change the stage (mode, cue, cue sheet) are queued for the audio thread and
applied on a period boundary; the control client waits for the result, bounded. Take edits
(circle, note) go to the take log and the take file's iXML from the client's thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

from stagebox.control.protocol import ControlError
from stagebox.service.localtakes import LOCAL_COMMANDS, apply_local, local_args
from stagebox.snapshot import MODES

log = logging.getLogger("stagebox.service")

COMMAND_TIMEOUT = 5.0  # seconds a control client waits for the engine to apply a command
LIGHTS_TEST_STEP = 1.0  # seconds each step of `stagebox lights test` holds


class _Command:
    """A command for the engine thread, and the reply the control thread waits for.

    Either the engine claims it (and it takes effect) or the waiting client gives up on it
    first (and it never will): a command that timed out is never applied later.
    """

    def __init__(self, name: str, args: dict) -> None:
        self.name = name
        self.args = args
        self.done = threading.Event()
        self.result: object = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._state = "queued"  # queued -> claimed (engine) | cancelled (client gave up)

    def claim(self) -> bool:
        """Engine side: True if the command is still wanted (it is then applied)."""
        with self._lock:
            if self._state != "queued":
                return False
            self._state = "claimed"
            return True

    def cancel(self) -> bool:
        """Client side: True if the command was withdrawn before the engine took it."""
        with self._lock:
            if self._state != "queued":
                return False
            self._state = "cancelled"
            return True

    def finish(self, result: object = None, error: str | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class CommandTable:
    """Mixed into StageService: the commands and their application on the audio thread."""

    def submit(self, command: str) -> None:
        """A button's command string ("mode record", "cue next", "take circle" ...)."""
        words = command.split()
        if self.engine is not None and self.engine.stage.mode == "review":
            # review mode: NEXT/PREV CUE step through the current cue's takes
            command = {"cue next": "review next", "cue previous": "review previous"}.get(
                command, command
            )
        if command in ("review next", "review previous"):
            self._review_button(command.split()[1])
        elif len(words) == 2 and words[0] == "mode":
            self._queue("mode", {"mode": words[1]}, wait=False)
        elif len(words) == 2 and words[0] == "cue":
            self._queue("cue", {"which": words[1]}, wait=False)
        elif command in ("take circle", "take uncircle"):
            self._circle_last(command == "take circle")
        elif command in ("phones talkback on", "phones talkback off"):  # held / released
            if not self.engine.phones.settings.wired("talkback"):
                log.warning(
                    "TALKBACK pressed, but no talkback mic is wired: set phones.talkback_channel"
                )
                return
            self._queue("phones", {"source": "talkback", "on": command.endswith("on")}, wait=False)
        elif command in LOCAL_COMMANDS:  # ROOM TONE / WILD: start, or stop the running one
            try:
                self.press_local(command)
            except ControlError as exc:
                self._say(str(exc))
                log.warning("button %s: %s", command, exc)
        else:
            log.warning("unknown button command %r", command)

    def press_local(self, kind: str, **args) -> None:
        """Room tone or a wild line, as its button asks: queued for the next period, not
        waited for (a refusal is said in the journal and on the views). `args` as the
        control command's (`seconds`, `scene`, `cue`)."""
        self._queue(kind, local_args(self, kind, args), wait=False)

    def _circle_last(self, circled: bool) -> None:
        """CIRCLE button: the take recorded last, even if it punched out a moment ago."""
        try:
            self.book.flush(COMMAND_TIMEOUT)  # every take closed so far is in the log
        except TimeoutError:
            log.error("the take log is behind: circling the last take it has")
        reviewed = self.engine.review.take if self.engine.stage.mode == "review" else None
        if reviewed is not None:  # review mode: the take being listened to
            cue, take = reviewed.cue, reviewed.take
        elif self._last_take is not None:
            cue, take = self._last_take
        else:
            # None recorded since start: the newest in the log (started has 1 s resolution,
            # so among takes of the same second the highest number wins).
            records = self.takelog.takes() if self.takelog else []
            if not records:
                log.warning("no take to %s yet", "circle" if circled else "uncircle")
                return
            last = max(records, key=lambda r: (r.started, r.take))
            cue, take = last.cue, last.take
        self.takelog.circle(cue, take, circled, by="button")
        log.info(
            "%s cue %s take %d by the button", "circled" if circled else "uncircled", cue, take
        )

    def _queue(self, name: str, args: dict, wait: bool = True) -> object:
        command = _Command(name, args)
        self._commands.put(command)
        if not wait:
            return None
        if not command.done.wait(COMMAND_TIMEOUT):
            if command.cancel():
                raise ControlError(
                    f"the engine did not take {name!r} within {COMMAND_TIMEOUT} s: "
                    "not applied (it never will be)"
                )
            command.done.wait()  # claimed this instant: its answer is a period away
        if command.error:
            raise ControlError(command.error)
        return command.result

    def _apply_commands(self, sample: int) -> None:
        """Run queued commands on the engine thread, between periods, at `sample`."""
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            if not command.claim():
                continue  # its client gave up on it: never applied late
            try:
                command.finish(self._apply(command.name, command.args, sample))
            except (ValueError, KeyError) as exc:
                command.finish(error=str(exc).strip("'\""))

    def _apply(self, name: str, args: dict, sample: int) -> object:
        stage = self.engine.stage
        if name == "mode":
            fault = self.fault.reason
            if args["mode"] == "record" and fault:
                raise ValueError(f"record not armed: {fault}")
            stage.set_mode(args["mode"], sample)
            log.info("mode %s", stage.mode)
            if self.daw is not None:  # record/rehearse roll the DAW, safe stops it
                self.daw.mode_chosen(stage.mode, stage.cue, rolling=self.engine.clock.locked)
            return {"mode": stage.mode}
        if name == "cue":
            recording = stage.current if stage.take_open else None
            waiting = stage.deferred_changes
            cue = stage.select_cue(str(args["which"]), sample)
            deferred = stage.deferred_changes > waiting  # held until the take closes
            # The DAW parks at the cue's pre-roll; mid-take only once the take has closed (the
            # cue being recorded chosen again, with nothing else waiting: nothing, a locate
            # would cut the take).
            if self.daw is not None and (recording is None or deferred):
                self.daw.cue_chosen(cue, deferred=deferred)
            reply = cue.to_dict()
            if deferred:
                reply["deferred"] = (
                    f"take {recording.take} of cue {recording.cue.number} is recording: "
                    f"cue {cue.number} is selected when it closes"
                )
            return reply
        if name == "phones":  # the headphone mix: a live change, on this period boundary
            from stagebox.phones.control import apply_request

            return apply_request(self.engine.phones, args, stage.mode)
        if name == "review":
            return self._apply_review(args, sample)
        if name == "cues":
            sheet = args["sheet"]
            recording = stage.current if stage.take_open else None
            applied = stage.set_cues(list(sheet), sample)
            self.sheet = sheet
            if applied:
                return None
            return (
                f"take {recording.take} of cue {recording.cue.number} is recording: "
                "the new cues apply when it closes"
            )
        if name in LOCAL_COMMANDS:  # room tone, wild line (stagebox.service.localtakes)
            return apply_local(self, name, args, sample)
        raise KeyError(f"unknown engine command {name!r}")

    def dispatch(self, cmd: str, args: dict) -> object:
        """The control socket's requests (runs on a control connection's thread)."""
        if cmd == "status":
            return self.status()
        if cmd == "mode":
            mode = args.get("mode")
            if mode not in MODES:
                raise ControlError(
                    f"mode must be {', '.join(MODES[:-1])} or {MODES[-1]}, not {mode!r}"
                )
            return self._queue("mode", {"mode": mode})
        if cmd == "cue":
            if "which" not in args:
                raise ControlError("which cue? give a cue number, next or previous")
            return self._queue("cue", {"which": str(args["which"])})
        if cmd == "cues.load":
            return self._cues_load(args.get("path"), args.get("encoding"))
        if cmd == "cues.list":
            return [c.to_dict() for c in (self.sheet or [])]
        if cmd == "takes":
            return [r.to_dict() for r in self.takelog.takes(args.get("cue"))]
        if cmd == "take.circle":
            return self._take_edit(args, circled=bool(args.get("circled", True)))
        if cmd == "take.note":
            return self._take_edit(args, note=str(args.get("text", "")))
        if cmd == "report":
            import io

            out = io.StringIO()
            self.takelog.report_csv(out)
            return {"csv": out.getvalue()}
        if cmd == "lights.test":
            return self._lights_test()
        if cmd == "daw":
            return self._daw_request(args)
        if cmd == "phones":
            return self.engine.phones.state()
        if cmd == "phones.set":
            from stagebox.phones.control import check_request

            try:
                check_request(args)  # a bad request is answered at once, not queued
            except ValueError as exc:
                raise ControlError(str(exc)) from None
            return self._queue("phones", dict(args))
        if cmd == "review":
            return self._review_request(args)
        if cmd in LOCAL_COMMANDS:
            return self._queue(cmd, local_args(self, cmd, args))
        raise ControlError(f"unknown command {cmd!r}")

    def _daw_request(self, args: dict) -> dict:
        """`stagebox daw locate|play|stop|status` (see stagebox.daw.control)."""
        if self.daw is None:
            raise ControlError("DAW control is off: set [daw] enabled = true (docs/daw.md)")
        rate = self.sheet.rate if self.sheet else self.cfg.timecode.rate or self.engine.clock.rate
        try:
            return self.daw.request(args, rate)
        except ValueError as exc:
            raise ControlError(str(exc)) from None

    def _load_sheet(self, path: Path, encoding: str | None = None):
        from stagebox.cues import CueSheetError, load_cue_sheet

        try:
            sheet = load_cue_sheet(
                path,
                rate=self.cfg.timecode.rate,
                encoding=encoding,
                fallback_encoding=self.cfg.stage.cue_sheet_encoding,
                language=self.cfg.stage.record_language,
                # a sheet that names no rate, on a stage set to auto: the LTC's measured one
                fallback_rate=self.engine.clock.measured_rate if self.engine else None,
            )
        except CueSheetError as exc:
            raise ControlError(str(exc)) from None
        except OSError as exc:
            raise ControlError(f"{path}: {exc.strerror or exc}") from None
        for warning in sheet.warnings:
            log.warning("cue sheet %s: %s", path.name, warning)
        self.book.prime(sheet)
        return sheet

    def _cues_load(self, path, encoding=None) -> dict:
        if not path:
            raise ControlError("which cue sheet? give its path")
        sheet = self._load_sheet(Path(path), encoding)  # a bad sheet raises: the old one stays
        deferred = self._queue("cues", {"sheet": sheet})
        log.info(
            "cue sheet %s loaded: %d cues%s",
            sheet.path,
            len(sheet),
            f" ({deferred})" * bool(deferred),
        )
        reply = {
            "path": str(sheet.path),
            "cues": len(sheet),
            "rate": sheet.rate.name,
            "format": sheet.source_format,
            "encoding": sheet.encoding,
            "warnings": list(sheet.warnings),
        }
        if deferred:
            reply["deferred"] = deferred
        return reply

    def _take_edit(self, args: dict, **change) -> dict:
        from stagebox.takes.log import TakeLogError

        try:
            cue, take = str(args["cue"]), int(args["take"])
        except (KeyError, ValueError):
            raise ControlError("give the cue and the take number") from None
        from stagebox.control.server import current_peer

        peer = current_peer()
        by = f"{peer.user} (uid {peer.uid})" if peer else None  # the take's history: who
        try:
            if "circled" in change:
                record = self.takelog.circle(cue, take, change["circled"], by=by)
            else:
                record = self.takelog.note(cue, take, change["note"], by=by)
        except TakeLogError as exc:
            raise ControlError(str(exc)) from None
        return record.to_dict()

    def _retag(self, record) -> None:
        """A take was circled or noted: write it into the take file's iXML too."""
        from stagebox.takes.bwf import update_take_metadata
        from stagebox.takes.log import ON_DISK, RECORDING

        if record.state == RECORDING or record.state not in ON_DISK:
            return  # a live take gets it when it closes (the log keeps it); no file: no iXML
        path = Path(self.cfg.takes.folder) / record.file
        self._wait_for_writer(path)
        try:
            update_take_metadata(path, circled=record.circled, note=record.full_note)
        except Exception as exc:
            log.error("could not update %s: %s", path.name, exc)
            raise ControlError(f"take logged, but {path.name} was not updated: {exc}") from None

    def _fits(self, record) -> None:
        """A note goes into the take file's iXML as well as the log: refuse, before logging,
        one the file's iXML chunk cannot hold (so the log and the file never disagree). A
        take still recording is checked when it closes (its writer reports a note too long)."""
        from stagebox.takes.bwf import update_take_metadata
        from stagebox.takes.disk import TakeError
        from stagebox.takes.log import COMPLETE, INTERRUPTED, REPAIRED, TakeLogError
        from stagebox.wavfile import WavError

        if record.state not in (COMPLETE, INTERRUPTED, REPAIRED):
            return
        path = Path(self.cfg.takes.folder) / record.file
        try:
            update_take_metadata(path, circled=record.circled, note=record.full_note, dry_run=True)
        except TakeError as exc:
            raise TakeLogError(
                f"note not saved: {path.name}'s iXML chunk cannot hold it "
                f"({exc.strerror.split(': ')[-1]}); shorten the note"
            ) from None
        except (OSError, WavError):
            pass  # no file to check against: _retag reports it after logging

    def _wait_for_writer(self, path: Path) -> None:
        """A take punched out a moment ago may still be being finished by the take writer (a
        disk stall can hold seconds of audio in its queue): wait, bounded, until it is."""
        from stagebox.takes.disk import marker_path

        closing = self.sink.last_close if self.sink is not None else None
        if closing is None or not marker_path(path).exists():
            return
        try:
            closing.result(COMMAND_TIMEOUT)
        except Exception as exc:  # the iXML update below says what state the take is in
            log.warning("waiting for the take writer to finish %s: %s", path.name, exc)

    def _lights_test(self) -> dict:
        """Each lamp on for a second, then all on, then all off (safe mode only).

        Runs on the control connection's thread. It stops, lamps dark, as soon as the stage
        leaves safe mode (a button, another client) or the service stops, so it never lights a
        lamp over the stage's own plan or after the lamps were switched off for good; and one
        test runs at a time.
        """
        if self.engine.stage.mode != "safe":
            raise ControlError("the lights test runs only in safe mode: stagebox mode safe")
        if not self._lights_testing.acquire(blocking=False):
            raise ControlError("a lights test is already running")
        names = list(self.lamps.lamps.names)
        steps: list[str] = []
        try:
            for name in names:
                self._lights_step(names, {name}, LIGHTS_TEST_STEP)
                steps.append(f"{name} on")
            self._lights_step(names, set(names), LIGHTS_TEST_STEP)
            steps.append("all on")
        finally:
            if not self._stop.is_set():  # stopping: the lamp driver darkens them itself
                # Dark, or as the stage now has them if it left safe mode meanwhile.
                stage = self.engine.stage
                wanted = {f"{lamp}_light": on for lamp, on in stage.lights.items()}
                wanted["standby_light"] = self.cfg.lights.standby_light and stage.mode == "record"
                for name in names:
                    self.lamps.set(name, stage.mode != "safe" and wanted.get(name, False))
            self._lights_testing.release()
        steps.append("all off")
        return {"steps": steps}

    def _lights_step(self, names: list[str], lit: set[str], seconds: float) -> None:
        for name in names:
            self.lamps.set(name, name in lit)
        if self._stop.wait(seconds):
            raise ControlError("the service is stopping: lights test abandoned")
        if self.engine.stage.mode != "safe":
            raise ControlError(
                f"the stage left safe mode ({self.engine.stage.mode}): lights test abandoned"
            )
