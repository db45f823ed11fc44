"""The service's room tone and wild line commands (`stagebox roomtone`, `stagebox wild`, and
the ROOM TONE / WILD buttons): resolved off the audio path, started or stopped on it.

`local_args` runs on the control connection's (or the button's) thread: it finds the cue,
names the room-tone "cue" and has the take book number it (disk I/O, which the audio thread
never does). `apply_local` runs on the audio thread on a period boundary: it refuses what may
not be recorded now (a record fault, a take recording, the DAW rolling through a cue, a safe
stage), stops the running one when the same command comes again, else starts the pass there.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re

from stagebox.control.protocol import ControlError
from stagebox.localtake import (
    MAX_SECONDS,
    ROOMTONE,
    ROOMTONE_SECONDS,
    WILD,
    LocalRequest,
    roomtone_cue,
    roomtone_details,
)
from stagebox.timecode import RATE_25

log = logging.getLogger("stagebox.service")

LOCAL_COMMANDS = (ROOMTONE, WILD)
_SCENE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)


def _what(kind: str) -> str:
    return "room tone" if kind == ROOMTONE else "wild line"


def stamp_rate(service):
    """The rate a time-of-day stamp is written at: the LTC's last measured rate, else the
    current cue's, else the configured `timecode.rate`, else 25."""
    engine = service.engine
    cue = engine.stage.cue
    return (
        engine.clock.rate
        or (cue.tc_in.rate if cue is not None else None)
        or service.cfg.timecode.rate
        or RATE_25
    )


def local_args(service, kind: str, args: dict) -> dict:
    """The command's arguments resolved (control or button thread): the cue of a wild line
    or the room-tone cue, numbered in the take book. ControlError for a bad request."""
    stage = service.engine.stage
    running = stage.local
    if running is not None and running.kind == kind:
        return {"stop": True}  # the second press: nothing to resolve
    seconds = args.get("seconds")
    if kind == ROOMTONE:
        scene = str(args.get("scene") or "")
        if scene and not _SCENE.fullmatch(scene):
            raise ControlError(
                f"roomtone: scene {scene!r} must be letters, digits, '.', '_' or '-' "
                "(up to 32, starting with a letter or digit)"
            )
        cue = roomtone_cue(stage.cue, scene, stamp_rate(service))
        seconds = ROOMTONE_SECONDS if seconds is None else seconds
        details = roomtone_details(cue)
    else:
        which = args.get("cue")
        if which is not None:
            cue = stage.find(str(which))
            if cue is None:
                raise ControlError(f"wild: no cue {which!r} in the cue sheet")
        else:
            cue = stage.cue
            if cue is None:
                raise ControlError("wild: no cue selected (load a cue sheet, or give --cue N)")
        details = tuple(cue.details())
    if seconds is not None and not 1 <= seconds <= MAX_SECONDS:
        raise ControlError(f"{kind}: seconds must be 1 to {MAX_SECONDS}, not {seconds}")
    service.book.prime([cue])  # the take number: from the log and the folder, off audio
    return {"cue": cue, "seconds": seconds, "details": details}


def apply_local(service, kind: str, args: dict, sample: int) -> dict:
    """Start (or, the second time, stop) a room tone or wild take at `sample` (audio thread).
    A refusal raises ValueError and is also said in the journal and on the views."""
    stage = service.engine.stage
    running = stage.local
    if running is not None and running.kind == kind:
        cue, take = running.request.cue.number, stage.current.take
        done = stage.stop_local(sample)
        log.info("%s of %s %s", _what(kind), cue, done)
        return {"kind": kind, "cue": cue, "take": take, "state": "stopped", "detail": done}
    try:
        if args.get("stop"):  # it ended between the press and now: nothing to stop
            raise ValueError(f"no {_what(kind)} is recording")
        fault = service.fault.reason
        if fault:
            raise ValueError(f"{_what(kind)} not recorded: {fault}")
        request = LocalRequest(
            kind=kind,
            cue=args["cue"],
            seconds=args["seconds"],
            day_seconds=_seconds_since_midnight(),
            rate=stamp_rate(service),
            details=args["details"],
        )
        view = stage.start_local(request, sample)
    except ValueError as exc:
        refusal = f"{_what(kind)} refused: {exc}"
        service._say(refusal)
        log.warning("%s", refusal)
        raise
    cue = request.cue.number
    take = service.book.upcoming(cue)
    length = f"{request.seconds:g} s" if request.seconds else "until stopped"
    log.info("%s: %s take %d, %s", _what(kind), cue, take, length)
    service._say(f"{_what(kind)} {cue} take {take}")
    state = "count-in" if kind == WILD else "recording"
    return {
        "kind": kind,
        "cue": cue,
        "take": take,
        "state": state,
        "seconds": request.seconds,
        # seconds of beeps before the take (room tone: none; it starts the stage's look-ahead
        # after the command, so the record light, planned that far ahead, lights on time)
        "count_in": (view.punch_in - view.start) / view.sample_rate if kind == WILD else 0.0,
    }


def _seconds_since_midnight() -> float:
    """Local wall-clock time now, in seconds since midnight (the time-of-day stamp: the
    command's period boundary is now to within an audio period)."""
    now = _dt.datetime.now()
    return now.hour * 3600 + now.minute * 60 + now.second + now.microsecond / 1e6
