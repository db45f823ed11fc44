"""The sync score of a take against its guide: offset, wander, score and a plain verdict.

`score_take(take, guide, sample_rate, rate)` is the one entry point. It works on two arrays of
samples that start on the same sample of timecode (the take and the guide cut to the same
span, handles included) and answers with a `SyncReport`:

1. Both performances become speech features every 10 ms (`features.py`).
2. Dynamic time warping in a band (`dtw.py`) finds, for each guide frame, the take frame that
   says the same thing. Its offset is the local deviation: + means the actor is late.
3. Each 10 ms step is refined to the millisecond by matching the 1 ms onset envelopes of the
   two around it (only where the match is clear).
4. Only the guide's speech that stands clear of both noise floors counts. An eye judges sync
   by onsets (lips opening, consonants bursting), so the guide's **onsets** (the start of each
   stretch of speech and each sharp rise in level inside one) carry the timing: each onset's
   deviation is the median over its first 80 ms. The **overall offset** is the median over
   all onsets; the **worst local deviation** is the onset furthest from it (with its timecode
   and, when the cue has word timing, its word). The **sync score** is the share of all the
   guide's speech time whose match lies within +-1 video frame.
5. The verdict: *out of sync* when the whole take is more than a frame off (or most onsets
   are and the score is under 50 %); *in sync* when no onset is more than a frame off and the
   score is at least 80 %; otherwise *check words at ...*, naming the onsets that are off.
   *Cannot judge* when there is no guide, the guide or the take has no speech, the guide is
   mostly noise, or the take's noise hides the guide's speech: a number would be a guess.

Pure computation on arrays: no threads, no I/O. The service runs it on its own worker thread
after the punch-out, never on the audio thread; a 10 s cue costs a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from stagebox.sync.dtw import banded_cost, dtw_path
from stagebox.sync.features import (
    FLOOR_MARGIN_DB,
    SPEECH_RANGE_DB,
    SpeechFeatures,
    matched_cepstra,
    onset_envelope,
    speech_features,
)
from stagebox.timecode import Rate, Timecode

IN_SYNC = "in sync"
CHECK = "check words"
OUT_OF_SYNC = "out of sync"
CANNOT_JUDGE = "cannot judge"

DEFAULT_MAX_OFFSET_S = 1.0  # s: the DTW band; an actor further off than this is out of sync
MIN_SPEECH_S = 0.25  # s of speech below which there is nothing to judge
MIN_VOICED_SHARE = 0.2  # of the guide's speech frames pitched, below which it is noise
IN_SYNC_SCORE = 0.8  # share of speech within a frame for "in sync" (with no word off)
OUT_OF_SYNC_SCORE = 0.5  # below this share the take is out of sync
MERGE_GAP_S = 0.06  # s: stretches of speech closer than this are one
STEP_PENALTY = 0.05  # DTW cost of holding or skipping a frame (cosine distance units)
REFINE_HALF_S = 0.06  # s either side of a step matched on the onset envelope
REFINE_REACH_S = 0.012  # s either way the refinement may move a step
REFINE_MIN_CORR = 0.6  # onset-envelope correlation below which a step is not refined
ONSET_S = 0.08  # s after each onset whose deviation is the onset's
RISE_DB = 9.0  # dB of level rise within 30 ms that starts a syllable
MAX_CHECKS = 3  # stretches named in the verdict


@dataclass(frozen=True)
class SyncPoint:
    """An onset in the guide's speech (a word or syllable starting) and the take's timing there."""

    at_s: float  # s from the first sample where the onset is (in the guide)
    deviation_ms: float  # the take's deviation over the onset's first 80 ms (+ = late)
    timecode: str = ""  # the guide's timecode at `at_s` ("" without a start timecode)
    word: str = ""  # the word spoken there ("" without word timing)

    @property
    def where(self) -> str:
        place = self.timecode or f"{self.at_s:.2f} s"
        return f"{place} {self.word!r}" if self.word else place

    def to_dict(self) -> dict:
        return {
            "at_s": round(self.at_s, 3),
            "deviation_ms": round(self.deviation_ms, 1),
            "timecode": self.timecode,
            "word": self.word,
        }


@dataclass(frozen=True)
class SyncReport:
    """How well a take matches its guide in time. `verdict` is one of the four constants."""

    verdict: str  # IN_SYNC, CHECK, OUT_OF_SYNC or CANNOT_JUDGE
    reason: str = ""  # why it cannot judge ("" when it can)
    score: float | None = None  # 0..1: share of the guide's speech within +-1 frame
    offset_ms: float | None = None  # overall offset, + = the take is late
    offset_frames: float | None = None  # the same in video frames
    worst_ms: float | None = None  # worst local deviation from the overall offset (+ = later)
    worst_frames: float | None = None
    worst_at_s: float | None = None  # s from the first sample
    worst_timecode: str = ""
    worst_word: str = ""
    checks: tuple[SyncPoint, ...] = ()  # onsets more than a frame off (or the worst one)
    points: tuple[SyncPoint, ...] = ()  # every onset
    speech_s: float = 0.0  # s of the guide's speech compared (clear of both noise floors)
    match: float | None = None  # 0..1 mean similarity of matched speech frames
    frame_ms: float = 0.0  # one video frame in ms at the rate
    rate: str = ""  # timecode rate name
    # The alignment, for plots: guide time -> take time (s from the first sample).
    path_guide_s: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    path_take_s: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    # The refined deviation (s, + = late) of every guide feature frame, hop_s apart.
    deviation_s: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    hop_s: float = 0.0

    @property
    def judged(self) -> bool:
        return self.verdict != CANNOT_JUDGE

    @property
    def message(self) -> str:
        """The verdict as the crew reads it, one line."""
        if not self.judged:
            return f"cannot judge: {self.reason}"
        pct = f"{round(100 * (self.score or 0.0))}%"
        if self.verdict == IN_SYNC:
            return f"in sync ({pct}, {_frames_text(self.offset_frames)})"
        if self.verdict == OUT_OF_SYNC:
            return f"out of sync ({pct}, {_frames_text(self.offset_frames)})"
        where = ", ".join(
            f"{c.where} {_frames_text(c.deviation_ms / self.frame_ms)}"
            for c in self.checks[:MAX_CHECKS]
        )
        return f"check words at {where} ({pct})"

    @property
    def stage_line(self) -> str:
        """The verdict as the stage shows it after the pass, in capitals and short: "IN SYNC
        96% +12ms", "CHECK WORDS @01:00:12:05 'never'", "OUT OF SYNC +3f", "CANNOT JUDGE: no
        guide" (the front panel, the monitor, the actor's screen; the service adds "T3 ")."""
        if not self.judged:
            reason = self.reason if len(self.reason) <= 24 else ""
            return f"CANNOT JUDGE: {reason}" if reason else "CANNOT JUDGE"
        pct = f"{round(100 * (self.score or 0.0))}%"
        if self.verdict == IN_SYNC:
            return f"IN SYNC {pct} {self.offset_ms:+.0f}ms"
        if self.verdict == OUT_OF_SYNC:
            return f"OUT OF SYNC {_offset_short(self.offset_ms, self.offset_frames)}"
        first = self.checks[0] if self.checks else None
        if first is None:
            return f"CHECK WORDS {pct}"
        place = f"@{first.timecode}" if first.timecode else f"@{first.at_s:.2f}s"
        if first.word:
            return f"CHECK WORDS {place} {first.word!r}"
        deviation = _offset_short(first.deviation_ms, first.deviation_ms / self.frame_ms)
        return f"CHECK WORDS {place} {deviation}"

    @property
    def summary(self) -> str:
        """A few characters for a take line or the front panel: "sync 96%", "sync ?"."""
        if not self.judged:
            return "sync ?"
        mark = {IN_SYNC: "", CHECK: " chk", OUT_OF_SYNC: " OUT"}[self.verdict]
        return f"sync {round(100 * (self.score or 0.0))}%{mark}"

    def to_dict(self) -> dict:
        def r(x, nd=1):
            return None if x is None else round(float(x), nd)

        return {
            "verdict": self.verdict,
            "message": self.message,
            "reason": self.reason,
            "score": r(self.score, 3),
            "offset_ms": r(self.offset_ms),
            "offset_frames": r(self.offset_frames, 2),
            "worst_ms": r(self.worst_ms),
            "worst_frames": r(self.worst_frames, 2),
            "worst_at_s": r(self.worst_at_s, 3),
            "worst_timecode": self.worst_timecode,
            "worst_word": self.worst_word,
            "checks": [c.to_dict() for c in self.checks],
            "onsets": [p.to_dict() for p in self.points],
            "speech_s": r(self.speech_s, 2),
            "match": r(self.match, 3),
            "frame_ms": r(self.frame_ms, 3),
            "rate": self.rate,
        }


