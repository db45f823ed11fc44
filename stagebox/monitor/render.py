"""One frame of `stagebox monitor` from one `status` answer: a pure function of its input.

Layout (80x24 and up; wider and taller terminals get a bigger timecode and longer meters):

    stagebox  RECORD                                           cue sheet  up 1:02:03
     big timecode                        LOCKED  25 fps  speed 1.000x
     ...                                 TAKE 3  ● REC
                                         T2 IN SYNC 96% +12ms
                                         cue ●  record ○
    CUE  101  DETECTIVE HALE  01:00:10:00 → 01:00:13:05
         "Where were you on the night..." (wrapped)
    NEXT 102  MARY  01:00:20:00  "first words…"
    Mic 1  ████████████████░░░░░▌░░░░░░  -12.0
    LTC    ...
    xruns 0   disk 12:34 left   writer idle
    message
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

from stagebox.cli.show import has_span
from stagebox.monitor import bigdigits, meter
from stagebox.monitor.ansi import Style, clip, pad, visible_width
from stagebox.phones.matrix import SOURCES as PHONE_SOURCES
from stagebox.termtext import printable_data
from stagebox.timecode import format_span

UNICODE = {
    "lit": "█",
    "unlit": "░",
    "on": "●",
    "off": "○",
    "hold": "▌",
    "more": "…",
    "arrow": "→",
    "dash": "—",
}
ASCII = {
    "lit": "#",
    "unlit": ".",
    "on": "*",
    "off": "o",
    "hold": "|",
    "more": "~",
    "arrow": "->",
    "dash": "-",
}

MODE_STYLE = {"record": "on_red", "rehearse": "on_yellow", "safe": "on_blue", "review": "on_green"}
LOCK_STYLE = {"locked": "green", "freewheel": "yellow", "lost": "red"}
NO_TIMECODE = "--:--:--:--"
SIDE_MIN = 24  # columns the panel beside the big timecode needs, else it goes below


def render(
    status: dict | None,
    width: int,
    height: int,
    *,
    hold: Sequence[float] | None = None,
    colour: bool = False,
    ascii: bool = False,
    error: str = "",
) -> list[str]:
    """The frame's lines, each at most `width` columns, at most `height` of them.

    `status` is the service's `status` answer, or None while it is not reachable (then
    `error` says why). `hold` is the held peak per channel (meter.PeakHold); without it the
    peak marks sit at the current levels.
    """
    width = max(1, width)
    height = max(1, height)
    g = ASCII if ascii else UNICODE
    s = Style(colour)
    if status is None:
        lines = _offline(width, height, g, s, error)
    else:
        lines = _frame(status, width, height, hold, g, s)
    return [clip(line, width) for line in lines[:height]]


def _offline(width: int, height: int, g: dict, s: Style, error: str) -> list[str]:
    lines = [s("stagebox", "bold") + "  " + s(f"not running {g['dash']} retrying", "red", "bold")]
    lines += [""] + [" " + row for row in bigdigits.big_text(NO_TIMECODE, 1, g["lit"])] + [""]
    for part in textwrap.wrap(error, max(10, width - 2)) if error else []:
        lines.append(" " + s(part, "dim"))
    lines.append(" " + s("q quits", "dim"))
    return lines


def _frame(
    status: dict, width: int, height: int, hold: Sequence[float] | None, g: dict, s: Style
) -> list[str]:
    header = _header(status, width, s)
    status = printable_data(status)  # notes and sheet text: no escapes reach the terminal
    timecode = status.get("timecode") or NO_TIMECODE
    side = _side_panel(status, g, s)

    # The biggest timecode that fits with the side panel beside it and leaves the rows the
    # rest of the frame needs; scale 1 (37 columns, 5 rows) is the least.
    scale = 1
    for candidate in (3, 2):
        fits_beside = bigdigits.big_width(timecode, candidate) + 4 + SIDE_MIN <= width
        if fits_beside and bigdigits.ROWS * candidate + 14 <= height:
            scale = candidate
            break
    big = [" " + row for row in bigdigits.big_text(timecode, scale, g["lit"])]
    big_w = bigdigits.big_width(timecode, scale) + 1
    top: list[str] = []
    if width - big_w - 3 >= SIDE_MIN:
        for i in range(max(len(big), len(side))):
            left = big[i] if i < len(big) else ""
            right = side[i] if i < len(side) else ""
            top.append((pad(left, big_w + 3) + right) if right else left)
    else:
        top = big + [" " + line for line in side]

    cue_lines = _cue(status.get("cue"), "CUE ", width, g, s, bold=True)
    next_line = _cue(status.get("next_cue"), "NEXT", width, g, s, bold=False)[:1]
    meters = _meters(status, width, hold, g, s)
    footer = _footer(status, g, s)
    message = status.get("message") or ""
    message_lines = [" " + s(message, "yellow")] if message else []
    if status.get("local"):  # room tone / wild line: what it is and its countdown
        message_lines.insert(0, " " + s(str(status["local"].get("line", "")), "red", "bold"))
    for problem in (status.get("warning"), status.get("fault")):
        if problem:  # a fault: takes are not being written; a warning: rates disagree
            colour = "red" if problem == status.get("fault") else "yellow"
            message_lines.insert(0, " " + s(problem, colour))

    # Fit the height: dialogue lines go first, then blank lines, then meters beyond the first.
    def assemble(dialogue: int, blanks: bool, meter_rows: int) -> list[str]:
        gap = [""] if blanks else []
        shown = meters[:meter_rows]
        if meter_rows < len(meters):
            shown = meters[: max(0, meter_rows - 1)] + [
                f"  {g['more']} {len(meters) - meter_rows + 1} more channels"
            ]
        return (
            [header]
            + top
            + gap
            + _first_lines(cue_lines, 1 + dialogue, width, g)
            + next_line
            + gap
            + shown
            + gap
            + footer
            + message_lines
        )

    dialogue = min(len(cue_lines) - 1, max(3, height - 24 + 3))
    lines = assemble(dialogue, True, len(meters))
    while len(lines) > height and dialogue > 1:
        dialogue -= 1
        lines = assemble(dialogue, True, len(meters))
    if len(lines) > height:
        lines = assemble(dialogue, False, len(meters))
    rows = len(meters)
    while len(lines) > height and rows > 1:
        rows -= 1
        lines = assemble(dialogue, False, rows)
    return lines


def _first_lines(lines: list[str], count: int, width: int, g: dict) -> list[str]:
    """The first `count` lines; the last one shown ends with a mark if any were left off."""
    shown = lines[:count]
    if len(lines) > count:
        shown[-1] = clip(shown[-1] + " " + g["more"], width, g["more"])
    return shown


def _header(status: dict, width: int, s: Style) -> str:
    mode = str(status.get("mode") or "?")
    shown = mode.upper()
    if mode == "review":  # the take playing back: REVIEW 103 take 2
        shown += f" {status.get('review') or 'no take'}"
    left = s("stagebox", "bold") + "  " + s(f" {shown} ", MODE_STYLE.get(mode, "bold"))
    right_parts = []
    if status.get("cue_sheet"):
        right_parts.append(str(status["cue_sheet"]).rsplit("/", 1)[-1])
    uptime = status.get("uptime")
    if uptime is not None:
        right_parts.append(f"up {format_span(uptime, with_seconds=True)}")
    right = s("  ".join(right_parts), "dim")
    room = width - visible_width(left) - visible_width(right)
    if room < 2:
        return left
    return left + " " * room + right


def _side_panel(status: dict, g: dict, s: Style) -> list[str]:
    lock = str(status.get("lock") or "lost")
    clock = [s(lock.upper(), LOCK_STYLE.get(lock, "red"), "bold")]
    if status.get("rate"):
        clock.append(f"{status['rate']} fps")
    speed = status.get("speed")
    if speed is not None:
        clock.append(f"speed {float(speed):.3f}x")

    take = status.get("take")
    take_text = s(f"TAKE {take}" if take is not None else "TAKE -", "bold")
    if status.get("recording"):
        take_text += "  " + s(f"{g['on']} REC", "on_red", "bold")
    elif status.get("mode") == "review" and take is not None:  # the take playing back
        take_text += s("  (review)", "cyan")
    elif take is not None:
        take_text += s("  (next)", "dim")
    if status.get("pass_active"):
        take_text += "  " + s("PASS", "yellow")

    lamps = []
    for name, on in (status.get("lights") or {}).items():
        label = name.removesuffix("_light")
        mark = g["on"] if on else g["off"]
        lamps.append(f"{label} " + (s(mark, "red" if "rec" in label else "green") if on else mark))
    timecode = s(f"TC {status.get('timecode') or NO_TIMECODE}", "dim")
    lamps_text = "  ".join(lamps) or s("no lamps", "dim")
    return ["  ".join(clock), timecode, take_text, _sync(status, s), lamps_text]


SYNC_STYLE = {"IN SYNC": "green", "CHECK WORDS": "yellow", "OUT OF SYNC": "red"}


def _sync(status: dict, s: Style) -> str:
    """The newest scored take of the cue, as the stage shows it ("T3 IN SYNC 96% +12ms")."""
    line = str(status.get("sync") or "")
    if not line:
        return ""
    style = next((v for k, v in SYNC_STYLE.items() if k in line), "dim")
    return s(line, style, "bold")


def _cue(cue: dict | None, label: str, width: int, g: dict, s: Style, bold: bool) -> list[str]:
    if not cue:
        return [s(label, "bold") + " " + s("none", "dim")]
    number = str(cue.get("number", "?"))
    parts = [s(label, "bold"), s(number, "bold", "cyan") if bold else s(number, "cyan")]
    if cue.get("character"):
        parts.append(s(str(cue["character"]), "bold") if bold else str(cue["character"]))
    dialogue = " ".join(str(cue.get("dialogue", "")).split())
    if bold and has_span(cue):  # room tone's "cue" has no timecode span
        parts.append(f"{cue.get('tc_in', '?')} {g['arrow']} {cue.get('tc_out', '?')}")
    if bold:
        first = "  ".join(parts)
        wrapped = textwrap.wrap(f'"{dialogue}"', max(10, width - 6)) if dialogue else []
        return [first] + ["     " + line for line in wrapped]
    parts.append(str(cue.get("tc_in", "?")))
    if dialogue:
        parts.append(s(f'"{dialogue}"', "dim"))
    return [clip("  ".join(parts), width, g["more"])]


def meter_levels(status: dict) -> list[float | None]:
    """The levels the meter bars show: each capture channel, then the actor's phones feed
    (when the service reports it); the loop's peak hold follows the same list."""
    levels = list(status.get("levels_dbfs") or [])
    phones = status.get("phones")
    if isinstance(phones, dict) and levels:
        levels.append((phones.get("meters_dbfs") or {}).get("phones"))
    return levels


