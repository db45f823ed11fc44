"""The take log: every take recorded on the stage, its number, file, circle and note.

The log lives in the takes folder as `takes.jsonl`: one JSON object per event (a take number
reserved, a take recorded, circled, noted), appended and fsynced, so a power cut loses at most
the event being written. A torn last line (the crash came mid-write) is skipped with a warning;
the next event starts on a fresh line, and nothing already written is ever rewritten.

Take numbers per cue only ever go up, also across restarts: the next number is one above the
highest of (a) every number the log has handed out and (b) every take file in the folder whose
name the template gives that cue. So deleting files or losing the log's last line never reuses
a number, and a take is never overwritten.

`next_take` writes its reservation without waiting for the disk (one small append to an open
file), so the stage may call it when it punches in; recording, circling and noting a take wait
for fsync: call those from the writer or control thread, never from the audio path. Methods
are thread-safe.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import IO

from stagebox.cues.sheet import cue_key
from stagebox.safefile import TAKE_LOG_MAX_BYTES, FileRefused, read_bounded
from stagebox.takes.names import (
    DEFAULT_TEMPLATE,
    format_take_name,
    parse_template,
    take_name_pattern,
)
from stagebox.timecode import Rate, Timecode

log = logging.getLogger(__name__)

LOG_NAME = "takes.jsonl"

# What became of a take: every take the crew sees has one of these.
RECORDING = "recording"  # the writer has it open now
COMPLETE = "complete"  # punched in and out as planned, every sample on disk
INTERRUPTED = "interrupted"  # on disk, but ended before TC-out (the reason says why)
REPAIRED = "repaired"  # left open by a crash, finished by `take repair` or the next start
FAILED = "failed"  # no file: it could not be opened (the reason says why)
MISSING = "missing"  # logged, but its file is no longer in the takes folder
STATES = (RECORDING, COMPLETE, INTERRUPTED, REPAIRED, FAILED, MISSING)
ON_DISK = (RECORDING, COMPLETE, INTERRUPTED, REPAIRED)  # states whose file exists


class TakeLogError(ValueError):
    """A take log operation that cannot be done (unknown take, a take number used twice)."""


@dataclass(frozen=True)
class TakeRecord:
    """One recorded take. Timecodes are kept as labels with the rate they are at."""

    cue: str
    take: int  # 1, 2, 3 ... per cue
    file: str  # file name relative to the takes folder
    tc_in: str | Timecode  # label of the take's first frame (its first sample)
    tc_out: str | Timecode  # label of the first frame after the take
    sample_rate: int  # Hz
    frames: int  # audio sample frames in the file (samples per channel)
    rate: str = ""  # timecode rate name ("25", "29.97df"); taken from tc_in if a Timecode
    circled: bool = False
    note: str = ""  # the engineer's note
    flags: tuple[str, ...] = ()  # what the stage noticed: "late pickup", "LTC lost" ...
    character: str = ""
    started: str = ""  # ISO 8601 local time the take started
    state: str = COMPLETE  # one of STATES
    reason: str = ""  # why a take is interrupted, failed, repaired or missing
    line: str = ""  # the line recorded, as the cue sheet gives it
    original_line: str = ""  # dubbing: the original-language line
    tags: str = ""  # the cue's other tags, in the tag grammar ("{R=Off mic} [EFF]")
    sync: str = ""  # the sync verdict against the guide ("in sync (96%, +0.2 fr)"), "" unscored
    kind: str = "line"  # line (a pass through LTC), wild or roomtone (stagebox.localtake)
    stamp: str = "LTC"  # what TC-in and TimeReference are: "LTC" or "time of day"

    def __post_init__(self) -> None:
        rate = self.rate
        for name in ("tc_in", "tc_out"):
            value = getattr(self, name)
            if isinstance(value, Timecode):
                rate = rate or value.rate.name
                object.__setattr__(self, name, str(value))
        object.__setattr__(self, "rate", rate)
        object.__setattr__(self, "flags", tuple(self.flags))
        object.__setattr__(self, "take", int(self.take))
        if not self.started:
            object.__setattr__(self, "started", _now())

    @property
    def duration(self) -> float:
        """Length of the take in seconds."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    @property
    def full_note(self) -> str:
        """The flags, the sync verdict and the note as one text: what the iXML NOTE carries."""
        sync = [f"sync: {self.sync}"] if self.sync else []
        return "; ".join([*self.flags, *sync, *([self.note] if self.note else [])])

    def timecodes(self) -> tuple[Timecode, Timecode]:
        rate = Rate.parse(self.rate)
        return Timecode.parse(self.tc_in, rate), Timecode.parse(self.tc_out, rate)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TakeRecord:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["flags"] = tuple(values.get("flags", ()))
        return cls(**values)