def cannot_judge(reason: str, rate: Rate | None = None) -> SyncReport:
    """The report for a take that cannot be judged (no guide, silence, noise)."""
    frame_ms = 1000.0 / float(rate.fps) if rate else 0.0
    return SyncReport(
        CANNOT_JUDGE, reason=reason, frame_ms=frame_ms, rate=rate.name if rate else ""
    )


def score_take(
    take: np.ndarray,
    guide: np.ndarray | None,
    sample_rate: int,
    rate: Rate,
    *,
    start: Timecode | None = None,
    words: Sequence[tuple[str, Timecode]] = (),
    max_offset_s: float = DEFAULT_MAX_OFFSET_S,
) -> SyncReport:
    """Score `take` against `guide` (samples from the same first sample of timecode).

    `take`/`guide`: float samples, mono or (frames, channels) (channels are mixed).
    `rate`: the picture's timecode rate (a frame is the tolerance). `start`: the timecode of
    the first sample, for naming places; `words`: the cue's word timing, for naming words.
    `max_offset_s`: how far the alignment may wander (the DTW band).
    """
    if guide is None:
        return cannot_judge("no guide", rate)
    take_m, guide_m = _mono(take), _mono(guide)
    n = min(len(take_m), len(guide_m))
    if n < sample_rate * MIN_SPEECH_S:
        return cannot_judge("the take or the guide is too short", rate)
    take_m, guide_m = take_m[:n], guide_m[:n]
    g = speech_features(guide_m, sample_rate)
    if g.active_s < MIN_SPEECH_S:
        return cannot_judge("no speech in the guide", rate)
    if g.voiced_share < MIN_VOICED_SHARE:
        return cannot_judge("the guide is mostly noise", rate)
    t = speech_features(take_m, sample_rate)
    if t.active_s < MIN_SPEECH_S:
        return cannot_judge("no speech in the take", rate)

    hop_s = g.hop_s
    band = max(1, round(max_offset_s / hop_s))
    cep_g, cep_t = matched_cepstra(g, t)
    cost, start_cols = banded_cost(cep_g, cep_t, band)
    gi, tj, _ = dtw_path(cost, start_cols, t.frames, STEP_PENALTY)
    dev = _deviation(gi, tj, g.frames) * hop_s  # s, + = late, per guide frame
    dev = _refine(dev, g, onset_envelope(guide_m, sample_rate), onset_envelope(take_m, sample_rate))
    dev = _median3(dev)

    speech = _comparable_speech(g, t)
    if speech.sum() * hop_s < MIN_SPEECH_S:
        return cannot_judge("the take's noise hides the guide's speech", rate)
    frame_s = 1.0 / float(rate.fps)
    score = float(np.mean(np.abs(dev[speech]) <= frame_s + 1e-9))
    similarity = 1.0 - cost[gi, tj - start_cols[gi]]
    match = float(np.mean(similarity[speech[gi]]))

    # Onsets carry the timing an eye judges: the overall offset and each word's deviation.
    namer = _Namer(start, rate, _word_times(words, start, rate))
    span = max(1, round(ONSET_S / hop_s))
    starts = _onset_starts(g.level_db, speech, hop_s)
    windows = [np.flatnonzero(speech[a : a + span]) + a for a in starts]
    offset = float(np.median(dev[np.concatenate(windows)]))
    points = tuple(
        SyncPoint(
            a * hop_s,
            1000.0 * float(np.median(dev[w])),
            namer.timecode(a * hop_s),
            namer.word(a * hop_s),
        )
        for a, w in zip(starts, windows, strict=True)
    )
    checks = tuple(p for p in points if abs(p.deviation_ms) > 1000.0 * frame_s)
    worst_point = max(points, key=lambda p: abs(p.deviation_ms - 1000.0 * offset))
    off_share = len(checks) / len(points)
    if abs(offset) > frame_s or (score < OUT_OF_SYNC_SCORE and off_share >= 0.5):
        verdict = OUT_OF_SYNC
    elif not checks and score >= IN_SYNC_SCORE:
        verdict = IN_SYNC
    else:
        verdict = CHECK
        if not checks:  # every onset within a frame, but the words drift in between
            checks = (worst_point,)
    return SyncReport(
        verdict=verdict,
        score=score,
        offset_ms=1000.0 * offset,
        offset_frames=offset / frame_s,
        worst_ms=worst_point.deviation_ms - 1000.0 * offset,
        worst_frames=(worst_point.deviation_ms / 1000.0 - offset) / frame_s,
        worst_at_s=worst_point.at_s,
        worst_timecode=worst_point.timecode,
        worst_word=worst_point.word,
        checks=checks,
        points=points,
        speech_s=float(speech.sum()) * hop_s,
        match=match,
        frame_ms=1000.0 * frame_s,
        rate=rate.name,
        path_guide_s=gi * hop_s,
        path_take_s=tj * hop_s,
        deviation_s=dev,
        hop_s=hop_s,
    )


