"""What the service tells: `status` for clients, systemd's STATUS= line, the snapshot the
display and the front panel draw."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("stagebox.service")


NOTICE_SECONDS = 8.0  # seconds a passing message (a refusal) stays up


class StatusReport:
    """Mixed into StageService: the stage as clients, systemd, display and panel see it."""

    def status(self) -> dict:
        snap = self._latest
        data, levels = self._snapshot_view(snap)
        clock = self.engine.clock if self.engine else None
        writer = self.writer.status() if self.writer else None
        data.update(
            rate=clock.rate.name if clock and clock.rate and clock.locked else None,
            speed=clock.speed if clock and clock.locked else 0.0,
            channel_names=self._channel_names(),
            cue_sheet=str(self.sheet.path) if self.sheet else None,
            takes_folder=str(self.cfg.takes.folder),
            last_take=self._last_take_state(),
            fault=self.fault.reason,  # now, not as of the last snapshot
            uptime=time.monotonic() - self._started,
            levels_dbfs=levels,
            phones=self.engine.phones.meter_view() if self.engine else None,
            audio=self._audio_running,
            writer={
                "recording": writer.recording if writer else False,
                "queued_frames": writer.queued_frames if writer else 0,
                "error": writer.error if writer else None,
            },
        )
        data.pop("clock", None)
        data.pop("time", None)
        return data

    def _snapshot_view(self, snap) -> tuple[dict, list[float]]:
        """The snapshot as a dict and the input levels, worked out once per snapshot (a new
        one each period) however many clients ask: 200 `stagebox monitor`s poll 2,000 times
        a second, and building these costs about a millisecond."""
        cached = self._status_view
        if cached is not None and cached[0] is snap:
            return dict(cached[1]), cached[2]
        if snap is None:  # before the first period: the same keys, the stage as it starts
            from stagebox.snapshot import StageSnapshot

            if self.engine is not None:
                snap = self.engine.snapshot(message=self._shown_message())
            else:
                snap = StageSnapshot(sample=0, sample_rate=self.cfg.audio.sample_rate)
        data = snap.to_dict()
        # peak per capture channel over the newest period (the engine keeps its block)
        levels = [float(x) for x in self.engine.levels] if self.engine else []
        self._status_view = (snap, data, levels)
        return dict(data), levels

    def _last_take_state(self) -> dict | None:
        """What became of the newest take the log has: the crew sees a failed or cut-short
        take in `status` and the monitor, not only in `stagebox takes`."""
        record = self.takelog.latest if self.takelog else None
        if record is None:
            return None
        keys = ("cue", "take", "file", "state", "reason", "frames", "sync")
        return {k: getattr(record, k) for k in keys}

    def _channel_names(self) -> list[str]:
        """Each capture channel by what is wired to it (the meters' and `status`'s labels)."""
        if not self.engine:
            return []
        s = self.engine.settings
        names = []
        for ch in range(self.backend.capture_channels):
            if ch == s.ltc_channel:
                names.append("LTC")
            elif ch in s.mic_channels:
                names.append(f"Mic {ch + 1}")
            elif ch == s.guide_channel:
                names.append("Guide")
            elif ch == s.phones.talkback_channel:
                names.append("Talkback")
            else:
                names.append(f"In {ch + 1}")
        return names

    def _status_line(self) -> str:
        snap = self._latest
        if snap is None:
            return "starting"
        tc = snap.timecode_at(snap.sample) if snap.clock else None
        cue = snap.cue.number if snap.cue else "-"
        take = f"T{snap.take}" if snap.take else "-"
        rec = " REC" if snap.recording else ""
        if snap.mode == "review":  # systemd's STATUS=: "review 01:00:10:00 REVIEW 103 take 2"
            return f"{snap.mode} {tc or snap.lock} REVIEW {snap.review or 'no take'}"
        return f"{snap.mode} {tc or snap.lock} cue {cue} {take}{rec}"

    def _say(self, text: str, seconds: float | None = None) -> None:
        """A passing message (a refusal, a take started from a button): shown on status, the
        monitor and the panel for `seconds`, then the standing message (`_message`) again. A
        refusal left up for minutes would cover the takes and verdicts that come after it."""
        held = NOTICE_SECONDS if seconds is None else seconds
        self._notice = (text, time.monotonic() + held)

    def _shown_message(self) -> str:
        notice = self._notice
        if notice is not None and time.monotonic() < notice[1]:
            return notice[0]
        return self._message

    def _snapshot(self):
        fit = self.backend.time_map.fit() if self.backend else None
        snap = self.engine.snapshot(
            time=fit,
            disk_seconds_left=self._disk.left if self._disk else None,
            message=self._shown_message(),
            fault=self.fault.announce(),
            sync=self._stage_sync(),
        )
        self._latest = snap
        return snap

    def _publish(self, snapshot) -> None:
        if self.display is not None:
            self.display.publish(snapshot)
        if self.panel is not None:
            self.panel.publish(snapshot)

    def _disk_seconds_left(self) -> float | None:
        """Recording time left on the takes disk, and whether a take can be created there at
        all (the record fault's probe). The disk watch's thread calls this, never audio."""
        from stagebox.service.recordfault import probe_folder
        from stagebox.takes.disk import OS_DISK
        from stagebox.takes.space import seconds_above_reserve

        started = time.monotonic()
        folder, reserve = self.cfg.takes.folder, self.cfg.takes.disk_reserve_mb * 1_000_000
        try:
            free = OS_DISK.free_bytes(str(folder))  # one statvfs serves the probe and the time
        except OSError:
            free = None
        self.fault.probed(probe_folder(folder, free or 0, reserve), started)
        if free is None:
            return None
        return seconds_above_reserve(
            free,
            self.backend.sample_rate,
            len(self.engine.settings.mic_channels),
            self.cfg.takes.bit_depth,
            reserve,
        )
