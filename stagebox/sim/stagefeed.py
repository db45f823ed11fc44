"""A simulated stage feed: the DAW looping a cue's LTC, and an actor speaking the line.

This is what the HAT's capture stream carries on a real stage, generated sample-exactly and
deterministically (for a seed) so the whole engine can be tested and demonstrated without a
DAW, an actor or a sound card:

- the LTC channel: the DAW plays a loop region from `preroll` before the first cue's TC-in to
  `postroll` after the last cue's TC-out, `passes` times. At the loop end it either wraps
  instantly (the next frame is the loop start, as Pro Tools' loop playback does) or stops and
  relocates (LTC stops, `relocate_gap` seconds of silence, LTC restarts at the loop start).
  Optional LTC dropouts (a bad cable) and varispeed;
- the mic channel: a synthetic line (`stagebox.sim.voice`) starting on each cue's TC-in in
  every pass, over a quiet room-noise floor, so a take visibly contains the line. By default
  each pass is a new line; with `same_line` every pass says the cue's one line (the guide's,
  `guide_line`), and `late` makes the actor start it late on given passes (sync tests, demo);
  with `late_from`, only the words from that many seconds into the line come late;
- optionally a guide channel (`guide_channel`): the DAW's guide track, the cue's line as
  spoken on time (`guide_line`) from its TC-in in every pass, over its own room tone, as a
  stage with the guide on a capture input has it.

The feed knows its truth: for every pass, where each LTC frame starts (computed with the
encoder's own arithmetic, and equal to `encoder.emitted` once rendered) and the sample where
each cue's TC-in frame starts, so tests and the demo can measure punch errors in samples.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from stagebox.audio.wavout import write_pcm_wav
from stagebox.cues.cue import Cue
from stagebox.ltc.encoder import DEFAULT_LEVEL_DBFS, LTCEncoder
from stagebox.sim.voice import synth_line
from stagebox.timecode import Timecode

NOISE_CHUNK = 8192  # samples: room noise is drawn per chunk, so it does not depend on blocks
WRAPS = ("instant", "relocate")


@dataclass(frozen=True)
class Dropout:
    """LTC muted for `length` seconds, `at` seconds after the start of pass `pass_index`."""

    pass_index: int  # 0-based
    at: float  # seconds from the pass's first frame
    length: float  # seconds


@dataclass(frozen=True)
class PassTruth:
    """What really happened in one pass of the loop, in capture samples."""

    index: int  # 0-based pass number
    first: Timecode  # label of the pass's first frame (the loop start)
    frame_starts: np.ndarray = field(repr=False)  # samples (float64): start of each frame
    end: float  # samples: where the last frame ends
    cue_starts: dict[str, float]  # cue number -> samples: start of its TC-in frame
    cue_ends: dict[str, float]  # cue number -> samples: start of its TC-out frame
    dropouts: tuple[tuple[int, int], ...]  # [start, end) samples with the LTC muted
    lines: dict[str, tuple[int, int]]  # cue number -> [start, end) samples of the spoken line

    @property
    def start(self) -> float:
        """samples: where the pass's first frame starts."""
        return float(self.frame_starts[0])

    @property
    def frames(self) -> int:
        return len(self.frame_starts)

    def tc_in_sample(self, cue: str) -> int:
        """The punch-in sample of `cue` in this pass: its TC-in frame's start, rounded to the
        nearest sample (exact when a frame is a whole number of samples long)."""
        return math.floor(self.cue_starts[cue] + 0.5)

    def tc_out_sample(self, cue: str) -> int:
        return math.floor(self.cue_ends[cue] + 0.5)

    def label_at(self, sample: float) -> Timecode | None:
        """The label of the frame sent at `sample`, or None outside the pass."""
        if sample < self.frame_starts[0] or sample >= self.end:
            return None
        i = int(np.searchsorted(self.frame_starts, sample, side="right")) - 1
        return self.first + i


