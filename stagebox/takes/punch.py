"""The punch recorder: the pre-roll ring buffer, and takes cut on the exact sample.

A punch is decided a frame late: the frame at TC-in is only known once its last bit has been
decoded. So every captured microphone sample first goes into a ring buffer, and a take starts
with audio taken back out of it, from the exact sample of the punch. While a take is open the
recorder hands audio to the take writer only up to `holdback` samples behind the newest
captured sample: far enough back that a punch-out (or a loop wrap, which ends the take where the
old timecode stopped) can never be decided for a sample already written. The take therefore
ends exactly on its punch-out sample too.

The recorder never touches the disk: it gives blocks to a `TakeSink` (the BWF take writer
thread), which copies and queues them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from stagebox.takes.meta import TakeMetadata, Track
from stagebox.timecode import Rate

TRACK_FUNCTION = "ADR"  # iXML TRACK FUNCTION of every recorded microphone track

log = logging.getLogger("stagebox.takes.punch")


class TakeSink(Protocol):
    """Where take audio goes: the take writer thread (stagebox.takes.bwf) or a test's list."""

    def open_take(self, take: TakeStart) -> object: ...  # what close_take's outcome needs

    def write(self, block: np.ndarray) -> None: ...

    def close_take(self, note: str = "") -> object: ...


@dataclass(frozen=True)
class TakeStart:
    """What the writer needs to open a take file."""

    file: str  # file name inside the takes folder
    cue: str
    take: int
    first_sample: int  # samples: capture position of the take's first sample
    time_reference: int  # samples since midnight of the first sample (BWF TimeReference)
    note: str = ""
    rate: Rate | None = None  # the timecode rate the take is stamped with (the LTC's, measured)
    # The file name of the take `n` numbers after this one (a name already taken on disk
    # moves the take to the next free number; it is never overwritten).
    rename: Callable[[int], tuple[int, str]] | None = None
    details: tuple[tuple[str, str], ...] = ()  # the cue's (KEY, value) facts for iXML USER


class RingBuffer:
    """The last `capacity` frames of multichannel audio, addressed by absolute sample index."""

    def __init__(self, capacity: int, channels: int) -> None:
        self.capacity = capacity  # samples
        self.channels = channels
        self._data = np.zeros((capacity, channels), dtype=np.float32)
        self.end = 0  # samples: absolute index one past the newest sample held

    @property
    def start(self) -> int:
        """Absolute index of the oldest sample still held (a gap is held as silence, so
        everything from 0 up to `capacity` samples back is)."""
        return max(0, self.end - self.capacity)

    def push(self, block: np.ndarray, position: int) -> None:
        """Append `block` (frames, channels) that starts at absolute sample `position`.

        A gap (an xrun's lost samples) is held as silence so indices stay true.
        """
        if position > self.end:
            self._write(np.zeros((min(position - self.end, self.capacity), self.channels)))
            self.end = position
        elif position < self.end:
            raise ValueError(f"audio at {position} overlaps audio already held up to {self.end}")
        self._write(block)

    def _write(self, block: np.ndarray) -> None:
        n = len(block)
        if n >= self.capacity:
            block = block[-self.capacity :]
            self.end += n - self.capacity
            n = self.capacity
        i = self.end % self.capacity
        first = min(n, self.capacity - i)
        self._data[i : i + first] = block[:first]
        self._data[: n - first] = block[first:]
        self.end += n

    def read(self, start: int, stop: int) -> np.ndarray:
        """A copy of samples [start, stop); raises if they are not all held."""
        if start < self.start or stop > self.end or start > stop:
            raise IndexError(f"samples {start}..{stop} not held (have {self.start}..{self.end})")
        i, j = start % self.capacity, stop % self.capacity
        if stop - start == 0:
            return np.zeros((0, self.channels), dtype=np.float32)
        if i < j:
            return self._data[i:j].copy()
        return np.concatenate([self._data[i:], self._data[:j]])


