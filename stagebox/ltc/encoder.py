"""LTC encoder: biphase-mark audio for any rate, with exact fractional-sample timing.

The encoder drives the simulated stage (a DAW looping its LTC) and an LTC output. It places
every bit edge at its exact real time, so at 29.97 fps and 48 kHz frames start 1601.6 samples
apart, as a real generator's do, and it shapes each edge to the SMPTE 12M rise time
(25 us +- 5 us, 10 % to 90 %) instead of a hard step, which would alias.

The encoder remembers the frames it emitted, with their true start and end samples, so tests
and the simulator know the truth a decoder must find.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from stagebox.ltc.frame import FRAME_BITS, LTCFrame, pack_bits
from stagebox.timecode import Rate, Timecode

DEFAULT_LEVEL_DBFS = -18.0  # dBFS peak: a usual LTC line level in a DAW
DEFAULT_RISE_TIME = 25e-6  # seconds, 10 % to 90 % (SMPTE 12M: 25 +- 5 us)


class LTCEncoder:
    """Continuous LTC, rendered block by block.

    `locate(tc, at)` sets the next frame to send and the sample where it starts; `render(n)`
    returns the next n samples. Frames follow each other (the label counts up) until the next
    `locate`, which is how a DAW's loop wrap or a relocate is simulated: the jump happens at the
    next frame boundary, as it does on a real transport.
    """

    def __init__(
        self,
        sample_rate: int,
        rate: Rate,
        *,
        level_dbfs: float = DEFAULT_LEVEL_DBFS,
        rise_time: float = DEFAULT_RISE_TIME,  # seconds, 10 % to 90 %
        user_bits: int = 0,
        binary_group_flags: int = 0,
        colour_frame: bool = False,
        speed: float | Callable[[float], float] = 1.0,  # 1.0 = real time; f(start sample)
    ) -> None:
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, not {sample_rate}")
        self.sample_rate = sample_rate
        self.rate = rate
        self.amplitude = 10.0 ** (level_dbfs / 20.0)  # peak, full scale = 1.0
        # A linear ramp of width w rises 10 % to 90 % in 0.8 w.
        self._ramp = max(rise_time * sample_rate / 0.8, 1e-6)  # samples
        self.user_bits = user_bits
        self.binary_group_flags = binary_group_flags
        self.colour_frame = colour_frame
        self.speed = speed
        self.position = 0  # samples: absolute index of the next sample render() returns
        self.emitted: list[LTCFrame] = []  # frames whose edges have been planned, in order
        self._next_tc: Timecode | None = None
        self._next_start = 0.0  # samples: start of the next frame to plan
        self._edges = np.zeros(0)  # samples: planned edge times not yet fully rendered
        self._polarity = 1.0  # signal sign just before _edges[0]
        self._spans = np.zeros((0, 2))  # samples: (start, end) of planned frames not yet past

    def locate(self, tc: Timecode, at: float | None = None) -> None:
        """Send `tc` next, starting at sample `at` (default: where the current frame ends)."""
        if tc.rate != self.rate:
            tc = tc.with_rate(self.rate)
        self._next_tc = tc
        if at is not None:
            if at < self.position:
                raise ValueError(f"cannot locate into the past (sample {at} < {self.position})")
            # Drop planned edges at or after the new start: the frame there is replaced.
            self._edges = self._edges[self._edges < at]
            self._spans = self._spans[self._spans[:, 0] < at]
            self.emitted = [f for f in self.emitted if f.start < at]
            self._next_start = float(at)

    def stop(self) -> None:
        """Stop sending after the frames already planned (silence follows)."""
        self._next_tc = None

    def samples_per_frame(self, at: float) -> float:
        speed = self.speed(at) if callable(self.speed) else self.speed
        if speed <= 0:
            raise ValueError(f"speed must be positive, not {speed}")
        return float(self.rate.samples_per_frame(self.sample_rate)) / speed

    def render(self, n: int) -> np.ndarray:
        """The next `n` samples (float32, full scale 1.0)."""
        end = self.position + n
        while self._next_tc is not None and self._next_start < end + self._ramp:
            self._plan_frame()
        t = self.position + np.arange(n, dtype=np.float64)
        out = self._shape(t)
        self.position = end
        # Forget edges that can no longer affect future samples.
        done = self._edges < self.position - self._ramp
        if done.any():
            flips = int(done.sum())
            if flips & 1:
                self._polarity = -self._polarity
            self._edges = self._edges[~done]
        self._spans = self._spans[self._spans[:, 1] > self.position]
        return (out * self.amplitude).astype(np.float32)

    def _plan_frame(self) -> None:
        tc = self._next_tc
        assert tc is not None
        start = self._next_start
        period = self.samples_per_frame(start)
        frame = LTCFrame(
            tc.hours,
            tc.minutes,
            tc.seconds,
            tc.frames,
            drop_frame=tc.rate.drop_frame,
            colour_frame=self.colour_frame,
            user_bits=self.user_bits,
            binary_group_flags=self.binary_group_flags,
            start=start,
            end=start + period,
            level=20.0 * np.log10(self.amplitude),
        )
        bits = pack_bits(frame, tc.rate.nominal)
        cell = period / FRAME_BITS
        starts = start + cell * np.arange(FRAME_BITS)
        # Biphase mark: an edge at every bit cell's start, and one mid-cell for a 1.
        mids = starts[bits == 1] + cell / 2
        edges = np.sort(np.concatenate([starts, mids]))
        self._edges = np.concatenate([self._edges, edges])
        self._spans = np.concatenate([self._spans, [[start, start + period]]])
        self.emitted.append(frame)
        self._next_start = start + period
        self._next_tc = tc + 1

    def _shape(self, t: np.ndarray) -> np.ndarray:
        """Signal at times t: +-1 between edges, a linear ramp of the rise time across each."""
        edges = self._edges
        if edges.size == 0:
            return np.zeros(t.shape)
        k = np.searchsorted(edges, t, side="right")  # edges at or before each t
        sign = np.where(k & 1, -self._polarity, self._polarity)
        half = self._ramp / 2
        out = sign.copy()
        # Samples within half a ramp of the edge before them.
        prev = np.clip(k - 1, 0, edges.size - 1)
        d_prev = t - edges[prev]
        near = (k > 0) & (d_prev < half)
        # Before edge `prev` the sign was -sign; ramp from -sign to sign.
        frac = np.clip(d_prev / self._ramp + 0.5, 0.0, 1.0)
        out = np.where(near, -sign + 2 * sign * frac, out)
        # Samples within half a ramp of the edge after them.
        nxt = np.clip(k, 0, edges.size - 1)
        d_next = edges[nxt] - t
        near = (k < edges.size) & (d_next < half)
        frac = np.clip(0.5 - d_next / self._ramp, 0.0, 1.0)
        out = np.where(near, sign - 2 * sign * frac, out)
        # Silence outside the frames sent (before the first, after a stop, in a gap).
        j = np.searchsorted(self._spans[:, 0], t, side="right") - 1
        inside = (j >= 0) & (t < self._spans[np.clip(j, 0, None), 1])
        return np.where(inside, out, 0.0)


def generate(
    start: Timecode,
    seconds: float,
    sample_rate: int,
    *,
    offset: float = 0.0,  # samples of silence before the first frame (fractional allowed)
    **options,
) -> tuple[np.ndarray, list[LTCFrame]]:
    """`seconds` of LTC from `start`: the signal, and the frames in it with their true starts.

    Only frames that end inside the signal are returned as truth.
    """
    n = int(round(seconds * sample_rate))
    encoder = LTCEncoder(sample_rate, start.rate, **options)
    encoder.locate(start, at=offset)
    signal = encoder.render(n)
    truth = [f for f in encoder.emitted if f.end <= n]
    return signal, truth
