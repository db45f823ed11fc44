"""What the front panel shows, drawn from a `StageSnapshot` into a 128x64 framebuffer.

One text line per 8-pixel page, so a change in one line rewrites only its page on the bus:

    pages 0-1  timecode at double size        01:02:03:04
    page 2     lock state and rate            LOCKED       25
    page 3     mode, and REC (inverted box)   RECORD      [REC]
    page 4     cue and take                   CUE 101      TK 3
    page 5     character of the cue           MARY
               or, once a take of the cue is scored, its sync: T3 IN SYNC 96% +12MS
    page 6     recording time left on disk    DISK 241 MIN
               (or the rest of a long sync line, unless the disk is LOW)
    page 7     the engine's last message      (or capture xruns)

The timecode is extrapolated from the snapshot's clock fit to the moment of drawing (the fit
says which frame is at which sample, the time fit which sample is at which monotonic moment),
at most one second past the snapshot, and frozen while LTC is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from stagebox.panel import font
from stagebox.panel.framebuffer import WIDTH, Framebuffer
from stagebox.snapshot import StageSnapshot

CHARS_PER_LINE = WIDTH // (font.WIDTH + font.SPACING)  # 21
DISK_LOW_MINUTES = 10  # minutes: below this the disk line says LOW
NO_TIMECODE = "--:--:--:--"
LOCK_TEXT = {"locked": "LOCKED", "freewheel": "FREEWHEEL", "lost": "NO LTC"}
REC_BOX = (3 * 8, 22)  # (top row, width in pixels) of the inverted REC box on page 3


@dataclass(frozen=True)
class StatusLines:
    """The texts the panel shows, before drawing (also what `stagebox panel` could print)."""

    timecode: str
    lock: str
    rate: str
    mode: str
    recording: bool
    cue: str
    take: str
    character: str
    disk: str
    message: str
    sync: str = ""  # the newest scored take of the cue ("T3 IN SYNC 96% +12MS"), or ""


def display_sample(snapshot: StageSnapshot, now: float | None) -> float:
    """The capture sample at monotonic `now`, kept within the snapshot's next second."""
    if now is None:
        return float(snapshot.sample)
    return snapshot.sample_at(now, not_before=True)


def status_lines(snapshot: StageSnapshot, now: float | None = None) -> StatusLines:
    """The panel's texts for `snapshot` at monotonic `now` (the snapshot's sample if None)."""
    if snapshot.clock is not None:
        timecode = str(snapshot.clock.timecode_at(display_sample(snapshot, now)))
        rate = snapshot.clock.rate.name.upper()
    else:
        timecode, rate = NO_TIMECODE, ""
    cue = f"CUE {snapshot.cue.number}" if snapshot.cue else "NO CUE"
    take = f"TK {snapshot.take}" if snapshot.take is not None else ""
    character = snapshot.cue.character if snapshot.cue else ""
    if snapshot.disk_seconds_left is None:
        disk = "DISK --"
    else:
        minutes = int(snapshot.disk_seconds_left // 60)
        disk = f"DISK {minutes} MIN" + (" LOW" if minutes < DISK_LOW_MINUTES else "")
    local = snapshot.local  # room tone / wild line: what it is and its countdown
    message = (
        snapshot.fault
        or (local.short(display_sample(snapshot, now)) if local else "")
        or snapshot.warning
        or snapshot.message
        or (f"XRUNS {snapshot.xruns}" if snapshot.xruns else "")
    )
    return StatusLines(
        timecode=timecode,
        lock=LOCK_TEXT.get(snapshot.lock, snapshot.lock.upper()),
        rate=rate,
        mode=_mode_text(snapshot),
        recording=snapshot.recording,
        cue=cue,
        take=take,
        character=character,
        disk=disk,
        message=message,
        sync=snapshot.sync.upper(),
    )


def _mode_text(snapshot: StageSnapshot) -> str:
    """RECORD, REHEARSE, SAFE; in review the take playing back: REVIEW 103 TK 2."""
    if snapshot.mode != "review":
        return snapshot.mode.upper()
    return f"REVIEW {snapshot.review.replace(' take ', ' TK ') or 'NO TAKE'}"


def _fit(text: str, chars: int = CHARS_PER_LINE) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "."


def wrap(text: str, lines: int = 2) -> list[str]:
    """`text` in at most `lines` panel lines, broken between words (the last one cut with a
    "." when it still does not fit)."""
    out: list[str] = []
    for word in text.split():
        if out and font.text_width(f"{out[-1]} {word}") <= WIDTH:
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    if len(out) > lines:
        out = out[: lines - 1] + [" ".join(out[lines - 1 :])]
    return [_fit_px(line) for line in out]


def _fit_px(text: str) -> str:
    while text and font.text_width(text) > WIDTH:
        text = text[:-2] + "."
    return text


def _right(fb: Framebuffer, y: int, text: str) -> None:
    fb.draw_text(WIDTH - font.text_width(text), y, text)


def draw_rec_box(fb: Framebuffer) -> None:
    """REC in black on a white box at the right of page 3."""
    top, width = REC_BOX
    fb.fill_rect(WIDTH - width, top, width, 8)
    fb.draw_text(WIDTH - width + (width - font.text_width("REC")) // 2, top, "REC", invert=True)


def render(snapshot: StageSnapshot, now: float | None = None) -> Framebuffer:
    """The whole panel image for `snapshot` at monotonic `now`."""
    lines = status_lines(snapshot, now)
    fb = Framebuffer()
    x = (WIDTH - font.text_width(lines.timecode, 2)) // 2
    fb.draw_text(x, 0, lines.timecode, scale=2)
    fb.draw_text(0, 16, lines.lock)
    _right(fb, 16, lines.rate)
    fb.draw_text(0, 24, _fit(lines.mode, 16))
    if lines.recording:
        draw_rec_box(fb)
    fb.draw_text(0, 32, _fit(lines.cue, 15))
    _right(fb, 32, lines.take)
    disk_low = lines.disk.endswith("LOW")
    if lines.sync:  # after a pass: the take's sync in place of the character
        sync = wrap(lines.sync, 1 if disk_low else 2)
        fb.draw_text(0, 40, sync[0])
        fb.draw_text(0, 48, sync[1] if len(sync) > 1 else _fit(lines.disk))
    else:
        fb.draw_text(0, 40, _fit(lines.character.upper()))
        fb.draw_text(0, 48, _fit(lines.disk))
    fb.draw_text(0, 56, _fit(lines.message.upper()))
    return fb