def _phones_line(phones: dict, s: Style) -> str:
    """Each source's peak into the phones mix, whole dBFS to fit 80 columns (the held peak
    the service keeps; the Phones bar above has the feed's to a tenth)."""
    meters = phones.get("meters_dbfs") or {}
    parts = []
    for name in PHONE_SOURCES:
        value = meter.level(meters.get(name))
        text = f"{name} {'-inf' if math.isinf(value) else f'{value:.0f}'}"
        if name == "talkback" and phones.get("talkback_live"):
            text = s(f"talkback LIVE {text.split()[1]}", "yellow", "bold")
        parts.append(text)
    clipped = int(phones.get("clipped") or 0)
    if clipped:
        parts.append(s(f"clipped {clipped}", "red"))
    return "  phones: " + "  ".join(parts)


def _meters(status: dict, width: int, hold: Sequence[float] | None, g: dict, s: Style) -> list[str]:
    inputs = list(status.get("levels_dbfs") or [])
    levels = meter_levels(status)
    names = [str(n) for n in status.get("channel_names") or []][: len(inputs)]
    names += [f"In {i + 1}" for i in range(len(names), len(inputs))]
    names += ["Phones"] * (len(levels) - len(inputs))
    if not levels:
        return [s("  no input levels", "dim")]
    name_w = min(12, max(len(n) for n in names[: len(levels)]))
    bar_w = max(8, width - name_w - 17)  # 2 indent, 2 + 2 gaps, 6 value, 5 " CLIP"
    lines = []
    for i, value in enumerate(levels):
        peak = hold[i] if hold is not None and i < len(hold) else meter.level(value)
        lines.append(
            "  "
            + pad(names[i], name_w)
            + "  "
            + meter_bar(value, peak, bar_w, g, s)
            + "  "
            + _value(value, peak, s)
        )
    lines.append("  " + " " * name_w + "  " + s(scale_line(bar_w), "dim"))
    if len(levels) > len(inputs):
        lines.append(_phones_line(status["phones"], s))
    return lines


