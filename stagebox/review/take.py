"""A take held for review: its audio in memory and where it sits on the timecode.

Read once, off the audio thread, when the selection changes (the player on the audio thread
only ever indexes the array: no disk read, no page fault on a memory map). What places the
take on the timeline is the take file's own bext TimeReference (samples since midnight of its
first sample, at the file's sample rate) and its iXML timecode rate: the same stamp Pro Tools
spots the take with, so review plays it where the editor will put it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stagebox.timecode import Rate, Timecode

MAX_SECONDS = 600.0  # s: the longest take held for review (10 min mono at 48 kHz: 115 MB)


class ReviewTakeError(ValueError):
    """A take that cannot be reviewed: the message names the file and what is wrong."""


@dataclass(frozen=True)
class ReviewTake:
    """One take, ready for the player."""

    cue: str
    take: int
    file: str  # file name (in the takes folder)
    samples: np.ndarray = field(repr=False)  # float32 (frames, channels), full scale 1.0
    sample_rate: int  # Hz of the file
    time_reference: int  # samples since midnight (at `sample_rate`) of samples[0]
    rate: Rate  # the timecode rate it was recorded against

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def tc_in(self) -> Timecode:
        """The label of the frame its first sample is in."""
        return Timecode.from_samples(self.time_reference, self.sample_rate, self.rate)

    @property
    def label(self) -> str:
        """ "103 take 2", as status and the panel say it."""
        return f"{self.cue} take {self.take}"


def load_review_take(path: str | os.PathLike, cue: str, take: int) -> ReviewTake:
    """Read a take file whole for review (disk I/O: never on the audio thread).

    ReviewTakeError names the file when it is not a take review can place: no bext
    TimeReference or iXML rate, empty, or longer than MAX_SECONDS.
    """
    from stagebox.takes.bwf import read_take_metadata
    from stagebox.wavfile import WavError, read_wav, read_wav_info

    path = Path(path)
    try:
        info = read_wav_info(path)
        if info.frames > MAX_SECONDS * info.sample_rate:
            raise ReviewTakeError(
                f"{path}: {info.frames / info.sample_rate:.0f} s long, more than review holds "
                f"({MAX_SECONDS:.0f} s)"
            )
        meta = read_take_metadata(path)
        audio = read_wav(path)
    except WavError as exc:
        raise ReviewTakeError(str(exc)) from None
    except OSError as exc:
        raise ReviewTakeError(f"{path}: {exc.strerror or exc}") from None
    if meta.rate is None:
        raise ReviewTakeError(f"{path}: no timecode rate in its iXML: review cannot place it")
    if audio.frames == 0:
        raise ReviewTakeError(f"{path}: no audio in the take")
    samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
    samples.setflags(write=False)
    return ReviewTake(
        cue=cue,
        take=take,
        file=path.name,
        samples=samples,
        sample_rate=audio.sample_rate,
        time_reference=meta.time_reference,
        rate=meta.rate,
    )
