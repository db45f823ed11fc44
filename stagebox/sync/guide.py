"""Where a take's guide comes from, cut to the take's span.

Two sources, as a stage has them:

- **A guide folder**: the production dialogue exported as Broadcast WAVs, each stamped with
  its bext TimeReference (samples since midnight of its first sample). The guide for a take
  is cut from whichever files cover the take's span (its own TimeReference to its last
  sample), joined across file boundaries, silence where no file covers. Files at another
  sample rate are not resampled: the reason is reported instead, since a guess would be off
  by the ratio.
- **A capture channel**: the DAW's guide track on one input of the HAT, so in the same
  capture stream as the take and sample-aligned with it by construction. The service either
  keeps it as a second file beside each take (`<take>.guide.wav`, config
  `sync.guide_file`) or keeps it in memory for the scorer (`stagebox.takes.guidetrack`).

`guide_for_take(take, ...)` is the one resolver the CLI and the service use: the second file
beside the take first, then the guide folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.names import guide_name
from stagebox.wavfile import WavError, WavReader, read_wav_info

MIN_COVERED = 0.5  # share of the take's span a guide folder must cover to be used


class GuideError(ValueError):
    """A guide that cannot be used; the message names the file or folder and why."""


@dataclass(frozen=True)
class GuideFile:
    """One guide BWF: where its audio sits on the day's timeline."""

    path: Path
    sample_rate: int  # Hz
    start: int  # bext TimeReference: samples since midnight of its first sample
    frames: int  # samples per channel
    channels: int

    @property
    def end(self) -> int:
        return self.start + self.frames


@dataclass(frozen=True)
class Guide:
    """A guide cut to a take's span: mono samples aligned with the take's first sample."""

    samples: np.ndarray  # float32, the take's length
    sources: tuple[str, ...]  # the files it came from
    covered: float  # 0..1 share of the span that a source covered (the rest is silence)
    notes: tuple[str, ...] = field(default=())  # files passed over, and why


def guide_take_path(take: str | os.PathLike) -> Path:
    """The second file that keeps a take's guide channel: `<take stem>.guide.wav`."""
    p = Path(take)
    return p.with_name(guide_name(p))


def capture_guide(capture: np.ndarray, guide_channel: int) -> np.ndarray:
    """The guide channel (1-based) of a capture block (frames, channels), as float32 mono.

    The take and the guide come from the same capture stream, so the block that holds the
    take's samples holds the guide's: no timecode matching is needed.
    """
    block = np.asarray(capture)
    if block.ndim != 2 or not 1 <= guide_channel <= block.shape[1]:
        raise GuideError(
            f"guide channel {guide_channel} is not in a capture block of shape {block.shape}"
        )
    return block[:, guide_channel - 1].astype(np.float32)


def scan_guide_folder(folder: str | os.PathLike) -> tuple[list[GuideFile], list[str]]:
    """Every guide BWF under `folder` (recursively), with notes on the files passed over."""
    root = Path(folder)
    if not root.is_dir():
        raise GuideError(f"{root}: guide folder does not exist")
    files: list[GuideFile] = []
    notes: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() != ".wav" or not path.is_file() or path.name.startswith("."):
            continue
        try:
            meta = read_take_metadata(path)
            info = read_wav_info(path)
        except (WavError, OSError) as exc:
            notes.append(f"{path}: {getattr(exc, 'reason', exc)}")
            continue
        if "bext" not in info.chunks:
            notes.append(f"{path}: no bext chunk, so no TimeReference to place it by")
            continue
        files.append(
            GuideFile(path, info.sample_rate, meta.time_reference, info.frames, info.channels)
        )
    return files, notes


def cut_guide(
    files: list[GuideFile], start: int, frames: int, sample_rate: int
) -> tuple[np.ndarray, list[str], float, list[str]]:
    """Cut [start, start + frames) (samples since midnight) out of guide files.

    Where files overlap (a boom and a lav export of the same scene), the one covering most of
    the span wins. Returns (mono float32 samples, sources used, share covered, notes).
    """
    out = np.zeros(frames, dtype=np.float32)
    filled = np.zeros(frames, dtype=bool)
    used: list[str] = []
    notes: list[str] = []
    end = start + frames

    def overlap(f: GuideFile) -> int:
        """Samples of the span the file covers, counted at the take's rate."""
        scale = sample_rate / f.sample_rate
        return max(0, min(round(f.end * scale), end) - max(round(f.start * scale), start))

    for f in sorted(files, key=overlap, reverse=True):
        if overlap(f) == 0:
            continue
        if f.sample_rate != sample_rate:
            notes.append(
                f"{f.path}: {f.sample_rate} Hz, the take is {sample_rate} Hz (not resampled)"
            )
            continue
        a, b = max(f.start, start), min(f.end, end)
        todo = ~filled[a - start : b - start]
        if not todo.any():
            continue
        try:
            with WavReader(f.path) as reader:
                block = reader.read(a - f.start, b - a)
        except (WavError, OSError) as exc:
            notes.append(f"{f.path}: {getattr(exc, 'reason', exc)}")
            continue
        mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
        seg = out[a - start : b - start]
        seg[todo] = mono[todo]
        filled[a - start : b - start] = True
        used.append(str(f.path))
    return out, used, float(filled.mean()) if frames else 0.0, notes


def guide_for_take(
    take: str | os.PathLike,
    *,
    guide_folder: str | os.PathLike | None = None,
    files: list[GuideFile] | None = None,
    beside: bool = True,
) -> Guide | None:
    """The guide for a take file: its `.guide.wav` beside it, else cut from the guide folder
    by the take's TimeReference. None when neither exists (the scorer says "no guide").

    `files`: an already scanned guide folder (a session scores many takes against one).
    `beside`: look for the `.guide.wav` (False: the guide folder only, for a take whose live
    guide the service knows was not recorded).
    Raises GuideError for a guide that is there but unusable, naming the file.
    """
    take = Path(take)
    info = read_wav_info(take)
    kept = guide_take_path(take)
    if beside and kept.is_file():
        return read_guide_file(kept, info.sample_rate, info.frames)
    if guide_folder is None and files is None:
        return None
    meta = read_take_metadata(take)
    notes: list[str] = []
    if files is None:
        files, notes = scan_guide_folder(guide_folder)
    samples, used, covered, cut_notes = cut_guide(
        files, meta.time_reference, info.frames, info.sample_rate
    )
    notes += cut_notes
    if covered < MIN_COVERED:
        where = guide_folder if guide_folder is not None else "the guide files"
        detail = f" ({'; '.join(cut_notes)})" if cut_notes else ""
        raise GuideError(
            f"{where}: no guide covers {take.name}'s span ({100 * covered:.0f}% covered){detail}"
        )
    return Guide(samples, tuple(used), covered, tuple(notes))


def read_guide_file(path: str | os.PathLike, sample_rate: int, frames: int) -> Guide:
    """A guide file that starts on the take's first sample (a kept capture channel, or a
    guide named on the command line): mixed to mono, cut or padded to the take's length."""
    try:
        with WavReader(path) as reader:
            if reader.info.sample_rate != sample_rate:
                raise GuideError(
                    f"{path}: guide is {reader.info.sample_rate} Hz, the take {sample_rate} Hz"
                )
            block = reader.read(0, min(frames, reader.info.frames))
    except WavError as exc:
        raise GuideError(str(exc)) from None
    mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
    out = np.zeros(frames, dtype=np.float32)
    out[: len(mono)] = mono
    return Guide(out, (str(path),), len(mono) / frames if frames else 0.0)