def _comparable_speech(g: SpeechFeatures, t: SpeechFeatures) -> np.ndarray:
    """The guide's speech frames loud enough to compare: above the worse of the two noise
    floors (each relative to its own speech level) by the speech margin. A word tail that one
    of the two has under its room tone says nothing about timing."""
    floor_rel = max(g.floor_db - g.peak_db, t.floor_db - t.peak_db, -SPEECH_RANGE_DB)
    return g.active & (g.level_db > g.peak_db + floor_rel + FLOOR_MARGIN_DB)


def _onset_starts(level_db: np.ndarray, speech: np.ndarray, hop_s: float) -> list[int]:
    """Guide frames where speech starts: the start of each stretch of speech (stretches closer
    than MERGE_GAP_S are one) and, inside a stretch, each sharp rise in level (RISE_DB within
    30 ms: the next syllable), at least ONSET_S after the previous onset."""
    idx = np.flatnonzero(speech)
    if len(idx) == 0:
        return []
    gap = max(1, round(MERGE_GAP_S / hop_s))
    stretch = set(np.concatenate(([idx[0]], idx[1:][np.diff(idx) > gap])).tolist())
    lag = max(1, round(0.03 / hop_s))
    rise = np.zeros_like(level_db)
    rise[:-lag] = level_db[lag:] - level_db[:-lag]
    span = max(1, round(ONSET_S / hop_s))
    out: list[int] = []
    for i in idx:
        if i in stretch or (rise[i] > RISE_DB and (i == 0 or rise[i - 1] <= RISE_DB)):
            if out and i - out[-1] < span and i not in stretch:
                continue
            out.append(int(i))
    return out