def meter_bar(value: float | None, peak: float | None, cells: int, g: dict, s: Style) -> str:
    """One channel's bar: lit cells coloured by zone, the held peak as a mark."""
    lit = meter.cells_lit(value, cells)
    peak_cell = meter.cells_lit(peak, cells) - 1  # index of the cell the peak reaches
    runs: list[tuple[str, tuple[str, ...]]] = []  # (text, style): one escape code per run
    for i in range(cells):
        colour = meter.zone(meter.cell_dbfs(i, cells))
        if i < lit:
            cell = (g["lit"], (colour,))
        elif i == peak_cell:
            cell = (g["hold"], (colour, "bold"))
        else:
            cell = (g["unlit"], ("dim",))
        if runs and runs[-1][1] == cell[1]:
            runs[-1] = (runs[-1][0] + cell[0], cell[1])
        else:
            runs.append(cell)
    return "".join(s(text, *style) for text, style in runs)


def scale_line(cells: int) -> str:
    """dBFS marks under the bars, each placed where that level ends its cells."""
    line = [" "] * cells
    for mark in (-48, -36, -24, -18, -12, -6, 0):
        text = str(mark)
        end = meter.cells_lit(mark, cells)  # the mark's text ends at the cell it fills to
        start = end - len(text)
        if start < 0 or any(c != " " for c in line[max(0, start - 1) : end]):
            continue
        line[start:end] = text
    return "".join(line).rstrip()


