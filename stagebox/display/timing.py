"""Where things are on the streamer screen at a given timecode: pure arithmetic, no pygame.

Time on the display is a fractional frame count `t` (frames since midnight at the moment the
frame is scanned out). Everything below is measured from the cue's TC-in as `d = t - tc_in`
in frames (negative before the line): the streamer, the punch, the flutter, the countdown and
the rhythm band's word positions are pure functions of `d`, so a test can compute the exact
pixel independently and the display can extrapolate `t` to any vsync.

Rounding is half-up everywhere (`floor(v + 0.5)`), never Python's banker's `round`.
"""

from __future__ import annotations

import math

from stagebox.cues.cue import Cue
from stagebox.display.style import StreamerStyle
from stagebox.snapshot import StageSnapshot
from stagebox.timecode import Rate


def round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def offset_frames(t: float, tc_in_count: int, rate: Rate) -> float:
    """`d = t - tc_in` in frames, wrapped across midnight into [-half a day, +half a day)."""
    day = rate.frames_per_day
    return (t - tc_in_count + day / 2) % day - day / 2


def streamer_length_frames(style: StreamerStyle, rate: Rate) -> int:
    """L: streamer travel in whole frames, `round(length_seconds * nominal fps)`.

    Counted in frame labels (48 frames for a 2 s streamer at 23.976 and at 24), as an
    engineer counts streamers.
    """
    return max(1, rate.labels_in(style.length_seconds))


def bar_width_px(style: StreamerStyle, width: int) -> int:
    """bw: the streamer's width in pixels, `max(2, round(width * bar_width))`."""
    return max(2, round_half_up(width * style.bar_width))


def streamer_progress(d: float, length: int) -> float | None:
    """p in 0..1 along the wipe, or None when no streamer shows.

    The streamer shows from `tc_in - L` through the whole TC-in frame (`-L <= d < 1`):
    p = clamp((d + L) / L, 0, 1), reaching 1 exactly at the start of TC-in.
    """
    if d < -length or d >= 1:
        return None
    return min(1.0, (d + length) / length)


def streamer_x(d: float, length: int, width: int, bar: int) -> int | None:
    """Left edge of the one-bar wipe: `x = round(p * (W - bw))`; None when not showing.

    At p = 1 (TC-in) the bar's right edge is the screen's right edge.
    """
    p = streamer_progress(d, length)
    if p is None:
        return None
    return round_half_up(p * (width - bar))


def both_edges_x(d: float, length: int, width: int, bar: int) -> tuple[int, int] | None:
    """Left edges of the two bars of the "both" wipe, meeting in the centre at TC-in.

    Left bar: `xl = round(p * (W // 2 - bw))`; right bar mirrors it: `xr = W - bw - xl`.
    At p = 1 the left bar ends at the centre column W // 2 and the right bar starts there
    (odd widths: one column apart).
    """
    p = streamer_progress(d, length)
    if p is None:
        return None
    left = round_half_up(p * (width // 2 - bar))
    return left, width - bar - left


def streamer_hidden_by_flutter(d: float, style: StreamerStyle) -> bool:
    """True on the frames the flutter blanks the streamer.

    In the last `flutter_frames` frames before TC-in (k = tc_in - frame = 1..flutter_frames)
    the streamer shows on odd k and is blank on even k, so the last frame before TC-in and
    TC-in itself always show it.
    """
    if not style.flutter:
        return False
    k = -math.floor(d)
    return 1 <= k <= style.flutter_frames and k % 2 == 0


def punch_on(d: float, style: StreamerStyle) -> bool:
    """The punch shows on frames TC-in .. TC-in + punch_frames - 1 (`0 <= floor(d) < n`)."""
    return 0 <= math.floor(d) < style.punch_frames


def countdown_text(d: float, rate: Rate) -> str:
    """Time to TC-in as `-S:FF` (seconds:frames to go), `0:00` on TC-in, `+S:FF` after it."""
    frame = math.floor(d)
    n = rate.nominal
    if frame < 0:
        left = -frame
        return f"-{left // n}:{left % n:02d}"
    if frame == 0:
        return "0:00"
    return f"+{frame // n}:{frame % n:02d}"


def word_offsets(cue: Cue) -> tuple[tuple[str, float], ...]:
    """Each word of the line with the frame offset from TC-in at which it is spoken.

    With `cue.words` the given timecodes are used. Otherwise the words of `cue.dialogue`
    share the cue's duration in proportion to their length in characters: word i starts at
    `duration * (characters of words 0..i-1) / (characters of all words)`.
    """
    if cue.words:
        return tuple((word, float(tc - cue.tc_in)) for word, tc in cue.words)
    words = cue.dialogue.split()
    total = sum(len(w) for w in words)
    if not words or total == 0:
        return ()
    duration = max(1, cue.duration_frames)
    out = []
    before = 0
    for word in words:
        out.append((word, duration * before / total))
        before += len(word)
    return tuple(out)


def rhythm_px_per_frame(style: StreamerStyle, width: int, rate: Rate) -> float:
    """Scroll speed of the rhythm band in pixels per frame: `rhythm_speed * W / fps`."""
    return style.rhythm_speed * width / float(rate.fps)


def rhythm_word_x(offset: float, d: float, sync_x: int, px_per_frame: float) -> int:
    """Left edge of a word spoken at `offset`: `sync_x + round((offset - d) * px_per_frame)`.

    The word's left edge crosses the sync bar exactly when it is spoken.
    """
    return sync_x + round_half_up((offset - d) * px_per_frame)


def sync_bar_x(style: StreamerStyle, width: int) -> int:
    return round_half_up(style.sync_position * width)


def frames_at(
    snapshot: StageSnapshot, monotonic: float, max_extrapolation: float = 1.0
) -> float | None:
    """The fractional frame count at `monotonic` seconds, from the snapshot's clock fit.

    The snapshot's time fit maps monotonic time to a capture sample and the clock fit maps
    that sample to a frame count. With LTC lost the clock is frozen at the snapshot. The
    extrapolation past the snapshot is capped at `max_extrapolation` seconds, so a stalled
    engine freezes the streamer rather than running it on by guesswork.
    """
    if snapshot.clock is None:
        return None
    return snapshot.clock.frames_at(snapshot.sample_at(monotonic, max_extrapolation))
