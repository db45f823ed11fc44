"""The simulated audio backend: a stage feed in place of the HAT, playback kept for inspection.

The capture stream comes from a `StageFeed` (generated LTC loop + actor), a WAV file (a feed
written by `StageFeed.write_wav` or captured on a real stage, for `stagebox replay`) or an
array. It runs as fast as the CPU allows, or paced in real time (`realtime=True`: each period
is handed over at its wall-clock deadline, like a sound card). Either way the time map is fed:
paced, with the deadlines; fast, from a virtual clock that runs at the sample rate from
`open()`, so the display and lamps see the same sample-to-time line they would on a stage.

xruns can be injected (`drops=[(sample, lost), ...]`): the feed skips `lost` samples there and
the next block reports them, as an ALSA overrun would after recovery.

Playback is recorded, not played: each written block lands in `playback()` at the capture
sample index where it would be heard (`playback_position`), `playback_latency` samples after
the end of the block last read, so tests can check that a beep lands on its sample. Only the
newest `keep_playback` seconds are kept (default KEEP_PLAYBACK_SECONDS; None: all of it), so
a simulated stage day (`stagebox run` on the sim backend, a long demo) holds bounded memory:
an hour of kept stereo float32 playback would be 1.4 GB.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from stagebox.audio.base import (
    AudioBackend,
    AudioError,
    CaptureBlock,
    EndOfFeed,
    check_playback_block,
)
from stagebox.audio.wavout import write_pcm_wav
from stagebox.sim.stagefeed import StageFeed
from stagebox.timemap import SampleTimeMap

log = logging.getLogger("stagebox.audio")

KEEP_PLAYBACK_SECONDS = 10.0  # newest playback kept for inspection (7.7 MB at most, stereo)


class _ArraySource:
    def __init__(self, samples: np.ndarray, sample_rate: int) -> None:
        arr = np.asarray(samples, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise AudioError(f"sim samples must be (frames, channels), not {arr.shape}")
        self.samples, self.sample_rate, self.channels = arr, sample_rate, arr.shape[1]
        self.length, self.position = arr.shape[0], 0

    def read(self, n: int) -> np.ndarray:
        out = self.samples[self.position : self.position + n]
        self.position += out.shape[0]
        return out

    def close(self) -> None:
        pass


class _WavSource:
    """A WAV file read through the tolerant, memory-mapped reader, a block at a time."""

    def __init__(self, path: str | os.PathLike) -> None:
        from stagebox.wavfile import WavError, WavReader

        try:
            self._reader = WavReader(path)
        except (OSError, WavError) as exc:
            raise AudioError(f"sim feed {os.fspath(path)}: {exc}") from None
        info = self._reader.info
        self.sample_rate, self.channels, self.length = info.sample_rate, info.channels, info.frames
        self.position = 0
        self._forgotten = 0  # frames whose mapped pages were given back

    def read(self, n: int) -> np.ndarray:
        out = self._reader.read(self.position, n)
        self.position += out.shape[0]
        if self.position - self._forgotten >= self.sample_rate:  # once a second of audio
            self._reader.forget(self.position)  # played once: its pages need not stay resident
            self._forgotten = self.position
        return out

    def close(self) -> None:
        self._reader.close()


class _FeedSource:
    def __init__(self, feed: StageFeed) -> None:
        self.feed = feed
        self.sample_rate, self.channels, self.length = feed.sample_rate, feed.channels, feed.length

    @property
    def position(self) -> int:
        return self.feed.position

    def read(self, n: int) -> np.ndarray:
        return self.feed.read(n)

    def close(self) -> None:
        pass


class SimBackend(AudioBackend):
    """Capture from a feed, record playback. Give exactly one of `feed`, `wav`, `samples`."""

    def __init__(
        self,
        feed: StageFeed | None = None,
        *,
        wav: str | os.PathLike | None = None,
        samples: np.ndarray | None = None,
        sample_rate: int | None = None,  # Hz; required with `samples`, checked otherwise
        period: int = 256,  # frames per block
        realtime: bool = False,  # pace blocks to wall-clock time
        playback_channels: int = 2,  # 0: no playback
        playback_latency: int | None = None,  # samples; default two periods
        drops: Sequence[tuple[int, int]] = (),  # (capture sample, samples lost): xruns
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        keep_playback: float | None = KEEP_PLAYBACK_SECONDS,  # seconds; None: keep it all
    ) -> None:
        if sum(x is not None for x in (feed, wav, samples)) != 1:
            raise AudioError("the sim backend needs exactly one of feed=, wav= or samples=")
        if not 1 <= period <= 1 << 20:
            raise AudioError(f"period must be 1..{1 << 20} frames, not {period}")
        if samples is not None and sample_rate is None:
            raise AudioError("sim samples= needs sample_rate=")
        self._spec = (feed, wav, samples)
        self._src: _ArraySource | _WavSource | _FeedSource | None = None
        self._rate_asked = sample_rate
        self.sample_rate = sample_rate or (feed.sample_rate if feed is not None else 0)
        self.capture_channels = feed.channels if feed is not None else 0
        self.period = period
        self.realtime = realtime
        self.playback_channels = playback_channels
        self.playback_latency = 2 * period if playback_latency is None else playback_latency
        if self.playback_latency < 0:
            raise AudioError(f"playback latency must not be negative, not {playback_latency}")
        self._drops = sorted((int(a), int(n)) for a, n in drops)
        for at, lost in self._drops:
            if at < 0 or lost <= 0:
                raise AudioError(f"sim drop ({at}, {lost}): needs sample >= 0 and lost > 0")
        self._clock, self._sleep = clock, sleep
        self.time_map = SampleTimeMap(self.sample_rate or 48000)
        self.xruns = 0
        self._pending_drops: list[tuple[int, int]] = []
        self._next = 0  # samples: capture position of the next block
        self._t0 = 0.0  # monotonic seconds of sample 0
        self._play_next: int | None = None  # samples: capture index of the next written sample
        self._played = np.zeros((0, max(playback_channels, 1)), dtype=np.float32)
        self._played_end = 0  # samples: one past the last written sample
        self._played_base = 0  # samples: the capture index of _played[0]
        if keep_playback is not None and keep_playback <= 0:
            raise AudioError(f"keep_playback must be positive seconds, not {keep_playback}")
        self.keep_playback = keep_playback

    def open(self) -> None:
        if self._src is not None:
            raise AudioError("the sim backend is already open")
        feed, wav, samples = self._spec
        if feed is not None:
            src = _FeedSource(feed)
        elif wav is not None:
            src = _WavSource(wav)
        else:
            src = _ArraySource(samples, int(self._rate_asked))
        if self._rate_asked is not None and src.sample_rate != self._rate_asked:
            src.close()
            raise AudioError(
                f"sim feed runs at {src.sample_rate} Hz, not the {self._rate_asked} Hz asked for"
            )
        self._src = src
        self.sample_rate = src.sample_rate
        self.capture_channels = src.channels
        self.time_map = SampleTimeMap(self.sample_rate)
        self.xruns = 0
        self._pending_drops = list(self._drops)
        self._next = src.position
        self._t0 = self._clock() - self._next / self.sample_rate
        self._play_next = None
        frames = src.length + 4 * self.period + self.playback_latency
        if self._keep_frames is not None:
            frames = min(frames, 2 * self._keep_frames)
        self._played = np.zeros((frames, max(self.playback_channels, 1)), dtype=np.float32)
        self._played_end = 0
        self._played_base = 0

    def close(self) -> None:
        if self._src is not None:
            self._src.close()
            self._src = None

    # -- capture ----------------------------------------------------------------------------

    def read(self) -> CaptureBlock:
        src = self._src
        if src is None:
            raise AudioError("read() before open()")
        lost = 0
        while self._pending_drops and self._pending_drops[0][0] <= self._next + lost:
            _, n = self._pending_drops.pop(0)
            skipped = src.read(n).shape[0]
            lost += skipped
        samples = src.read(self.period)
        if samples.shape[0] == 0:
            raise EndOfFeed(f"the sim feed ended at sample {self._next + lost}")
        if lost:
            self.xruns += 1
            self.time_map.reset()
            log.warning(
                "sim capture overrun at sample %d: %d samples lost (xrun #%d)",
                self._next,
                lost,
                self.xruns,
            )
        position = self._next + lost
        self._next = position + samples.shape[0]
        deadline = self._t0 + self._next / self.sample_rate  # when the last sample is captured
        if self.realtime:
            wait = deadline - self._clock()
            if wait > 0:
                self._sleep(wait)
        self.time_map.add(self._next, deadline)
        return CaptureBlock(np.ascontiguousarray(samples, dtype=np.float32), position, lost)

    # -- playback ---------------------------------------------------------------------------

    @property
    def playback_position(self) -> int:
        steady = self._next + self.playback_latency
        if self._play_next is None or self._play_next < self._next:
            return steady  # nothing queued: the next write starts after the latency
        return self._play_next

    def write(self, block: np.ndarray) -> None:
        if self._src is None:
            raise AudioError("write() before open()")
        arr = check_playback_block(block, self.playback_channels, "sim playback")
        if self._play_next is not None and self._play_next < self._next:
            self.xruns += 1
            log.warning(
                "sim playback underrun: queue ran dry at sample %d, now %d (xrun #%d)",
                self._play_next,
                self._next,
                self.xruns,
            )
        at = self.playback_position
        end = at + arr.shape[0]
        keep = self._keep_frames
        if keep is not None and end - self._played_base > 2 * keep:
            # Drop the oldest: keep the newest `keep` frames before this block (one copy per
            # `keep` frames written, so the cost per sample stays constant).
            drop = max(0, min(self._played_end, at) - keep - self._played_base)
            kept = self._played_end - self._played_base - drop
            self._played[:kept] = self._played[drop : drop + kept]
            self._played[kept:] = 0.0
            self._played_base += drop
        first, last = at - self._played_base, end - self._played_base
        if last > self._played.shape[0]:
            grown = np.zeros(
                (max(last, 2 * self._played.shape[0]), self._played.shape[1]), dtype=np.float32
            )
            used = self._played_end - self._played_base
            grown[:used] = self._played[:used]
            self._played = grown
        self._played[first:last] = arr
        self._play_next = end
        self._played_end = max(self._played_end, end)

    @property
    def _keep_frames(self) -> int | None:
        if self.keep_playback is None:
            return None
        return max(1, round(self.keep_playback * (self.sample_rate or 48000)))

    @property
    def playback_start(self) -> int:
        """The capture sample index of `playback()[0]` (0 until old playback is dropped)."""
        return self._played_base

    def playback(self) -> np.ndarray:
        """The playback kept (at least the newest `keep_playback` seconds), indexed from the
        capture sample `playback_start` where it was heard (float32, (frames,
        playback_channels)); silence where nothing was written."""
        return self._played[: self._played_end - self._played_base, : self.playback_channels]

    def write_playback_wav(self, path: str | os.PathLike, *, bits: int = 24) -> int:
        """The recorded playback as a new 16- or 24-bit WAV; returns the frames written."""
        if self.playback_channels == 0:
            raise AudioError("this sim backend has no playback channels")
        return write_pcm_wav(
            path, [self.playback()], self.sample_rate, self.playback_channels, bits
        )
