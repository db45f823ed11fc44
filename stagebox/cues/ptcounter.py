"""Pro Tools counter values as timecode labels: the export writes times in the main counter's
format, whichever the editor had on screen.

| counter | example | read as |
|---|---|---|
| Timecode | `01:05:06:18`, `01:05:06;28` (drop-frame) | the label itself |
| Timecode with sub-frames | `01:05:06:18.40` | the label (sub-frames dropped) |
| Samples | `14731517` | samples from SESSION START TIMECODE at SAMPLE RATE |
| Min:Secs | `5:06.906` (also `65:06.906`, `1:05:06.906`) | time from SESSION START TIMECODE |

Samples and Min:Secs are times from the session start, converted to the frame that contains
them at the sheet's real frame rate (29.97 runs at 30000/1001 frames a second). The export
truncates Min:Secs to the millisecond; a clip spotted on the frame grid starts on a frame
boundary inside that millisecond, so that frame is taken (`5:06.906` at 29.97 is frame 9198,
which starts at 306.9066 s, not frame 9197, which contains 306.906 s).

Min:Secs in whole seconds and Feet+Frames (whose film rate the export does not state) cannot
place a cue on its frame: they are refused, with the fix (export with the counter on Timecode).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from stagebox.timecode import Rate, Timecode, TimecodeError, frames_at_sample

_TC = re.compile(r"^(\d{1,2}[:.]\d{1,2}[:.]\d{1,2}[:;.,]\d{1,2})(?:\.\d+)?$")
_SAMPLES = re.compile(r"^\d+$")
_MINSECS = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2})(?:\.(\d+))?$")
_FEET = re.compile(r"^\d+\+\d+(?:\.\d+)?$")


class CounterError(ValueError):
    """A counter value that cannot be placed on a frame; the message says why and the fix."""


class Counter:
    """Converts the export's counter values to timecode labels at `rate`."""

    def __init__(self, rate: Rate | None, session_start: str, sample_rate: str) -> None:
        self.rate = rate
        self._start_text = session_start
        self._sample_rate_text = sample_rate

    def label(self, value: str) -> str:
        """The timecode label (text) of the frame holding counter value `value`."""
        value = value.strip()
        tc = _TC.match(value)
        if tc:
            return tc.group(1)
        if _FEET.match(value):
            raise CounterError(
                f"{value!r} is Feet+Frames, which does not say its film rate: export with the "
                "main counter on Timecode"
            )
        if _SAMPLES.match(value):
            sr = self._sample_rate(value)
            start = self._start(value)
            # Sample 0 is the session start: frame k of the session starts on sample
            # round(k x samples per frame), as Pro Tools counts it.
            return str(start + frames_at_sample(int(value), sr, start.rate))
        ms = _MINSECS.match(value)
        if ms:
            hours, minutes, seconds, fraction = ms.groups()
            if fraction is None:
                raise CounterError(
                    f"{value!r} is Min:Secs in whole seconds, too coarse to punch a line: "
                    "export with the main counter on Timecode"
                )
            quantum = Fraction(1, 10 ** len(fraction))
            shown = (int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)
            shown += int(fraction) * quantum
            return self._from_shown_time(shown, quantum, value)
        raise CounterError(
            f"{value!r} is not a counter value stagebox reads (Timecode, Samples or Min:Secs)"
        )

    def _sample_rate(self, value: str) -> int:
        try:
            sr = round(float(self._sample_rate_text))
        except ValueError:
            sr = 0
        if sr <= 0:
            raise CounterError(f"{value!r} is in samples but the export has no SAMPLE RATE")
        return sr

    def _from_shown_time(self, shown: Fraction, quantum: Fraction, value: str) -> str:
        """The frame for a time the counter shows truncated to `quantum` seconds: the frame
        that starts inside [shown, shown + quantum) if one does (clips sit on the frame grid),
        else the frame that contains it."""
        start = self._start(value)
        fps = start.rate.fps
        first = math.ceil(shown * fps)
        frames = first if first < (shown + quantum) * fps else math.floor(shown * fps)
        return str(start + frames)

    def _start(self, value: str) -> Timecode:
        if self.rate is None:
            raise CounterError(f"{value!r} needs the timecode rate to be placed")
        start_text = _TC.match(self._start_text.strip())
        try:
            if not start_text:
                raise TimecodeError("missing")
            start = Timecode.parse(start_text.group(1), self.rate)
        except TimecodeError:
            raise CounterError(
                f"{value!r} counts from the session start, but SESSION START TIMECODE "
                f"{self._start_text!r} is not a {self.rate} timecode"
            ) from None
        return start
