"""The audio seam: what every audio backend (ALSA, simulated) provides to the engine.

One capture stream carries the actor's microphone and the LTC from the DAW, clocked by one ADC,
so the capture sample counter is the stage's master clock (DESIGN.md section 1). A backend
hands the engine that stream one period at a time as `CaptureBlock`s, each stamped with the
absolute sample index of its first sample. The counter stays true across an xrun: the samples
lost are estimated, reported in `CaptureBlock.lost`, and the position jumps over them, so a
take, a beep or a lamp placed in sample time after the xrun is still in the right place.

A backend also plays the actor's headphone feed (ADR beeps), and feeds a `SampleTimeMap` with
(sample index, monotonic time) pairs so the display and the lamps can turn sample time into
wall-clock time.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

from stagebox.timemap import SampleTimeMap


class AudioError(Exception):
    """An audio problem the stage can report: the message names the device and the cause."""


class AudioDeviceError(AudioError, OSError):
    """A sound device that cannot be opened or stopped working (missing, busy, unplugged)."""


class EndOfFeed(AudioError, EOFError):
    """The simulated or replayed feed has no more samples (never raised by a live device)."""


@dataclass(frozen=True)
class CaptureBlock:
    """One period of captured audio and where it sits in the capture stream."""

    samples: np.ndarray  # float32, shape (frames, capture_channels), full scale 1.0
    position: int  # samples: absolute index of samples[0] in the capture stream
    lost: int = 0  # samples lost just before this block (xrun), already counted in position

    @property
    def frames(self) -> int:
        """Sample frames in the block (normally one period; the last block of a feed may be
        shorter)."""
        return int(self.samples.shape[0])

    @property
    def end(self) -> int:
        """samples: absolute index just after the block's last sample."""
        return self.position + self.frames


class AudioBackend(abc.ABC):
    """What an audio backend implements. Use it through `open()` ... `close()` or `with`.

    Attributes a backend sets:
    - `sample_rate` (Hz), `capture_channels`, `playback_channels` (0: no playback),
      `period` (frames per `read()` block);
    - `time_map`: a `SampleTimeMap` fed once per period with (capture sample index, monotonic
      time at which that sample was at the converter), reset after an xrun;
    - `xruns`: how many overruns/underruns happened since `open()` (each is also logged).

    Thread rules: `read()` and `write()` are called from the one engine thread; they do no
    file-system work and allocate only the block they return.
    """

    sample_rate: int  # Hz
    capture_channels: int
    playback_channels: int  # 0 when the backend has no playback
    period: int  # frames per read() block
    time_map: SampleTimeMap
    xruns: int

    @abc.abstractmethod
    def open(self) -> None:
        """Open the devices and start the streams (the capture position starts at 0)."""

    @abc.abstractmethod
    def read(self) -> CaptureBlock:
        """Block until the next period is captured and return it.

        Raises `AudioDeviceError` if the device fails for good, `EndOfFeed` at the end of a
        simulated feed. An xrun is not an exception: it is recovered, counted in `xruns`,
        logged, and reported by the next block's `lost`.
        """

    @abc.abstractmethod
    def write(self, block: np.ndarray) -> None:
        """Queue `block` (float32, shape (frames, playback_channels), full scale 1.0) for
        playback, after what was written before. Its first sample is heard at the capture
        sample index `playback_position` had just before this call."""

    @property
    @abc.abstractmethod
    def playback_position(self) -> int:
        """samples: capture-stream index at which the first sample of the next `write()`
        reaches the output. The engine places a beep meant for capture sample S at offset
        S - playback_position in the block it writes next."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop the streams and release the devices (safe to call twice)."""

    def __enter__(self) -> AudioBackend:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_playback_block(block: np.ndarray, channels: int, where: str) -> np.ndarray:
    """`block` as float32 (frames, channels), or a clear error saying what shape it has."""
    if channels == 0:
        raise AudioError(f"{where}: this backend has no playback device configured")
    arr = np.asarray(block, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != channels:
        raise AudioError(
            f"{where}: a playback block must be (frames, {channels}) float32, not {arr.shape}"
        )
    return arr