def _mono(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1) if a.shape[1] > 1 else a[:, 0]
    return a.reshape(-1)


def _deviation(gi: np.ndarray, tj: np.ndarray, n: int) -> np.ndarray:
    """Mean matched take frame minus guide frame, for each guide frame (frames)."""
    sums = np.bincount(gi, weights=tj, minlength=n)
    counts = np.bincount(gi, minlength=n)
    return sums / np.maximum(counts, 1) - np.arange(n)


def _refine(dev: np.ndarray, g: SpeechFeatures, env_g: np.ndarray, env_t: np.ndarray):
    """Move each speech step's deviation to the millisecond where the onset envelopes agree.

    Around guide frame i (+-60 ms of the 1 ms envelope), the take's envelope is tried at every
    1 ms lag within 12 ms of the DTW's deviation; the best correlation wins if it is clear
    (above 0.6) and not at the edge of the reach. Other steps keep the DTW's 10 ms answer.
    """
    step_ms = 1000.0 * g.hop_s
    half = round(REFINE_HALF_S * 1000)
    reach = round(REFINE_REACH_S * 1000)
    frames = np.flatnonzero(g.active)
    if len(frames) == 0:
        return dev
    centre = np.rint(frames * step_ms).astype(np.int64)  # ms
    coarse = np.rint(dev[frames] * 1000.0).astype(np.int64)  # ms
    span = 2 * half + 1
    lags = np.arange(-reach, reach + 1)
    # Envelopes floored 50 dB under their loudest point, so silence is flat, not noise.
    eg = np.maximum(env_g, env_g.max() - 50.0)
    et = np.maximum(env_t, env_t.max() - 50.0)
    pad = half + reach + 2000
    eg_p = np.pad(eg, pad, mode="edge")
    et_p = np.pad(et, pad, mode="edge")
    gwin = np.lib.stride_tricks.sliding_window_view(eg_p, span)[centre - half + pad]
    tw_all = np.lib.stride_tricks.sliding_window_view(et_p, span)
    t_starts = (centre + np.clip(coarse, -2000 + reach, 2000 - reach) - half + pad)[:, None] + lags
    t_starts = np.clip(t_starts, 0, len(tw_all) - 1)
    twin = tw_all[t_starts]  # (steps, lags, span)
    gz = gwin - gwin.mean(axis=1, keepdims=True)
    tz = twin - twin.mean(axis=2, keepdims=True)
    num = np.einsum("sk,slk->sl", gz, tz)
    den = np.sqrt((gz**2).sum(axis=1))[:, None] * np.sqrt((tz**2).sum(axis=2)) + 1e-9
    corr = num / den
    best = np.argmax(corr, axis=1)
    best_corr = corr[np.arange(len(frames)), best]
    ok = (best_corr > REFINE_MIN_CORR) & (best > 0) & (best < len(lags) - 1)
    out = dev.copy()
    out[frames[ok]] = (coarse[ok] + lags[best[ok]]) / 1000.0
    return out