class StageFeed:
    """A stage's capture stream, generated block by block: `read(n)` -> (n, channels).

    `cues` are `Cue`s (or (tc_in, tc_out) pairs, numbered "1", "2", ...) sharing one rate;
    times are in seconds, levels in dBFS. `speed` is the LTC's varispeed (1.0 = real time),
    a number or a function of the sample position. Same arguments, same seed: same samples.
    """

    def __init__(
        self,
        cues: Sequence[Cue | tuple[Timecode, Timecode]],
        *,
        sample_rate: int = 48000,  # Hz
        passes: int = 3,
        preroll: float = 4.0,  # seconds of LTC before the first TC-in
        postroll: float = 2.0,  # seconds of LTC after the last TC-out
        wrap: str = "instant",  # "instant" or "relocate"
        relocate_gap: float = 1.0,  # seconds of silence between passes when relocating
        lead_in: float = 0.5,  # seconds of silence before the first pass
        tail: float = 1.0,  # seconds of silence after the last pass
        dropouts: Sequence[Dropout | tuple[int, float, float]] = (),
        speed: float | Callable[[float], float] = 1.0,
        channels: int = 2,
        mic_channel: int = 0,
        ltc_channel: int = 1,
        ltc_level_dbfs: float = DEFAULT_LEVEL_DBFS,
        voice_level_dbfs: float = -14.0,  # peak of the spoken line
        noise_level_dbfs: float = -70.0,  # RMS of the room noise on the mic
        seed: int = 0,
        same_line: bool = False,  # every pass speaks the same line (the guide's)
        late: Sequence[float] = (),  # s the actor is late on pass 1, 2, ... (0 if not given)
        late_from: float = 0.0,  # s into the line from which the lateness applies (0: all)
        guide_channel: int | None = None,  # channel carrying the DAW's guide track (None: none)
    ) -> None:
        self._args = dict(locals())
        del self._args["self"]
        self.cues = _normalise_cues(cues)
        self.rate = self.cues[0].tc_in.rate
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, not {sample_rate}")
        if passes < 1:
            raise ValueError(f"passes must be at least 1, not {passes}")
        if wrap not in WRAPS:
            raise ValueError(f"wrap must be one of {WRAPS}, not {wrap!r}")
        for name, value in (
            ("preroll", preroll),
            ("postroll", postroll),
            ("relocate_gap", relocate_gap),
            ("lead_in", lead_in),
            ("tail", tail),
        ):
            if value < 0:
                raise ValueError(f"{name} must not be negative, not {value} s")
        used = [mic_channel, ltc_channel] + ([guide_channel] if guide_channel is not None else [])
        if len(set(used)) != len(used) or not all(0 <= c < channels for c in used):
            raise ValueError(
                f"mic channel {mic_channel}, LTC channel {ltc_channel} and guide channel "
                f"{guide_channel} must be different channels of 0..{channels - 1}"
            )
        if late_from < 0:
            raise ValueError(f"late_from must not be negative, not {late_from} s")
        self.sample_rate = sample_rate
        self.channels = channels
        self.mic_channel = mic_channel
        self.ltc_channel = ltc_channel
        self.passes_count = passes
        self.wrap = wrap
        self.seed = seed
        self.same_line = same_line
        self.late = tuple(float(x) for x in late)
        self.late_from = float(late_from)
        self.guide_channel = guide_channel
        self._guides: dict[str, np.ndarray] = {}  # each cue's guide line, once synthesised
        self._line_length: dict[int, int] = {}  # samples of each cue's line (same_line)
        self._noise_rms = 10.0 ** (noise_level_dbfs / 20.0)
        self._voice_peak = 10.0 ** (voice_level_dbfs / 20.0)
        fps = float(self.rate.fps)
        first_in = min(c.tc_in for c in self.cues)
        last_out = max(c.tc_out for c in self.cues)
        pre = int(round(preroll * fps))  # frames
        post = int(round(postroll * fps))  # frames
        if first_in.frame_count - pre < 0:
            raise ValueError(f"a {preroll} s preroll before {first_in} would start before midnight")
        self.loop_start: Timecode = first_in + (-pre)
        self.loop_end: Timecode = last_out + post  # first frame not sent
        self.loop_frames = int(self.loop_end - self.loop_start)
        self.encoder = LTCEncoder(sample_rate, self.rate, level_dbfs=ltc_level_dbfs, speed=speed)
        self.passes: list[PassTruth] = []
        self._events: list[tuple[float, Timecode | None]] = []  # (sample, tc or None = stop)
        self._plan(lead_in, relocate_gap, tail, [_dropout(d) for d in dropouts])
        self.position = 0  # samples: index of the next sample read() returns
        self._lines: dict[tuple[int, str], np.ndarray] = {}  # synthesised, not yet passed
        self._noise_cache: dict[int, np.ndarray] = {}

    # -- planning ---------------------------------------------------------------------------

    def _plan(self, lead_in: float, gap: float, tail: float, dropouts: list[Dropout]) -> None:
        sr = self.sample_rate
        at = float(round(lead_in * sr))
        for p in range(self.passes_count):
            starts = np.empty(self.loop_frames)
            s = at
            for i in range(self.loop_frames):  # the encoder's own arithmetic, frame by frame
                starts[i] = s
                s = s + self.encoder.samples_per_frame(s)
            end = s
            self._events.append((at, self.loop_start))
            cue_starts = {c.number: starts[c.tc_in - self.loop_start] for c in self.cues}
            cue_ends = {}
            for c in self.cues:
                k = c.tc_out - self.loop_start
                cue_ends[c.number] = starts[k] if k < self.loop_frames else end
            spans = tuple(
                (int(round(starts[0] + d.at * sr)), int(round(starts[0] + (d.at + d.length) * sr)))
                for d in dropouts
                if d.pass_index == p
            )
            lines = {
                c.number: (
                    math.floor(cue_starts[c.number] + 0.5),
                    math.floor(cue_ends[c.number] + 0.5),
                )
                for c in self.cues
            }
            self.passes.append(
                PassTruth(p, self.loop_start, starts, end, cue_starts, cue_ends, spans, lines)
            )
            if self.wrap == "instant" and p + 1 < self.passes_count:
                at = end
            else:
                self._events.append((end, None))
                at = float(math.ceil(end) + round(gap * sr))
        self.length = int(math.ceil(self.passes[-1].end)) + int(round(tail * sr))  # samples
        for p in self.passes:
            for start, end in p.dropouts:
                if not 0 <= start < end:
                    raise ValueError(f"LTC dropout in pass {p.index} spans {start}..{end}")

    # -- rendering --------------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        return self.length - self.position

    def read(self, n: int) -> np.ndarray:
        """The next `n` samples (fewer at the end of the feed, none after it), float32
        (frames, channels)."""
        n = max(0, min(n, self.remaining))
        out = np.zeros((n, self.channels), dtype=np.float32)
        if n == 0:
            return out
        start = self.position
        out[:, self.ltc_channel] = self._render_ltc(n)
        for p in self.passes:
            for a, b in p.dropouts:
                lo, hi = max(a, start), min(b, start + n)
                if lo < hi:
                    out[lo - start : hi - start, self.ltc_channel] = 0.0
        out[:, self.mic_channel] = self._room_noise(start, n)
        self._add_lines(out[:, self.mic_channel], start, n)
        if self.guide_channel is not None:
            out[:, self.guide_channel] = self._room_noise(start, n, stream=3)
            self._add_guide(out[:, self.guide_channel], start, n)
        self.position = start + n
        return out

    def _render_ltc(self, n: int) -> np.ndarray:
        enc = self.encoder
        end = enc.position + n
        parts = []
        while self._events and self._events[0][0] < end:
            at, tc = self._events.pop(0)
            upto = max(enc.position, math.floor(at))
            if upto > enc.position:
                parts.append(enc.render(upto - enc.position))
            if tc is None:
                enc.locate(self.loop_end, at=at)  # drop frames planned past the loop end
                enc.stop()
            else:
                enc.locate(tc, at=at)
        parts.append(enc.render(end - enc.position))
        return np.concatenate(parts)

    def _room_noise(self, start: int, n: int, stream: int = 1) -> np.ndarray:
        first, last = start // NOISE_CHUNK, (start + n - 1) // NOISE_CHUNK
        chunks = [self._noise_chunk(c, stream) for c in range(first, last + 1)]
        noise = np.concatenate(chunks)[start - first * NOISE_CHUNK :][:n]
        return (noise * self._noise_rms).astype(np.float32)

    def _noise_chunk(self, index: int, stream: int = 1) -> np.ndarray:
        chunk = self._noise_cache.get((stream, index))
        if chunk is None:
            rng = np.random.default_rng([self.seed, stream, index])
            chunk = rng.standard_normal(NOISE_CHUNK)
            # Blocks move forward: keep only the newest chunk of each stream.
            self._noise_cache = {k: v for k, v in self._noise_cache.items() if k[0] != stream}
            self._noise_cache[(stream, index)] = chunk
        return chunk

    def _add_guide(self, guide: np.ndarray, start: int, n: int) -> None:
        """The DAW's guide track: each cue's line on time from its TC-in, every pass."""
        end = start + n
        for p in self.passes:
            for cue in self.cues:
                a = p.lines[cue.number][0]
                line = self._guides.get(cue.number)
                if line is None:
                    line = self._guides[cue.number] = self.guide_line(cue.number)
                lo, hi = max(a, start), min(a + len(line), end)
                if lo < hi:
                    guide[lo - start : hi - start] += line[lo - a : hi - a]

    def guide_line(self, cue_number: str) -> np.ndarray:
        """The line of a cue as spoken on time from its TC-in (with `same_line`: what every
        pass says, so the guide a sync score compares against)."""
        c_index = next(i for i, c in enumerate(self.cues) if c.number == cue_number)
        return self._line(0, c_index, *self.passes[0].lines[cue_number])

    def _line(self, pass_index: int, c_index: int, a: int, b: int) -> np.ndarray:
        if self.same_line:
            length = self._line_length.setdefault(c_index, b - a)
            rng = np.random.default_rng([self.seed, 2, 0, c_index])
        else:
            length = b - a
            rng = np.random.default_rng([self.seed, 2, pass_index, c_index])
        return synth_line(length, self.sample_rate, rng, peak=self._voice_peak)

    def _add_lines(self, mic: np.ndarray, start: int, n: int) -> None:
        end = start + n
        for p in self.passes:
            late = self.late[p.index] if p.index < len(self.late) else 0.0
            shift = round(late * self.sample_rate)  # samples
            for c_index, cue in enumerate(self.cues):
                a, b = p.lines[cue.number]
                key = (p.index, cue.number)
                length = self._line_length.get(c_index, b - a)
                # The line in two pieces: the words said on time (`late_from`), the rest late.
                on_time = min(length, round(self.late_from * self.sample_rate)) if shift else 0
                pieces = ((a, 0, on_time), (a + on_time + shift, on_time, length))
                if all(at + hi - lo <= start for at, lo, hi in pieces):
                    self._lines.pop(key, None)
                    continue
                if all(at >= end or lo == hi for at, lo, hi in pieces):
                    continue
                line = self._lines.get(key)
                if line is None:
                    line = self._line(p.index, c_index, a, a + length)
                    self._lines[key] = line
                for at, lo, hi in pieces:
                    s0, s1 = max(at, start), min(at + hi - lo, end)
                    if s0 < s1:
                        mic[s0 - start : s1 - start] += line[lo + s0 - at : lo + s1 - at]

    def render_all(self) -> np.ndarray:
        """Everything left in the feed, as one array (frames, channels)."""
        return self.read(self.remaining)

    def fresh(self) -> StageFeed:
        """A new feed with the same arguments, at sample 0."""
        return StageFeed(**self._args)

    def write_wav(self, path: str | os.PathLike, *, bits: int = 24, block: int = 65536) -> int:
        """Render the whole feed (from its start, leaving this one where it is) to a new WAV
        file of 16- or 24-bit PCM, for `stagebox replay`; returns the frames written."""
        feed = self.fresh()

        def blocks():
            while feed.remaining:
                yield feed.read(block)

        return write_pcm_wav(path, blocks(), self.sample_rate, self.channels, bits)


def _normalise_cues(cues: Sequence[Cue | tuple[Timecode, Timecode]]) -> list[Cue]:
    out: list[Cue] = []
    for i, c in enumerate(cues):
        cue = c if isinstance(c, Cue) else Cue(str(i + 1), c[0], c[1])
        rates = {cue.tc_in.rate, cue.tc_out.rate, out[0].tc_in.rate if out else cue.tc_in.rate}
        if len(rates) != 1:
            raise ValueError(
                f"the cues of one feed must share a rate, not {sorted(map(str, rates))}"
            )
        if cue.tc_out <= cue.tc_in:
            raise ValueError(
                f"cue {cue.number}: TC-out {cue.tc_out} is not after TC-in {cue.tc_in}"
            )
        out.append(cue)
    if not out:
        raise ValueError("a stage feed needs at least one cue")
    numbers = [c.number for c in out]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"cue numbers repeat: {numbers}")
    return out


def _dropout(d: Dropout | tuple[int, float, float]) -> Dropout:
    d = d if isinstance(d, Dropout) else Dropout(*d)
    if d.length <= 0 or d.at < 0:
        raise ValueError(f"LTC dropout {d}: needs at >= 0 and length > 0 seconds")
    return d
