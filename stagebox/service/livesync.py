"""The sync score on the stage: the guide channel recorded with each take, each take scored
after its punch-out, and the verdict shown where the crew looks.

- With `audio.guide_channel` set, the engine records that channel alongside every take
  (`stagebox.takes.guidetrack`): as `<take>.guide.wav` through a guide writer thread of its
  own (`sync.guide_file = true`), or in memory for the scorer only. A guide that cannot be
  written is a warning (journal, status message), never a record fault: the take is kept.
- With a guide channel or a guide folder, the sync scorer scores each finished take on its
  own thread against the live guide (the folder as the fallback). Its verdict becomes the
  stage's sync line at once ("T3 IN SYNC 96% +12ms": the snapshot's `sync`, drawn by the front
  panel, the monitor and, with `display.show_sync`, the actor's screen), then goes into the
  take log (report column, `stagebox takes`) and the take's iXML NOTE.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

log = logging.getLogger("stagebox.service")

GUIDE_FAILURES = ("disk_full", "overflow", "open_failed", "error", "writer_failed")


class LiveSync:
    """Mixed into StageService: the guide channel's writer, the scorer, the stage's sync line."""

    guide_writer = None  # stagebox.takes.guidetrack.GuideWriter with a kept guide channel
    guide_sink = None  # the engine's guide sink (file or memory), None without a guide channel
    _sync_shown: tuple[str, str] | None = None  # (cue, the stage's sync line) newest scored
    _punched_out: dict | None = None  # (cue, take) -> monotonic s of its punch-out
    sync_latency: list | None = None  # s from punch-out to the line shown, per take scored

    def _start_guide_writer(self, stack: contextlib.ExitStack) -> None:
        """The guide files' writer thread, with the take writer: before the audio thread asks
        for real-time priority, so that it does not inherit it (disk work runs at normal
        priority, as the take writer's does)."""
        from stagebox.takes.guidetrack import GuideWriter

        if not (self.cfg.audio.guide_channel and self.cfg.sync.guide_file):
            return
        self.guide_writer = GuideWriter.from_config(self.cfg.takes).start()
        stack.callback(self._stop_guide_writer)

    def _start_guide(self, sample_rate: int) -> None:
        """The guide channel's sink, before the engine is built (it punches the guide)."""
        from stagebox.takes.guidetrack import GuideFileSink, GuideMemorySink

        channel = self.cfg.audio.guide_channel
        if not channel:
            return
        if channel > self.backend.capture_channels:
            from stagebox.service.errors import ServiceError

            raise ServiceError(
                f"audio.guide_channel {channel} but the capture device has "
                f"{self.backend.capture_channels} channels"
            )
        if self.guide_writer is None:
            self.guide_sink = GuideMemorySink(sample_rate=sample_rate)
        else:
            self.guide_sink = GuideFileSink.from_config(
                self.cfg, self.guide_writer, sample_rate=sample_rate
            )

    def _stop_guide_writer(self) -> None:
        try:
            self.guide_writer.stop()
        except Exception as exc:
            log.error("guide writer: %s", exc)

    def _guide_events(self) -> None:
        """The guide writer's failures, as warnings (once a period, on the audio thread: the
        events are in memory). The take is not affected, so this is no record fault."""
        if self.guide_writer is None:
            return
        for event in self.guide_writer.events():
            if event.kind in GUIDE_FAILURES:
                message = f"guide not recorded: {event.message}"
                log.warning("%s", message)
                self._message = message

    def _start_sync(self, stack: contextlib.ExitStack) -> None:
        """With a guide channel or a guide folder, score each finished take against its guide
        on the sync scorer's own thread. The engine never waits on it."""
        from stagebox.sync.takefile import SyncScorer
        from stagebox.takes.log import ON_DISK

        sync = self.cfg.sync
        if sync.guide_folder is None and not self.cfg.audio.guide_channel:
            return
        folder = Path(self.cfg.takes.folder)
        self._punched_out = {}
        self.sync_latency = []

        def keep(key, report) -> None:
            cue, take = key
            # The stage's line first (the crew is waiting for it), then the log and the file.
            self._sync_shown = (cue, f"T{take} {report.stage_line}")
            punched = self._punched_out.pop(key, None)
            took = f" ({time.monotonic() - punched:.2f} s after the punch-out)" if punched else ""
            if punched is not None:
                self.sync_latency.append(time.monotonic() - punched)
            log.info("sync of cue %s take %s: %s%s", cue, take, report.message, took)
            self.takelog.set_sync(cue, take, report.message)

        scorer = self._watch(
            SyncScorer(keep, guide_folder=sync.guide_folder, max_offset_s=sync.max_offset_ms / 1e3)
        ).start()
        stack.callback(scorer.stop)
        # At the end the take book stops first (then again, harmlessly, where it was set up),
        # so the takes it logs last are still handed to the scorer, which finishes them.
        stack.callback(self.book.stop)

        def submit(record, guide=None) -> None:
            if record.state not in ON_DISK or not record.frames or record.kind != "line":
                return  # room tone and wild lines have no guide line to be in sync with
            words = ()
            if self.sheet is not None:
                with contextlib.suppress(KeyError):
                    words = self.sheet.get(record.cue).words
            scorer.submit((record.cue, record.take), folder / record.file, words, live=guide)

        self.book.on_logged = submit

    def _sync_punched_out(self, cue: str, take: int) -> None:
        """A take punched out (audio thread: one dict store): its score's latency from now."""
        if self._punched_out is not None:
            self._punched_out[(cue, take)] = time.monotonic()

    def _stage_sync(self) -> str:
        """The sync line the stage shows now: the newest scored take's, while its cue is the
        current one ("" otherwise: another cue's score says nothing about this one)."""
        shown = self._sync_shown
        if shown is None or self.engine is None:
            return ""
        stage = self.engine.stage
        cue = stage.current.cue if stage.current else stage.cue
        return shown[1] if cue is not None and cue.number == shown[0] else ""