def _value(value: float | None, peak: float | None, s: Style) -> str:
    v = meter.level(value)
    text = "  -inf" if math.isinf(v) else f"{v:6.1f}"
    if meter.level(peak) >= meter.CLIP_DBFS or v >= meter.CLIP_DBFS:
        return text + " " + s("CLIP", "on_red", "bold")
    return text


def _footer(status: dict, g: dict, s: Style) -> list[str]:
    xruns = int(status.get("xruns") or 0)
    parts = [s(f"xruns {xruns}", "red" if xruns else "")]
    disk = status.get("disk_seconds_left")
    disk_text = f"disk {format_span(disk)} left"
    parts.append(s(disk_text, "red") if disk is not None and disk < 600 else disk_text)
    writer = status.get("writer") or {}
    if writer.get("error"):
        parts.append(s(f"writer error: {writer['error']}", "red", "bold"))
    elif writer.get("queued_frames"):
        parts.append(f"writer queue {writer['queued_frames']}")
    last = status.get("last_take")
    if last:  # what became of the newest take: red when it did not reach the disk whole
        text = f"last take {last['cue']} T{last['take']} {last['state']}"
        text += f": {last['reason']}" if last.get("reason") else ""
        bad = last["state"] in ("failed", "interrupted", "missing")
        parts.append(s(text, "red") if bad else text)
        if last.get("sync"):  # the take's sync verdict, once scored against its guide
            sync = f"sync: {last['sync']}"
            parts.append(s(sync, "red") if last["sync"].startswith("out of sync") else sync)
    return [" " + "   ".join(parts)]
