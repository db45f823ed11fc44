"""A stand-in for the service's control dispatcher: the agreed command contract, answered from
a real cue sheet (the shipped example, through the real loader) and a real take log in a temp
folder, recording every call so tests can check what the CLI asked."""

from __future__ import annotations

import io
from importlib.resources import files

from stagebox.control.protocol import ControlError
from stagebox.cues import CueSheetError, load_cue_sheet
from stagebox.snapshot import MODES
from stagebox.takes.log import TakeLog, TakeLogError, TakeRecord

EXAMPLE_SHEET = str(files("stagebox") / "data" / "example_cues.csv")


class FakeStage:
    def __init__(self, takes_folder) -> None:
        self.sheet = load_cue_sheet(EXAMPLE_SHEET)
        self.current = 0  # index of the current cue in the sheet
        self.mode = "rehearse"
        self.calls: list[tuple[str, dict]] = []
        self.takes_folder = str(takes_folder)
        self.log = TakeLog(takes_folder)
        for cue, take, tc_in, tc_out in (
            ("101", 1, "01:00:10:00", "01:00:13:05"),
            ("101", 2, "01:00:10:00", "01:00:13:05"),
            ("102", 1, "01:00:19:10", "01:00:22:00"),
        ):
            self.log.next_take(cue)
            self.log.record_take(
                TakeRecord(
                    cue,
                    take,
                    f"{cue}_T{take:03d}.wav",
                    tc_in,
                    tc_out,
                    48000,
                    48000 * 3,
                    rate="25",
                    character="JOHN" if cue == "101" else "MARY",
                )
            )
        self.extra: dict = {}  # status fields a test overrides

    # -- the dispatcher -----------------------------------------------------------------------

    def __call__(self, cmd: str, args: dict):
        self.calls.append((cmd, dict(args)))
        handler = getattr(self, "do_" + cmd.replace(".", "_"), None)
        if handler is None:
            raise ControlError(f"unknown command {cmd!r}")
        try:
            return handler(**args)
        except TakeLogError as exc:
            raise ControlError(str(exc)) from None
        except TypeError as exc:
            raise ControlError(f"{cmd}: bad arguments ({exc})") from None

    def do_status(self):
        cues = self.sheet.cues
        cue = cues[self.current] if cues else None
        upcoming = cues[self.current + 1] if self.current + 1 < len(cues) else None
        status = {
            "timecode": "01:00:11:07",
            "lock": "locked",
            "rate": "25",
            "speed": 1.0,
            "mode": self.mode,
            "cue": cue.to_dict() if cue else None,
            "next_cue": upcoming.to_dict() if upcoming else None,
            "take": self.log.upcoming_take(cue.number) if cue else None,
            "recording": False,
            "pass_active": True,
            "lights": {"cue_light": True, "record_light": False},
            "levels_dbfs": [-6.0, -20.0],
            "channel_names": ["Mic 1", "LTC"],
            "xruns": 0,
            "disk_seconds_left": 45296.0,
            "message": "cue 101 armed",
            "cue_sheet": str(self.sheet.path),
            "takes_folder": self.takes_folder,
            "uptime": 3723.5,
            "writer": {"recording": False, "queued_frames": 0, "error": None},
        }
        status.update(self.extra)
        return status

    def do_cues_load_real(self, path, encoding=None):
        try:
            # the stage's rate, as configured
            sheet = load_cue_sheet(path, self.sheet.rate, encoding=encoding)
        except CueSheetError as exc:
            raise ControlError(str(exc)) from None
        except OSError as exc:
            raise ControlError(f"{path}: {exc.strerror}") from None
        self.sheet, self.current = sheet, 0
        return {
            "path": str(sheet.path),
            "cues": len(sheet),
            "rate": sheet.rate.name,
            "format": sheet.source_format,
            "encoding": sheet.encoding,
            "warnings": list(sheet.warnings),
        }

    def do_cues_load(self, path, encoding=None):
        return self.do_cues_load_real(path, encoding)

    def do_cues_list(self):
        return [cue.to_dict() for cue in self.sheet]

    def do_cue(self, which):
        cues = self.sheet.cues
        if which == "next":
            if self.current + 1 >= len(cues):
                raise ControlError(f"cue {cues[self.current].number} is the last cue")
            self.current += 1
        elif which == "previous":
            if self.current == 0:
                raise ControlError(f"cue {cues[0].number} is the first cue")
            self.current -= 1
        else:
            try:
                self.current = self.sheet.index(which)
            except KeyError as exc:
                raise ControlError(exc.args[0]) from None
        return cues[self.current].to_dict()

    def do_mode(self, mode):
        if mode not in MODES:
            raise ControlError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        return {"mode": mode}

    def do_takes(self, cue=None):
        return [r.to_dict() for r in self.log.takes(cue)]

    def do_take_circle(self, cue, take, circled):
        return self.log.circle(cue, take, circled).to_dict()

    def do_take_note(self, cue, take, text):
        return self.log.note(cue, take, text).to_dict()

    def do_report(self):
        out = io.StringIO()
        self.log.report_csv(out)
        return {"csv": out.getvalue()}

    def do_roomtone(self, seconds=30, scene=""):
        cue = self.sheet.cues[self.current]
        name = f"RT-R{cue.reel}-SC{scene or cue.scene}"
        return {
            "kind": "roomtone",
            "cue": name,
            "take": 1,
            "state": "recording",
            "seconds": seconds,
        }

    def do_wild(self, cue=None, seconds=None):
        number = cue or self.sheet.cues[self.current].number
        answer = {"kind": "wild", "cue": number, "take": 3, "state": "count-in"}
        return {**answer, "seconds": seconds, "count_in": 3.25}

    def do_lights_test(self):
        if self.mode != "safe":
            raise ControlError(f"lights test needs safe mode (the stage is in {self.mode} mode)")
        return {
            "steps": [
                "on:  cue_light",
                "off: cue_light",
                "on:  record_light",
                "off: record_light",
                "all on",
                "all off",
            ]
        }
