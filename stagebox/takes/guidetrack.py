"""The live guide channel, recorded alongside each take and sample-aligned with it.

The DAW's guide track (the production line the actor replaces) can arrive on a capture
channel of the HAT (`audio.guide_channel`), in the same stream as the microphone. The engine
runs a second punch recorder on that channel and punches it in and out on exactly the take's
samples, so the guide has the take's first sample and its length by construction: no
timecode matching, no drift. It goes through the take path like the take itself (a pre-roll
ring on the audio thread, a writer thread for the disk), into one of two sinks:

- `GuideFileSink` (`sync.guide_file = true`): `<take>.guide.wav` beside the take, with the
  take's bext TimeReference, written by a `GuideWriter`: a take writer thread of its own, so
  a guide that cannot be written (a full disk, a stale file of that name) is reported and the
  take is never touched. It opens the guide file only once the take's own opening is known:
  the take may have moved to the next free number (the guide follows its name), and a take
  that could not be opened gets no guide.
- `GuideMemorySink` (`sync.guide_file = false`): the guide's blocks are kept in memory for the
  scorer and dropped once it has scored the take; nothing is written.

Either way each punch-out gives a `CapturedGuide`, which the sync scorer turns into the guide
samples on its own thread (waiting for the writer there, never on the audio thread).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stagebox.takes.meta import TakeMetadata, Track
from stagebox.takes.names import guide_name
from stagebox.takes.punch import PunchRecorder, TakeStart
from stagebox.takes.writer import TakeRequest, TakeWriter

log = logging.getLogger(__name__)

GUIDE_TRACK = Track("Guide", "GUIDE")  # iXML TRACK_LIST of a guide file
TAKE_OPEN_WAIT = 10.0  # s the guide writer waits for the take's own opening
GUIDE_CLOSE_WAIT = 30.0  # s the scorer waits for the guide file to be finished
MEMORY_SECONDS = 120.0  # s of guide held in memory per take (guide_file = false)


class GuideCaptureError(RuntimeError):
    """The guide channel of a take could not be had; the message says why."""


@dataclass
class CapturedGuide:
    """The guide channel of one take, as the punch-out leaves it for the scorer.

    File mode: `closed` is the guide writer's closing of `<take>.guide.wav` (the scorer reads
    the file once it is done). Memory mode: `blocks` hold the samples. `problem` says why
    there is no usable guide ("" when there is one)."""

    sample_rate: int  # Hz
    frames: int  # samples punched (the take's length)
    closed: TakeRequest | None = None
    opened: TakeRequest | None = None  # file mode: the guide writer's opening of the file
    blocks: list[np.ndarray] = field(default_factory=list, repr=False)
    problem: str = ""

    def wait_file(self, timeout: float = GUIDE_CLOSE_WAIT) -> Path:
        """The finished guide file (file mode); GuideCaptureError when it was not written."""
        if self.closed is None or self.opened is None:
            raise GuideCaptureError(self.problem or "the guide channel was not kept as a file")
        try:
            self.opened.result(timeout)  # a guide that never opened has no file of its own
            path = self.closed.result(timeout)
        except Exception as exc:
            raise GuideCaptureError(f"guide not written: {exc}") from None
        if path is None or self.problem:
            raise GuideCaptureError(self.problem or "guide not written")
        return path

    def samples(self) -> np.ndarray:
        """The guide as mono float32 samples, the take's length (memory mode)."""
        if self.problem:
            raise GuideCaptureError(self.problem)
        if not self.blocks:
            return np.zeros(self.frames, dtype=np.float32)
        return np.concatenate([b.reshape(-1) for b in self.blocks]).astype(np.float32)


class GuideWriter(TakeWriter):
    """A take writer thread for guide files. Each guide opens beside its take, once the take's
    own opening (`open_guide`'s `take_opened`) is known: under the take's final name, with
    the take's number, or not at all when the take failed to open (that failure is the take's
    and is reported as such). Everything else is the take writer's: never blocks the engine,
    never overwrites a file, reports what goes wrong through `events()` and `status()`."""

    def open_guide(
        self,
        take_opened: TakeRequest,
        sample_rate: int,
        bits: int,
        time_reference: int,
        metadata: TakeMetadata,
    ) -> TakeRequest:
        """Queue the opening of the guide of the take `take_opened` (engine side: no I/O)."""
        path = take_opened.path.with_name(guide_name(take_opened.path))
        # A guide never falls back to another name of its own: it follows its take. So the
        # queue item's fallback slot carries the take's request to the writer thread (with
        # the item itself: nothing to keep in step, even when a failure drops the queue).
        beside = _Beside(take_opened)
        return self.open_take(path, sample_rate, 1, bits, time_reference, metadata, fallback=beside)

    def _open(self, request, fmt, meta, fallback) -> None:  # the writer thread
        take_opened = fallback.take_opened
        if self._take is not None:  # (the engine closes each guide first; never leak one)
            self._close(TakeRequest(None), None, None)
        try:
            take_path = take_opened.result(TAKE_OPEN_WAIT)
        except Exception as exc:
            # No take, no guide: the take's failure is reported as the take's.
            self._take = None
            with self._cond:
                self._path = None
            request._finish(error=GuideCaptureError(f"no guide: the take did not open ({exc})"))
            return
        if take_opened.take is not None:  # the take moved to the next free number
            meta = dataclasses.replace(meta, take=str(take_opened.take))
        request.path = take_path.with_name(guide_name(take_path))
        super()._open(request, fmt, meta, None)


