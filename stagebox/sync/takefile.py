"""Score a take file as the stage does after the punch-out, and keep the verdict.

`score_take_file` reads a finished take (its rate and first timecode from its bext/iXML),
finds its guide (`guide.guide_for_take`: the `<take>.guide.wav` beside it, else the guide
folder cut by timecode) and scores it. `SyncScorer` does that on its own thread, one take
after another, and hands each verdict to a callback (the service's: the stage's sync line,
then the take log's `set_sync`, which puts it in the report's sync column and the take's
iXML NOTE). The engine thread never waits on it: `submit` only puts a path on a queue.

With a live guide channel (`stagebox.takes.guidetrack`) the service submits the take's
`CapturedGuide` too: the scorer waits for the guide file there (or takes the samples from
memory) and scores against it; a guide that was not recorded falls back to the guide folder.
"""

from __future__ import annotations

import logging
import os
import queue
from collections.abc import Callable
from pathlib import Path

import numpy as np

from stagebox.sync.guide import (
    Guide,
    GuideError,
    GuideFile,
    guide_for_take,
    read_guide_file,
    scan_guide_folder,
)
from stagebox.sync.score import SyncReport, cannot_judge, score_take
from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.guidetrack import CapturedGuide, GuideCaptureError
from stagebox.timecode import Rate, Timecode
from stagebox.wavfile import WavError, read_wav, read_wav_info
from stagebox.worker import Worker

log = logging.getLogger(__name__)


def score_take_file(
    path: str | os.PathLike,
    *,
    guide_folder: str | os.PathLike | None = None,
    files: list[GuideFile] | None = None,
    rate: Rate | None = None,
    words=(),
    max_offset_s: float = 1.0,
    guide: Guide | None = None,
    beside: bool = True,
) -> SyncReport:
    """The sync report of a take file against its guide ("cannot judge" with the reason when
    the guide is missing or unusable). Raises WavError for a take that cannot be read.

    `guide`: the guide already in hand (the live guide channel); else it is looked for
    (`beside`: the `.guide.wav` first, then the guide folder)."""
    path = Path(path)
    try:
        meta = read_take_metadata(path)
    except WavError:
        read_wav_info(path)  # not a WAV at all: that error names the file and goes up
        meta = None  # a plain WAV: no timecode, no rate of its own
    rate = rate or (meta.rate if meta else None)
    if rate is None:
        return cannot_judge(f"{path.name} has no timecode rate in its iXML")
    if guide is None:
        try:
            guide = guide_for_take(path, guide_folder=guide_folder, files=files, beside=beside)
        except GuideError as exc:
            return cannot_judge(str(exc), rate)
    if guide is None:
        return cannot_judge("no guide", rate)
    audio = read_wav(path)
    start = Timecode.from_samples(meta.time_reference, audio.sample_rate, rate) if meta else None
    return score_take(
        audio.samples,
        guide.samples,
        audio.sample_rate,
        rate,
        start=start,
        words=words,
        max_offset_s=max_offset_s,
    )


class SyncScorer(Worker):
    """Scores takes on its own thread (a `Worker`), in the order they are submitted.

    `on_report(key, report)` is called on the scorer's thread for each take (`key` is what
    `submit` was given with the path: the service passes (cue, take)). The guide folder is
    scanned once at start and again when a take finds no guide (new exports arrive during a
    session). `stop()` finishes the takes submitted so far and joins the thread.
    """

    name = "sync-scorer"
    label = "the sync scorer"

    def __init__(
        self,
        on_report: Callable[[object, SyncReport], None],
        *,
        guide_folder: str | os.PathLike | None = None,
        max_offset_s: float = 1.0,
    ) -> None:
        super().__init__()
        self.on_report = on_report
        self.guide_folder = Path(guide_folder) if guide_folder else None
        self.max_offset_s = max_offset_s
        self._queue: queue.Queue = queue.Queue()
        self._files: list[GuideFile] | None = None

    def submit(self, key: object, path: str | os.PathLike, words=(), live=None) -> None:
        """Score the take at `path` when the thread gets to it (never blocks). `live`: the
        take's guide channel (a `CapturedGuide`), scored against first."""
        self._queue.put((key, Path(path), tuple(words), live))

    def stop(self, timeout: float = 10.0, raise_error: bool = True) -> None:
        super().stop(timeout, raise_error)

    def wake(self) -> None:
        self._queue.put(None)  # behind the takes already submitted: they are scored first

    def _guide_files(self, rescan: bool = False) -> list[GuideFile] | None:
        if self.guide_folder is None:
            return None
        if self._files is None or rescan:
            try:
                self._files, notes = scan_guide_folder(self.guide_folder)
            except GuideError as exc:
                log.warning("sync: %s", exc)
                self._files = []
                return self._files
            for note in notes:
                log.info("sync: guide passed over: %s", note)
        return self._files

    def run(self) -> None:
        normal_priority()
        while True:
            item = self._queue.get()
            if item is None:
                return
            key, path, words, live = item
            try:
                report = self._score(path, words, live)
            except (WavError, OSError) as exc:
                report = cannot_judge(str(exc))
            except Exception:  # a bug must not end the thread the next takes need
                log.exception("sync: scoring %s failed", path)
                report = cannot_judge("the sync scorer failed (see the journal)")
            try:
                self.on_report(key, report)
            except Exception:
                log.exception("sync: handing on the report of %s failed", path)

    def _score(self, path: Path, words, live=None) -> SyncReport:
        kw = dict(words=words, max_offset_s=self.max_offset_s)
        if live is not None:
            try:
                guide = live_guide(live, path)
            except (GuideCaptureError, GuideError) as exc:
                # The live guide was not recorded (reported where it failed): the guide
                # folder, if there is one, instead; never a stale file beside the take.
                if self.guide_folder is None:
                    return cannot_judge(str(exc))
                log.info("sync: %s: %s; scoring against the guide folder", path.name, exc)
                kw["beside"] = False
            else:
                return score_take_file(path, guide=guide, **kw)
        report = score_take_file(path, files=self._guide_files(), **kw)
        if not report.judged and "no guide covers" in report.reason:
            report = score_take_file(path, files=self._guide_files(rescan=True), **kw)
        return report


def live_guide(live: CapturedGuide, take: Path) -> Guide:
    """The guide samples of a take's live guide channel (waits for its file, if it has one:
    on the scorer's thread). GuideCaptureError or GuideError when there is none to use."""
    info = read_wav_info(take)
    if live.closed is not None or live.opened is not None:
        return read_guide_file(live.wait_file(), info.sample_rate, info.frames)
    samples = live.samples()
    out = np.zeros(info.frames, dtype=np.float32)
    n = min(len(samples), info.frames)
    out[:n] = samples[:n]
    return Guide(out, ("the guide channel",), n / info.frames if info.frames else 0.0)


def normal_priority() -> None:
    """Run the calling thread at normal (SCHED_OTHER) priority, whatever it inherited.

    A thread started after the audio thread asked for SCHED_FIFO inherits it; the scorer's
    seconds of numpy work (and the BLAS library's busy-waiting worker threads) must never
    run at real-time priority beside the audio thread. Lowering one's own priority needs no
    privilege."""
    if hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except OSError as exc:  # not expected; the scorer still works
            log.warning("sync: could not drop the scorer to normal priority: %s", exc)
