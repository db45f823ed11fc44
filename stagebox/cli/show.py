"""Human-readable text for what the service answers: cues, takes, the stage status.

Aligned columns, times as timecode, lengths in seconds; every function returns lines so the
commands print them and the tests read them. Text from notes and sheets is shown with its
control characters escaped (stagebox.termtext). The cue and the take record are imported where
they are read, so `stagebox status` loads neither the cue sheet importers nor the take path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stagebox.termtext import printable
from stagebox.timecode import TimecodeError, format_span


def table(
    header: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()
) -> list[str]:
    """Rows as aligned columns under `header`; columns in `right` are right-aligned.

    The last column is not padded, so a long dialogue line does not drag trailing spaces.
    """
    rows = [[printable(c) for c in row] for row in rows]
    right = set(right)
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    out = []
    for row in [list(header), *rows]:
        cells = []
        for i, cell in enumerate(row):
            if i == len(row) - 1 and i not in right:
                cells.append(cell)
            elif i in right:
                cells.append(cell.rjust(widths[i]))
            else:
                cells.append(cell.ljust(widths[i]))
        out.append("  ".join(cells).rstrip())
    return out


def one_line(text: str) -> str:
    return printable(" ".join(str(text).split()))


def cue_length(cue: dict) -> str:
    """Seconds from TC-in to TC-out, from the cue's own timecodes and rate."""
    from stagebox.cues.cue import Cue

    try:
        parsed = Cue.from_dict(cue)
    except (KeyError, TimecodeError, ValueError):
        return "?"
    return f"{parsed.duration_frames / float(parsed.tc_in.rate.fps):.1f}s"


def cue_summary(cue: dict | None) -> str:
    """`101  DETECTIVE HALE  01:00:10:00-01:00:13:05 (3.2s)  "Where were you?"`"""
    if not cue:
        return "none"
    parts = [str(cue.get("number", "?"))]
    if cue.get("character"):
        parts.append(cue["character"])
    if has_span(cue):
        parts.append(f"{cue.get('tc_in', '?')}-{cue.get('tc_out', '?')} ({cue_length(cue)})")
    if cue.get("dialogue"):
        parts.append(f'"{one_line(cue["dialogue"])}"')
    return printable("  ".join(parts))


def has_span(cue: dict) -> bool:
    """False for a "cue" with no timecode span (room tone's RT-R1-SC4: TC-in = TC-out), whose
    00:00:00:00-00:00:00:00 would only mislead; a sheet's cues always have one."""
    return cue.get("tc_in") is None or cue.get("tc_in") != cue.get("tc_out")


def cue_table(
    cues: list[dict], current: str | None = None, upcoming: str | None = None
) -> list[str]:
    """The cue list; `>` marks the current cue, `+` the next one."""
    rows = []
    for cue in cues:
        number = str(cue.get("number", "?"))
        mark = ">" if number == current else "+" if number == upcoming else ""
        rows.append(
            [
                mark,
                number,
                cue.get("tc_in", "?"),
                cue.get("tc_out", "?"),
                cue_length(cue),
                one_line(cue.get("character", "")),
                one_line(cue.get("dialogue", "")),
            ]
        )
    return table(["", "CUE", "TC IN", "TC OUT", "LENGTH", "CHARACTER", "DIALOGUE"], rows, {1, 4})


def take_table(takes: list[dict]) -> list[str]:
    """The takes as the engineer reads them: `O` marks a circled take, STATE what became of
    it (complete, interrupted, repaired, failed: no file, missing: its file is gone), SYNC the
    take's sync verdict against its guide, and NOTE why, before what the stage flagged and the
    engineer's note."""
    from stagebox.takes.log import TakeRecord

    rows = []
    for data in takes:
        take = TakeRecord.from_dict(data)
        note = "; ".join([*take.flags, *([take.note] if take.note else [])])
        if take.reason and take.reason not in note:
            note = f"{take.reason}; {note}" if note else take.reason
        rows.append(
            [
                take.cue,
                str(take.take),
                "O" if take.circled else "",
                take.state,
                str(take.tc_in),
                str(take.tc_out),
                f"{take.duration:.2f}s",
                take.character,
                "-" if take.state == "failed" else take.file,
                take.sync,
                note,
            ]
        )
    header = [
        "CUE",
        "TAKE",
        "",
        "STATE",
        "TC IN",
        "TC OUT",
        "LENGTH",
        "CHARACTER",
        "FILE",
        "SYNC",
        "NOTE",
    ]
    return table(header, rows, {0, 1, 6})