@dataclass(frozen=True)
class _Beside:
    """The take a guide is opened beside (its writer's request for the take's opening)."""

    take_opened: TakeRequest


class GuideFileSink:
    """A `TakeSink` for the guide recorder: `<take>.guide.wav` through a `GuideWriter`."""

    @classmethod
    def from_config(cls, cfg, writer: GuideWriter, *, sample_rate: int, **options) -> GuideFileSink:
        """The guide sink `stagebox run` and `stagebox replay` record through, into `writer`
        (started: `GuideWriter.from_config(cfg.takes).start()`), in the takes' bit depth."""
        return cls(
            writer,
            sample_rate=sample_rate,
            bits=cfg.takes.bit_depth,
            project=cfg.stage.project,
            **options,
        )

    def __init__(
        self,
        writer: GuideWriter,
        *,
        sample_rate: int,
        bits: int = 24,
        project: str = "",
        backpressure: bool = False,
    ) -> None:
        self.writer = writer
        self.sample_rate = sample_rate
        self.bits = bits
        self.project = project
        # Replay runs faster than real time: wait for the writer rather than overflow its
        # queue (as the take's WriterSink does). A live engine never waits.
        self.backpressure = backpressure
        self.take_opened: TakeRequest | None = None  # set by GuideTrack before each opening
        self._opened: TakeRequest | None = None
        self._frames = 0

    def open_take(self, take: TakeStart) -> TakeRequest | None:
        self._frames = 0
        self._opened = None
        if self.take_opened is None:  # the take sink gave no request (a test's list sink)
            return None
        meta = TakeMetadata(
            project=self.project,
            scene=take.cue,
            take=str(take.take),
            note=f"guide channel of {take.file}",
            rate=take.rate,
            tracks=(GUIDE_TRACK,),
        )
        self._opened = self.writer.open_guide(
            self.take_opened, self.sample_rate, self.bits, take.time_reference, meta
        )
        return self._opened

    def write(self, block: np.ndarray) -> None:
        self._frames += len(block)
        if self.take_opened is None:
            return
        if self.backpressure:
            while self.writer.status().queued_frames > self.sample_rate:
                time.sleep(0.001)
        self.writer.write(block)

    def close_take(self, note: str = "") -> CapturedGuide:
        if self.take_opened is None:
            return CapturedGuide(self.sample_rate, self._frames, problem="no take file")
        closed = self.writer.close_take()
        return CapturedGuide(self.sample_rate, self._frames, closed=closed, opened=self._opened)


class GuideMemorySink:
    """A `TakeSink` for the guide recorder that keeps the guide in memory for the scorer
    (at most `max_seconds` of it: a longer take is scored against the guide folder)."""

    def __init__(self, *, sample_rate: int, max_seconds: float = MEMORY_SECONDS) -> None:
        self.sample_rate = sample_rate
        self.limit = int(max_seconds * sample_rate)  # samples
        self.take_opened: TakeRequest | None = None  # unused: nothing goes to disk
        self._blocks: list[np.ndarray] = []
        self._frames = 0

    def open_take(self, take: TakeStart) -> None:
        self._blocks = []
        self._frames = 0

    def write(self, block: np.ndarray) -> None:
        # The recorder hands over blocks it has copied out of its ring: kept as they are
        # (a list append on the audio thread, no copy).
        if self._frames + len(block) <= self.limit:
            self._blocks.append(block)
        self._frames += len(block)

    def close_take(self, note: str = "") -> CapturedGuide:
        problem = ""
        if self._frames > self.limit:
            problem = (
                f"a take over {self.limit / self.sample_rate:.0f} s keeps no guide in memory "
                "(set sync.guide_file = true)"
            )
        captured = CapturedGuide(
            self.sample_rate, self._frames, blocks=self._blocks, problem=problem
        )
        self._blocks = []
        return captured


class GuideTrack:
    """The guide channel's punch recorder, punched with the take (engine side: memory only).

    `channel` is 0-based in the capture block; `ring` and `holdback` are the take recorder's
    (samples), so the guide is held and handed over exactly as the take is."""

    def __init__(self, sink, channel: int, *, ring: int, holdback: int) -> None:
        self.sink = sink
        self.channel = channel
        self.recorder = PunchRecorder(sink, 1, ring=ring, holdback=holdback)

    def push(self, samples: np.ndarray, position: int) -> None:
        """Capture the guide channel of a period (frames, channels) at absolute `position`."""
        self.recorder.push(samples[:, self.channel : self.channel + 1], position)

    def punch_in(self, take: TakeStart, take_opened: TakeRequest | None) -> None:
        """Start the guide on the take's first sample (`take_opened`: the take writer's
        request for the take's opening, which the guide file waits on)."""
        self.sink.take_opened = take_opened
        self.recorder.punch_in(take)

    def punch_out(self, at: int) -> CapturedGuide:
        """End the guide where the take ends (its last sample is `at - 1`)."""
        self.recorder.punch_out(at)
        return self.recorder.closed

    @property
    def recording(self) -> bool:
        return self.recorder.recording
