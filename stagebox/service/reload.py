"""SIGHUP: the config and the cue sheet read again, all or nothing."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from stagebox.control.protocol import ControlError

log = logging.getLogger("stagebox.service")

# Config sections whose objects are built at start-up: a reload cannot change them.
RESTART_SECTIONS = (
    "audio",
    "control",
    "lights",
    "display",
    "panel",
    "buttons",
    "takes",
    "timecode",
    "daw",
    "sync",  # the guide channel's recorder and the scorer are built at start-up
)


class Reloader:
    """Mixed into StageService: the reload."""

    def _do_reload(self) -> None:
        """SIGHUP: read the config file again (with the command line's `--set` overrides).

        All or nothing: a config or cue sheet with a problem changes nothing. Sections whose
        objects were built at start-up (audio device, control socket, GPIO, display, panel,
        takes folder and writer, timecode clock) keep their running values, with a warning to
        restart; the stage settings, the cue sheet and the log level apply at once.
        """
        from stagebox.config import ConfigError, load_config
        from stagebox.engine import EngineSettings

        log.info("reloading the config (SIGHUP)")
        try:
            cfg = load_config(self.config_path, overrides=self.overrides)
            for warning in cfg.warnings:
                log.warning("config: %s", warning)
            # Sections built at start-up keep their running values (a restart applies them),
            # so the stage is set from what will actually run.
            restart_needed = [
                s for s in RESTART_SECTIONS if getattr(cfg, s) != getattr(self.cfg, s)
            ]
            cfg = dataclasses.replace(cfg, **{s: getattr(self.cfg, s) for s in restart_needed})
            settings = EngineSettings.from_config(cfg, sample_rate=self.backend.sample_rate)
            settings.phones.check_channels(self.backend.capture_channels)
        except (ConfigError, ValueError) as exc:
            log.error("new config refused, keeping the old one: %s", exc)
            self._message = "config reload refused"
            return
        sheet = None  # no sheet in the config: the stage keeps the cues it has
        if cfg.stage.cue_sheet:
            try:
                sheet = self._load_sheet(Path(cfg.stage.cue_sheet))
            except ControlError as exc:
                log.error("new cue sheet refused, keeping the old config and cues: %s", exc)
                self._message = "cue sheet reload refused"
                return
        if restart_needed:
            log.warning(
                "[%s] changed: restart the service to apply it (sudo systemctl restart stagebox)",
                "], [".join(restart_needed),
            )
        logging.getLogger("stagebox").setLevel(cfg.log.level.upper())
        self.engine.apply_stage_settings(settings.stage)
        self.engine.phones.apply(settings.phones)  # live phones changes give way to the file
        # The project name goes into every new take's iXML and file name.
        self.sink.project = self.book.project = cfg.stage.project
        self.cfg = cfg
        if sheet is not None:
            self.engine.stage.set_cues(list(sheet), self.engine.position)
            self.sheet = sheet
        self._message = ""
        log.info("config reloaded")