def _median3(x: np.ndarray) -> np.ndarray:
    """Median of each value with its neighbours: one 10 ms step of path jitter is not a word."""
    if len(x) < 3:
        return x
    padded = np.concatenate(([x[0]], x, [x[-1]]))
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 3), axis=1)


def _word_times(words, start: Timecode | None, rate: Rate) -> list[tuple[str, float]]:
    if not words or start is None:
        return []
    out = []
    for word, tc in words:
        try:
            frames = tc.with_rate(rate).frame_count - start.with_rate(rate).frame_count
        except Exception:  # a word whose label does not exist at this rate: leave it out
            continue
        out.append((word, frames / float(rate.fps)))
    return sorted(out, key=lambda w: w[1])


class _Namer:
    """Names a moment (s from the first sample) by its timecode and the word spoken there."""

    def __init__(self, start: Timecode | None, rate: Rate, words: list[tuple[str, float]]):
        self.start, self.rate, self.words = start, rate, words

    def timecode(self, at_s: float) -> str:
        if self.start is None:
            return ""
        start = self.start.with_rate(self.rate)
        frames = int(np.floor(at_s * float(self.rate.fps) + 1e-9))
        return str(Timecode.from_frames(start.frame_count + frames, self.rate))

    def word(self, at_s: float) -> str:
        """The last word marked at or before `at_s` (a frame of slack: marks are in frames)."""
        slack = 1.0 / float(self.rate.fps)
        name = ""
        for word, t in self.words:
            if t <= at_s + slack:
                name = word
            else:
                break
        return name


def _offset_short(ms: float | None, frames: float | None) -> str:
    """ "+3f" from a frame off on, "+12ms" under it (where a frame count would read 0)."""
    if ms is None or frames is None:
        return ""
    if abs(frames) >= 0.95:
        return f"{round(frames):+d}f"
    return f"{ms:+.0f}ms"


def _frames_text(frames: float | None) -> str:
    if frames is None:
        return ""
    return f"{frames:+.1f} fr"