@dataclass
class _CueTakes:
    highest: int = 0  # highest take number handed out or found
    scanned: bool = False  # take files in the folder already looked at
    records: dict[int, TakeRecord] = field(default_factory=dict)


class TakeLog:
    """The takes of a takes folder, persisted in `<folder>/takes.jsonl`.

    `on_change(record)` is called after a take is circled, un-circled or noted, once the event
    is safely in the log (the engine uses it to update the take file's iXML CIRCLED and NOTE).
    An exception from it propagates to the caller; the log event stays written.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        template: str = DEFAULT_TEMPLATE,
        on_change: Callable[[TakeRecord], None] | None = None,
        check: Callable[[TakeRecord], None] | None = None,
    ) -> None:
        parse_template(template)  # a bad template fails here, when the service starts
        self.folder = Path(folder)
        self.path = self.folder / LOG_NAME
        self.template = template
        self.on_change = on_change
        # `check(record)` before a circle or note is logged: raises TakeLogError to refuse
        # it (the service: a note must fit the take file's iXML, so log and file agree).
        self.check = check
        self.warnings: list[str] = []  # problems found reading the log
        self._lock = threading.Lock()
        self._cues: dict[str, _CueTakes] = {}
        self._order: list[str] = []  # cue keys in the order takes were first logged
        self._file_names: list[str] | None = None
        self._needs_newline = False
        self._fd: int | None = None
        self.latest: TakeRecord | None = None  # the take logged or changed last
        self._load()

    # -- numbering ----------------------------------------------------------------------------

    def next_take(self, cue: str) -> int:
        """Reserve and return the next take number of `cue` (written to the log, not fsynced:
        if a power cut loses the reservation, the take file it names still holds the number)."""
        with self._lock:
            entry = self._entry(cue)
            take = entry.highest + 1
            self._append({"event": "reserve", "cue": cue, "take": take, "at": _now()}, sync=False)
            entry.highest = take
            return take

    def upcoming_take(self, cue: str) -> int:
        """The number `next_take` would give now, without reserving it (for displays)."""
        with self._lock:
            return self._entry(cue).highest + 1

    def take_name(self, cue: str, take: int, *, character: str = "", project: str = "") -> str:
        """The file name the template gives this take."""
        return format_take_name(
            self.template, cue=cue, take=take, character=character, project=project
        )

    # -- events -------------------------------------------------------------------------------

    def record_take(self, record: TakeRecord) -> None:
        """Log a take: opened (state recording), then its outcome, which replaces the
        recording entry (TakeLogError if that cue already has that take finished)."""
        with self._lock:
            entry = self._entry(record.cue)
            if record.take in entry.records and entry.records[record.take].state != RECORDING:
                raise TakeLogError(
                    f"take {record.take} of cue {record.cue} is already logged "
                    f"({entry.records[record.take].file})"
                )
            was = entry.records.get(record.take)
            if was is not None:  # circled or noted while it was recording: that stays
                record = replace(
                    record,
                    circled=was.circled,
                    note=was.note,
                    started=was.started,
                    sync=record.sync or was.sync,
                )
            self._append({"event": "take", **record.to_dict()})
            self._apply_take(record)
        if was is not None and (was.circled or was.note) and self.on_change is not None:
            self.on_change(record)  # now the file is closed, its iXML takes them

    def set_state(
        self, cue: str, take: int, state: str, reason: str = "", frames: int | None = None
    ) -> TakeRecord:
        """A take's state as the folder shows it (repaired, missing...), with the frames on
        disk when they are known; returns the updated record."""
        if state not in STATES:
            raise ValueError(f"unknown take state {state!r}")
        with self._lock:
            record = self._record(cue, take)
            event = {"event": "state", "cue": cue, "take": take, "state": state}
            event.update(reason=reason, at=_now())
            if frames is not None:
                event["frames"] = int(frames)
            self._append(event)
            record = _with_state(record, event)
            self._entry(cue).records[take] = record
            self.latest = record
        return record

    def circle(
        self, cue: str, take: int, circled: bool = True, *, by: str | None = None
    ) -> TakeRecord:
        """Circle (or un-circle) a take; returns the updated record. `by`: who did it (the
        control client's user, "button"), kept in the log's event for the take's history."""
        with self._lock:
            record = replace(self._record(cue, take), circled=bool(circled))
            if self.check is not None:
                self.check(record)
            event = {"event": "circle", "cue": cue, "take": take, "circled": circled}
            self._append({**event, "at": _now(), **({"by": by} if by else {})})
            self._entry(cue).records[take] = record
        if self.on_change is not None:
            self.on_change(record)
        return record

    def note(self, cue: str, take: int, text: str, *, by: str | None = None) -> TakeRecord:
        """Set the engineer's note of a take (replacing the previous note; flags stay);
        `by` as for `circle`."""
        with self._lock:
            record = replace(self._record(cue, take), note=str(text))
            if self.check is not None:
                self.check(record)
            event = {"event": "note", "cue": cue, "take": take, "text": text}
            self._append({**event, "at": _now(), **({"by": by} if by else {})})
            self._entry(cue).records[take] = record
        if self.on_change is not None:
            self.on_change(record)
        return record

    def set_sync(self, cue: str, take: int, verdict: str) -> TakeRecord:
        """Keep a take's sync verdict (the scorer's one line); it goes into the report's sync
        column and, through `on_change`, the take file's iXML NOTE."""
        with self._lock:
            record = self._record(cue, take)
            self._append(
                {"event": "sync", "cue": cue, "take": take, "verdict": verdict, "at": _now()}
            )
            record = replace(record, sync=str(verdict))
            self._entry(cue).records[take] = record
            latest = self.latest
            if latest is not None and (latest.cue, latest.take) == (cue, take):
                self.latest = record  # the newest take, now with its verdict
        if self.on_change is not None:
            self.on_change(record)
        return record

    # -- reading ------------------------------------------------------------------------------

    def takes(self, cue: str | None = None) -> list[TakeRecord]:
        """Recorded takes, of one cue or all, in cue order of first take, then take number."""
        with self._lock:
            keys = [cue_key(cue)] if cue is not None else list(self._order)
            out: list[TakeRecord] = []
            for key in keys:
                entry = self._cues.get(key)
                if entry is not None:
                    out.extend(entry.records[t] for t in sorted(entry.records))
            return out

    def get(self, cue: str, take: int) -> TakeRecord:
        with self._lock:
            return self._record(cue, take)

    def report_csv(self, out: str | Path | IO[str]) -> int:
        """Write the take report (`report.REPORT_COLUMNS`) of the takes on disk; returns
        the number of takes written (see `report.write_report`)."""
        from stagebox.takes.report import write_report

        return write_report(out, [r for r in self.takes() if r.state in ON_DISK], self.folder)

    # -- internals ----------------------------------------------------------------------------

    def _entry(self, cue: str) -> _CueTakes:
        key = cue_key(cue)
        entry = self._cues.get(key)
        if entry is None:
            entry = self._cues[key] = _CueTakes()
        if not entry.scanned:
            entry.highest = max(entry.highest, self._highest_on_disk(cue))
            entry.scanned = True
        return entry

    def _record(self, cue: str, take: int) -> TakeRecord:
        entry = self._cues.get(cue_key(cue))
        if entry is None or take not in entry.records:
            known = sorted(entry.records) if entry else []
            raise TakeLogError(
                f"no take {take} of cue {cue} in {self.path}"
                + (f" (takes: {', '.join(map(str, known))})" if known else " (no takes)")
            )
        return entry.records[take]

    def _highest_on_disk(self, cue: str) -> int:
        if self._file_names is None:
            try:
                self._file_names = os.listdir(self.folder)
            except FileNotFoundError:
                self._file_names = []
        pattern = take_name_pattern(self.template, cue)
        highest = 0
        for name in self._file_names:
            match = pattern.fullmatch(name)
            if match:
                highest = max(highest, int(match.group(1)))
        return highest

    def _apply_take(self, record: TakeRecord) -> None:
        self.latest = record
        key = cue_key(record.cue)
        entry = self._cues.setdefault(key, _CueTakes())
        if not entry.records and key not in self._order:
            self._order.append(key)
        entry.records[record.take] = record
        entry.highest = max(entry.highest, record.take)

    def close(self) -> None:
        """Close the log file (it reopens on the next event)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> TakeLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _append(self, event: dict, *, sync: bool = True) -> None:
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
        if self._needs_newline:
            line = "\n" + line  # close a torn last line; never rewrite it
        if self._fd is None:
            new = not self.path.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if new:
                # Here, not at the top: reading the log (`stagebox takes`) needs no numpy.
                from stagebox.takes.disk import fsync_dir

                fsync_dir(self.folder)
        data = line.encode("utf-8")
        written = os.write(self._fd, data)
        if written != len(data):
            # A short write (disk full): what made it is a torn line, closed by the next event.
            self._needs_newline = True
            raise OSError(f"{self.path}: disk full? wrote {written} of {len(data)} bytes")
        if sync:
            os.fsync(self._fd)
        self._needs_newline = False

    def _load(self) -> None:
        if not os.path.lexists(self.path):
            return
        try:
            data = read_bounded(self.path, TAKE_LOG_MAX_BYTES, "take log")
        except FileRefused as exc:
            raise TakeLogError(str(exc)) from None
        lines = data.split(b"\n")
        if data and not data.endswith(b"\n"):
            self._needs_newline = True
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw.decode("utf-8"))
                self._apply_event(event)
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
                what = "torn last line (a crash while writing)" if last else "unreadable line"
                message = f"{self.path} line {number}: {what} skipped: {exc}"
                self.warnings.append(message)
                log.warning("%s", message)

    def _apply_event(self, event: dict) -> None:
        kind = event["event"]
        cue = str(event["cue"])
        if kind == "take":
            self._apply_take(TakeRecord.from_dict(event))
            return
        take = int(event["take"])
        key = cue_key(cue)
        entry = self._cues.setdefault(key, _CueTakes())
        if kind == "reserve":
            entry.highest = max(entry.highest, take)
        elif kind in ("circle", "note", "state", "sync"):
            record = entry.records.get(take)
            if record is None:
                raise KeyError(f"{kind} of take {take} of cue {cue}, which is not logged")
            if kind == "state":
                entry.records[take] = _with_state(record, event)
            elif kind == "circle":
                entry.records[take] = replace(record, circled=bool(event["circled"]))
            elif kind == "sync":
                entry.records[take] = replace(record, sync=str(event["verdict"]))
            else:
                entry.records[take] = replace(record, note=str(event["text"]))
        else:
            raise ValueError(f"unknown event {kind!r}")


def _with_state(record: TakeRecord, event: dict) -> TakeRecord:
    state = str(event["state"])
    if state not in STATES:
        raise ValueError(f"unknown take state {state!r}")
    frames = int(event["frames"]) if event.get("frames") is not None else record.frames
    return replace(record, state=state, reason=str(event.get("reason", "")), frames=frames)


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")
