"""SMPTE timecode: frame rates, labels, frame counts and samples since midnight.

Everything on the stage is placed in sample time, but engineers, cue sheets and Pro Tools speak
timecode labels. This module converts between the two, exactly: drop-frame labels are counted
across every minute, ten-minute and midnight boundary, and the real-time length of a frame is a
`Fraction` (1001/30000 s at 29.97), so no rounding error accumulates over a day.

Vocabulary:
- *label*: the `HH:MM:SS:FF` a clock shows (`;` before the frames for drop-frame).
- *frame count*: frames since midnight, 0 .. frames_per_day - 1 (drop-frame labels skipped).
- *samples since midnight*: what BWF's bext TimeReference holds: the sample at which a frame
  starts, counting from 00:00:00:00 at the given sample rate.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction


class TimecodeError(ValueError):
    """A timecode label or rate that cannot exist; the message says which and why."""


@dataclass(frozen=True)
class Rate:
    """A timecode rate: how many labels a second counts and how fast frames really run."""

    name: str  # canonical spelling, e.g. "29.97df"
    fps: Fraction  # real frames per second (30000/1001 at 29.97)
    nominal: int  # frame labels per second: 24, 25 or 30
    drop_frame: bool  # labels ;00 and ;01 skipped each minute except every tenth

    def __str__(self) -> str:
        return self.name

    def labels_in(self, seconds: float) -> int:
        """Whole frame labels in `seconds`, counted as an engineer counts a streamer
        (N seconds = N x the labels per second; 48 at 23.976 and at 24), halves up. The
        stage's streamer cue light and the display's streamer both count with it, so they
        start on the same frame."""
        return math.floor(seconds * self.nominal + 0.5)

    @property
    def frames_per_day(self) -> int:
        """Frame labels from 00:00:00:00 to 23:59:59:FF inclusive."""
        if self.drop_frame:
            return 24 * 6 * _df_frames_per_10min(self.nominal)
        return 24 * 3600 * self.nominal

    def samples_per_frame(self, sample_rate: int) -> Fraction:
        """Real length of one frame in samples (1601.6 at 29.97 and 48 kHz)."""
        return Fraction(sample_rate) / self.fps

    @staticmethod
    def parse(text: str | float | int) -> Rate:
        """Read a rate as an engineer writes it: 23.976, 24, 25, 29.97df, 29.97, 30, 30df."""
        key = str(text).strip().lower().replace(" ", "").replace("fps", "")
        # "29.97-df" and "29_97" are spellings; a leading sign ("-25") is not a rate.
        key = key[:1] + key[1:].replace("-", "").replace("_", "")
        rate = _RATE_ALIASES.get(key)
        if rate is None:
            known = ", ".join(r.name for r in RATES)
            raise TimecodeError(f"unknown timecode rate {text!r} (known: {known})")
        return rate


RATE_23976 = Rate("23.976", Fraction(24000, 1001), 24, False)
RATE_24 = Rate("24", Fraction(24), 24, False)
RATE_25 = Rate("25", Fraction(25), 25, False)
RATE_2997DF = Rate("29.97df", Fraction(30000, 1001), 30, True)
RATE_2997NDF = Rate("29.97", Fraction(30000, 1001), 30, False)
RATE_30 = Rate("30", Fraction(30), 30, False)
# 30 fps carrying the drop-frame flag: non-standard but produced by real generators.
RATE_30DF = Rate("30df", Fraction(30), 30, True)

RATES: tuple[Rate, ...] = (
    RATE_23976,
    RATE_24,
    RATE_25,
    RATE_2997DF,
    RATE_2997NDF,
    RATE_30,
    RATE_30DF,
)

_RATE_ALIASES: dict[str, Rate] = {
    "23.976": RATE_23976,
    "23.98": RATE_23976,
    "23976": RATE_23976,
    "2398": RATE_23976,
    "24": RATE_24,
    "25": RATE_25,
    "29.97df": RATE_2997DF,
    "29.97d": RATE_2997DF,
    "2997df": RATE_2997DF,
    "29.97drop": RATE_2997DF,
    "29.97": RATE_2997NDF,
    "29.97ndf": RATE_2997NDF,
    "2997ndf": RATE_2997NDF,
    "2997": RATE_2997NDF,
    "29.97nd": RATE_2997NDF,
    "30": RATE_30,
    "30ndf": RATE_30,
    "30df": RATE_30DF,
}


def _df_dropped_per_minute(nominal: int) -> int:
    return 2 * (nominal // 30)  # 2 labels at 30 (60 fps would drop 4)


def _df_frames_per_10min(nominal: int) -> int:
    return 10 * 60 * nominal - 9 * _df_dropped_per_minute(nominal)


# re.ASCII: \d is 0-9 only (Arabic-Indic or full-width digits are not timecode)
_LABEL = re.compile(r"^\s*(\d{1,2})[:.](\d{1,2})[:.](\d{1,2})([:;.,])(\d{1,2})\s*$", re.ASCII)


@functools.total_ordering
@dataclass(frozen=True)
class Timecode:
    """A timecode label at a rate. Construct through `Timecode.at`, `parse` or `from_frames`.

    Ordering and subtraction use the frame count, so labels compare by time of day.
    """

    hours: int  # 0..23
    minutes: int  # 0..59
    seconds: int  # 0..59
    frames: int  # 0..rate.nominal - 1
    rate: Rate

    def __post_init__(self) -> None:
        problem = label_problem(self.hours, self.minutes, self.seconds, self.frames, self.rate)
        if problem:
            raise TimecodeError(f"{self._text()} is not a {self.rate} timecode: {problem}")

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def at(cls, hours: int, minutes: int, seconds: int, frames: int, rate: Rate) -> Timecode:
        return cls(hours, minutes, seconds, frames, rate)

    @classmethod
    def parse(cls, text: str, rate: Rate) -> Timecode:
        """Parse `HH:MM:SS:FF` (`;`, `.` or `,` before the frames marks drop-frame).

        A drop-frame separator on a non-drop rate is an error: it means the sheet and the
        configured rate disagree, and guessing would put every cue in the wrong place.
        """
        match = _LABEL.match(text)
        if not match:
            raise TimecodeError(f"{text!r} is not a timecode (expected HH:MM:SS:FF)")
        h, m, s, sep, f = match.groups()
        if sep in ";.," and not rate.drop_frame:
            raise TimecodeError(
                f"{text!r} is written as drop-frame but the rate is {rate} (non-drop)"
            )
        return cls(int(h), int(m), int(s), int(f), rate)

    @classmethod
    def from_frames(cls, count: int, rate: Rate) -> Timecode:
        """The label of frame `count` since midnight; counts wrap around the day."""
        count %= rate.frames_per_day
        n = rate.nominal
        if rate.drop_frame:
            drop = _df_dropped_per_minute(n)
            per_10 = _df_frames_per_10min(n)
            per_min = 60 * n - drop
            tens, rem = divmod(count, per_10)
            # The first minute of each ten keeps all its labels; the other nine lose `drop`.
            extra = 0 if rem < drop else drop * ((rem - drop) // per_min)
            count += 9 * drop * tens + extra
        frames = count % n
        total_seconds = count // n
        return cls(
            total_seconds // 3600, (total_seconds // 60) % 60, total_seconds % 60, frames, rate
        )

    @classmethod
    def from_samples(cls, samples: int, sample_rate: int, rate: Rate) -> Timecode:
        """The label of the frame that contains sample `samples` since midnight."""
        return cls.from_frames(frames_at_sample(samples, sample_rate, rate), rate)

    # -- conversion ---------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        """Frames since midnight (drop-frame labels that do not exist are not counted)."""
        return label_frame_count(self.hours, self.minutes, self.seconds, self.frames, self.rate)

    def seconds_since_midnight(self) -> Fraction:
        """Real time of this frame's start since midnight, in seconds (exact)."""
        return self.frame_count / self.rate.fps

    def samples_since_midnight(self, sample_rate: int) -> int:
        """The sample at which this frame starts, counted from midnight (BWF TimeReference).

        Rounded to the nearest sample where a frame does not start on a whole sample
        (29.97 at 48 kHz: 1601.6 samples a frame), halves rounded up.
        """
        return math.floor(self.seconds_since_midnight() * sample_rate + Fraction(1, 2))

    def with_rate(self, rate: Rate) -> Timecode:
        """The same label read at another rate (labels, not time, are kept)."""
        return Timecode(self.hours, self.minutes, self.seconds, self.frames, rate)

    # -- arithmetic ---------------------------------------------------------------------------

    def __add__(self, frames: int) -> Timecode:
        if not isinstance(frames, int):
            return NotImplemented
        return Timecode.from_frames(self.frame_count + frames, self.rate)

    def __sub__(self, other: int | Timecode) -> Timecode | int:
        if isinstance(other, Timecode):
            self._check_same_rate(other)
            return self.frame_count - other.frame_count
        if isinstance(other, int):
            return Timecode.from_frames(self.frame_count - other, self.rate)
        return NotImplemented

    def __lt__(self, other: Timecode) -> bool:
        if not isinstance(other, Timecode):
            return NotImplemented
        self._check_same_rate(other)
        return self.frame_count < other.frame_count

    def _check_same_rate(self, other: Timecode) -> None:
        if other.rate != self.rate:
            raise TimecodeError(
                f"cannot compare {self} at {self.rate} with {other} at {other.rate}"
            )

    # -- text ---------------------------------------------------------------------------------

    def _text(self) -> str:
        sep = ";" if self.rate.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{sep}{self.frames:02d}"

    def __str__(self) -> str:
        return self._text()