def take_summary(data: dict) -> str:
    """`101 take 3: circled, note: director's pick  (101_T03.wav)`"""
    from stagebox.takes.log import TakeRecord

    take = TakeRecord.from_dict(data)
    state = "circled" if take.circled else "not circled"
    note = f", note: {take.full_note}" if take.full_note else ""
    return printable(f"{take.cue} take {take.take}: {state}{note}  ({take.file})")


def levels(status: dict) -> str:
    names = list(status.get("channel_names") or [])
    values = list(status.get("levels_dbfs") or [])
    parts = []
    for i, value in enumerate(values):
        name = names[i] if i < len(names) else f"In {i + 1}"
        parts.append(f"{name} {_dbfs(value)}")
    return ", ".join(parts) or "no input"


def _dbfs(value: float | None) -> str:
    if value is None or value != value or value < -120:  # None, NaN, -inf: silence
        return "-inf dBFS"
    return f"{value:.1f} dBFS"


def phones_summary(phones: dict) -> str:
    """The actor's headphone feed in a few words: its peak, talkback, clipping."""
    out = (phones.get("meters_dbfs") or {}).get("phones")
    parts = ["out " + ("silent" if out is None else f"{out:.1f} dBFS")]
    parts.append("talkback LIVE" if phones.get("talkback_live") else "talkback off")
    if phones.get("clipped"):
        parts.append(f"{phones['clipped']} samples clipped")
    return ", ".join(parts)


def status_lines(status: dict) -> list[str]:
    """`stagebox status` as label/value lines."""
    speed = status.get("speed")
    rate = status.get("rate")
    tc = [status.get("timecode") or "--:--:--:--", status.get("lock") or "lost"]
    if rate:
        tc.append(f"{rate} fps")
    if speed is not None:
        tc.append(f"speed {speed:.3f}x")
    take = status.get("take")
    last = status.get("last_take") or {}
    if status.get("mode") == "review":  # the take playing back: "REVIEW 103 take 2"
        take_text = f"REVIEW {status.get('review') or 'no take'}"
    elif take is None:
        take_text = "none"
    elif status.get("recording") and status.get("fault"):
        take_text = f"{take} NOT RECORDED: {status['fault']}"
    elif status.get("recording"):
        take_text = f"{take} (recording)"
    else:
        take_text = f"{take} (next)"
    last_text = "none"
    if last:
        last_text = f"cue {last['cue']} take {last['take']} {last['state']}"
        last_text += f": {last['reason']}" if last.get("reason") else ""
        last_text += f"; sync: {last['sync']}" if last.get("sync") else ""
    if status.get("local"):  # room tone / wild line: what it is and its countdown
        take_text += f", {status['local'].get('line', '')}"
    elif status.get("pass_active"):
        take_text += ", pass in progress"
    lights = status.get("lights") or {}
    writer = status.get("writer") or {}
    writer_text = "recording" if writer.get("recording") else "idle"
    writer_text += f", {writer.get('queued_frames', 0)} frames queued"
    if writer.get("error"):
        writer_text += f", error: {writer['error']}"
    pairs = [
        ("timecode", "  ".join(tc)),
        ("mode", status.get("mode") or "starting"),
        ("cue", cue_summary(status.get("cue"))),
        ("next cue", cue_summary(status.get("next_cue"))),
        ("take", take_text),
        ("last take", last_text),
        ("lights", ", ".join(f"{k} {'on' if v else 'off'}" for k, v in lights.items()) or "none"),
        ("inputs", levels(status)),
        *([("phones", phones_summary(status["phones"]))] if status.get("phones") else []),
        ("xruns", str(status.get("xruns", 0))),
        ("disk", f"{format_span(status.get('disk_seconds_left'))} left"),
        ("writer", writer_text),
        ("cue sheet", status.get("cue_sheet") or "none loaded"),
        ("takes", status.get("takes_folder") or "?"),
        ("uptime", format_span(status.get("uptime"), with_seconds=True)),
        ("message", status.get("message") or ""),
    ]
    # What the crew must not miss comes first: takes not being written, rates that disagree.
    problems = [("FAULT", f"NOT RECORDING: {status['fault']}")] if status.get("fault") else []
    if status.get("warning"):
        problems.append(("WARNING", status["warning"]))
    return [printable(f"{label:<10} {value}".rstrip()) for label, value in problems + pairs]