class PunchRecorder:
    """Cuts takes out of the captured microphone stream at exact samples."""

    def __init__(self, sink: TakeSink, channels: int, *, ring: int, holdback: int) -> None:
        if holdback >= ring:
            raise ValueError(
                f"holdback ({holdback} samples) must be shorter than the ring ({ring})"
            )
        self.sink = sink
        self.ring = RingBuffer(ring, channels)
        self.holdback = holdback  # samples kept back from the writer while a take is open
        self.take: TakeStart | None = None
        self._written = 0  # samples: absolute index up to which the open take has been written
        self.frames_written = 0  # samples in the open take so far
        self.opened: object = None  # the sink's answer to the last opening (a TakeRequest)
        self.closed: object = None  # and to the last closing

    @property
    def recording(self) -> bool:
        return self.take is not None

    def push(self, block: np.ndarray, position: int) -> None:
        """Capture a block of microphone audio (frames, channels) at absolute `position`."""
        if len(block) > self.ring.capacity:  # longer than the ring: a piece at a time
            for i in range(0, len(block), self.ring.capacity):
                self.push(block[i : i + self.ring.capacity], position + i)
            return
        gap_start = self.ring.end  # samples: where an xrun's gap before this block begins
        if self.take is not None:
            # An xrun gap longer than the ring less the holdback would push audio the take
            # has not had yet out of the ring: hand it over first (never lose it).
            evicted = position + len(block) - self.ring.capacity  # the ring's start after
            if evicted > self._written:
                self._flush(min(evicted, gap_start))
        self.ring.push(block, position)
        if self.take is not None:
            # The stage decides about an xrun's lost samples with this period (the clock sees
            # the gap now): none of them go to the take before it has.
            upto = self.ring.end - self.holdback
            self._flush(upto if position == gap_start else min(upto, gap_start))

    def punch_in(self, take: TakeStart) -> str:
        """Open `take`, starting at its `first_sample`. Returns a note ("" when exact); the
        sink's answer to the opening is kept in `opened`."""
        if self.take is not None:
            raise RuntimeError(f"take {self.take.file} is still open")
        at = take.first_sample
        note = ""
        if at < self.ring.start:
            # Cannot happen with a ring sized from the config; never silently shift a take.
            note = f"punch-in {self.ring.start - at} samples late: pre-roll buffer too short"
            log.error("%s: %s", take.file, note)
            at = self.ring.start
        self.opened = self.sink.open_take(take)
        self.take = take
        self._written = at
        self.frames_written = 0
        self._flush(self.ring.end - self.holdback)
        return note

    def punch_out(self, at: int, note: str = "") -> int:
        """Close the open take so that its last sample is `at - 1`. Returns its length; the
        sink's answer to the closing is kept in `closed`."""
        if self.take is None:
            raise RuntimeError("no take is open")
        if at < self._written:
            log.error(
                "%s: punch-out at %d but %d already written: holdback too short",
                self.take.file,
                at,
                self._written,
            )
        self._flush(min(at, self.ring.end))
        self.closed = self.sink.close_take(note)
        length = self.frames_written
        self.take = None
        return length

    def _flush(self, upto: int) -> None:
        if upto <= self._written:
            return
        if self._written < self.ring.start:
            # The part of an xrun gap that has already left the ring: it was silence.
            lost = min(self.ring.start, upto) - self._written
            self.sink.write(np.zeros((lost, self.ring.channels), dtype=np.float32))
            self.frames_written += lost
            self._written += lost
            if upto <= self._written:
                return
        block = self.ring.read(self._written, upto)
        self.sink.write(block)
        self.frames_written += len(block)
        self._written = upto


class WriterSink:
    """A `TakeSink` that hands takes to the BWF take writer thread (`stagebox.takes.writer`).

    `backpressure=True` is for replay, which runs faster than real time: instead of letting
    the writer's queue overflow (which in a live run means an SSD stall and a reported gap),
    `write` waits for the writer to catch up. A live engine never uses it.
    """

    @classmethod
    def from_config(
        cls, cfg, writer, folder, *, sample_rate: int, mics: tuple[int, ...], **options
    ) -> WriterSink:
        """The sink `stagebox run` and `stagebox replay` record through: format, project and
        track names from the config (`cfg.takes`, `cfg.stage`); `mics` count from 1."""
        return cls(
            writer,
            str(folder),
            sample_rate=sample_rate,
            channels=len(mics),
            bits=cfg.takes.bit_depth,
            project=cfg.stage.project,
            track_names=tuple(f"Mic {m}" for m in mics),
            **options,
        )

    def __init__(
        self,
        writer,  # stagebox.takes.writer.TakeWriter, started
        folder: str,
        *,
        sample_rate: int,
        channels: int,
        bits: int = 24,
        project: str = "",
        track_names: tuple[str, ...] = (),
        backpressure: bool = False,
    ) -> None:
        self.writer = writer
        self.folder = folder
        self.sample_rate = sample_rate
        self.channels = channels
        self.bits = bits
        self.project = project
        self.track_names = track_names
        self.backpressure = backpressure
        self._limit = sample_rate  # frames: replay keeps at most a second queued
        # The writer's request for the latest take closed. The writer works in order, so once
        # it is done every take closed before it is finished on disk too: whoever edits a
        # take's iXML just after its punch-out (circle, note) waits on it, off the audio path.
        self.last_close = None  # stagebox.takes.writer.TakeRequest | None

    def open_take(self, take: TakeStart):
        """Queue the take's opening; returns the writer's TakeRequest for it."""

        def meta(number: int) -> TakeMetadata:
            return TakeMetadata(
                project=self.project,
                scene=take.cue,
                take=str(number),
                note=take.note,
                rate=take.rate,  # the LTC's, as the clock measured it at the punch
                tracks=tuple(Track(name, TRACK_FUNCTION) for name in self.track_names),
                user=take.details,
            ).with_file_facts(time_reference=take.time_reference)

        def fallback(n: int) -> tuple[int, Path, TakeMetadata]:
            number, name = take.rename(n)
            return number, Path(self.folder) / name, meta(number)

        return self.writer.open_take(
            os.path.join(self.folder, take.file),
            self.sample_rate,
            self.channels,
            self.bits,
            take.time_reference,
            meta(take.take),
            fallback=fallback if take.rename is not None else None,
        )

    def write(self, block: np.ndarray) -> None:
        if self.backpressure:
            while self.writer.status().queued_frames > self._limit:
                time.sleep(0.001)
        self.writer.write(block)

    def close_take(self, note: str = ""):
        """Queue the take's closing; returns the writer's TakeRequest for it."""
        self.last_close = self.writer.close_take(note=note or None)
        return self.last_close