def label_problem(hours: int, minutes: int, seconds: int, frames: int, rate: Rate) -> str:
    """Why this label cannot exist at `rate`, or "" when it can."""
    if not 0 <= hours <= 23:
        return f"hours {hours} out of range 0..23"
    if not 0 <= minutes <= 59:
        return f"minutes {minutes} out of range 0..59"
    if not 0 <= seconds <= 59:
        return f"seconds {seconds} out of range 0..59"
    if not 0 <= frames < rate.nominal:
        return f"frame {frames} out of range 0..{rate.nominal - 1}"
    if (
        rate.drop_frame
        and seconds == 0
        and minutes % 10 != 0
        and frames < _df_dropped_per_minute(rate.nominal)
    ):
        return f"drop-frame skips frames ;00 and ;01 at the start of minute {minutes}"
    return ""


def format_span(seconds: float | None, with_seconds: bool = False) -> str:
    """`h:mm` (or `h:mm:ss`) for a span of seconds (uptime, recording time left); `--:--`
    (`--:--:--`) when unknown."""
    if seconds is None:
        return "--:--:--" if with_seconds else "--:--"
    total = max(0, int(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if with_seconds else f"{h}:{m:02d}"


def label_frame_count(hours, minutes, seconds, frames, rate: Rate):
    """Frames since midnight of a label's fields at `rate`: `Timecode.frame_count`, and the
    same sum elementwise over arrays of fields (`stagebox ltc decode` on 45 000 frames)."""
    n = rate.nominal
    count = ((hours * 60 + minutes) * 60 + seconds) * n + frames
    if rate.drop_frame:
        total_minutes = hours * 60 + minutes
        count = count - _df_dropped_per_minute(n) * (total_minutes - total_minutes // 10)
    return count


def dropped_per_minute(rate: Rate) -> int:
    """Labels a drop-frame rate skips at the start of each minute not a tenth (0 for others)."""
    return _df_dropped_per_minute(rate.nominal) if rate.drop_frame else 0


def format_label(hours: int, minutes: int, seconds: int, frames: int, drop_frame: bool) -> str:
    """Format raw label fields (as decoded from LTC, not necessarily valid) as text."""
    sep = ";" if drop_frame else ":"
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{frames:02d}"


def frames_at_sample(samples: int, sample_rate: int, rate: Rate) -> int:
    """Frame count (since midnight, unwrapped) of the frame containing a sample since midnight.

    Frame k starts at floor(k * samples_per_frame + 1/2); this is the exact inverse of
    `Timecode.samples_since_midnight` for every frame start.
    """
    period = rate.samples_per_frame(sample_rate)
    return math.ceil((Fraction(samples) + Fraction(1, 2)) / period) - 1
