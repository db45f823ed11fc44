"""The service's life: subsystems up in dependency order, the audio loop, and down.

Start order (each one's stop is registered as it starts and runs in reverse, inside `finally`):
takes folder (crashed takes repaired) -> take log -> cue sheet -> take writer thread (and the
guide writer, livesync.py) -> lamps -> buttons -> front panel -> display process -> audio
device -> engine -> control socket.

The audio loop runs on the main thread, the only thread that ever asks for real-time
scheduling. Each period: read the capture block, apply the commands that arrived since the
last period (buttons, control socket) on the period boundary, run the engine, write the
headphone block, hand lamp events to the lamp driver and the snapshot to the display, panel and
control socket, and feed systemd's watchdog. Nothing in the loop waits on the disk, the
display or a client: they all take the newest data when they are ready.

Signals: SIGTERM and SIGINT stop the loop (an open take is closed on the newest sample and
flushed before exit); SIGHUP reloads the config and the cue sheet, keeping the old ones if the
new ones are bad.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from stagebox import events as ev
from stagebox.control.protocol import ControlError
from stagebox.events import StageEvent
from stagebox.service.commands import CommandTable, _Command
from stagebox.service.errors import ServiceError
from stagebox.service.lampwork import StageLamps
from stagebox.service.livesync import LiveSync
from stagebox.service.recordfault import RecordFault
from stagebox.service.reload import Reloader
from stagebox.service.review import ReviewCommands
from stagebox.service.status import StatusReport

log = logging.getLogger("stagebox.service")

IDLE_PERIOD = 0.05  # seconds between command checks while no audio flows
STATUS_INTERVAL = 1.0  # seconds between systemd STATUS= updates
DISK_CHECK_INTERVAL = 5.0  # seconds between free-space checks of the takes folder


class StageService(CommandTable, StatusReport, Reloader, StageLamps, ReviewCommands, LiveSync):
    """The whole stage, as the systemd service runs it (or `stagebox demo`, simulated)."""

    def __init__(
        self,
        cfg,
        *,
        config_path: Path | None = None,
        overrides: dict | None = None,
        feed=None,
        stop_at_end: bool = False,
    ) -> None:
        from stagebox.notify import Notifier

        self.cfg = cfg
        self.config_path = config_path
        self.overrides = dict(overrides or {})  # `--set` keys, applied again on reload
        self.feed = feed  # a StageFeed for the simulated stage (demo, tests); else from config
        self.stop_at_end = stop_at_end  # a simulated feed's end stops the service (the demo)
        self.notifier = Notifier()
        self.engine = None
        self.sheet = None
        self.takelog = None
        self.book = None
        self.writer = None
        self.sink = None  # the engine's WriterSink
        self.lamps = None  # LampDriver
        # The GPIO backend the lamps and buttons are on. With `lights.backend = "sim"` it is
        # `stagebox.gpio.sim.Backend`: the demo and the tests press its buttons
        # (`service.gpio.press("circle")`) and read its lamp history.
        self.gpio = None
        self.buttons = None  # stagebox.gpio.buttons.Buttons when `buttons.enabled`
        self.daw = None  # stagebox.daw.control.DawControl when `daw.enabled` (MMC to the DAW)
        self.backend = None
        self._commands: queue.Queue[_Command] = queue.Queue()
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._lights_testing = threading.Lock()  # one `lights test` at a time
        self._latest = None  # the newest StageSnapshot
        self._status_view = None  # (snapshot, its dict, input levels): see _snapshot_view
        self._message = ""  # the standing message (a worker failed, the audio ended ...)
        self._notice: tuple[str, float] | None = None  # a passing one, until monotonic time
        self.fault = RecordFault()  # why takes cannot be written now ("" reason: they can)
        self._flashing = False  # the record light flashes for the fault
        self._disk = None  # DiskWatch of the takes folder, once audio and engine run
        self._started = time.monotonic()
        self._audio_running = False
        self._listeners: list[Callable[[StageEvent], None]] = []
        self._last_take: tuple[str, int] | None = None  # (cue, take) punched out last

    # -- public -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end (from a signal handler or another thread)."""
        self._stop.set()

    def reload(self) -> None:
        self._reload.set()

    def add_listener(self, listener: Callable[[StageEvent], None]) -> None:
        """Also send every stage event to `listener` (called on the audio thread: no blocking)."""
        self._listeners.append(listener)

    def run(self) -> int:
        """Start everything, run the audio loop until stopped, stop everything. Exit status."""
        from stagebox.logsetup import handlers_off_thread

        with contextlib.ExitStack() as stack:
            # The journal is written off the audio thread: each stage event logged there only
            # goes on a queue.
            stack.enter_context(handlers_off_thread())
            try:
                self._start(stack)
            except ServiceError as exc:
                log.error("cannot start: %s", exc)
                return 2  # docs/cli.md: 2 for every refusal, 1 is never used
            if self.cfg.audio.backend == "alsa":
                from stagebox.memlock import lock_memory

                lock_memory()  # buffers allocated: keep them in RAM (logs what the limit allowed)
            self._install_signals(stack)
            try:
                self._loop()
            finally:
                self.notifier.stopping()
                log.info("stopping")
        log.info("stopped")
        return 0

    # -- start-up -----------------------------------------------------------------------------

    def _start(self, stack: contextlib.ExitStack) -> None:
        from stagebox.takes.book import TakeBook
        from stagebox.takes.disk import FolderLock
        from stagebox.takes.log import TakeLog, TakeLogError
        from stagebox.takes.reconcile import reconcile
        from stagebox.takes.repair import repair_takes
        from stagebox.takes.space import DiskWatch
        from stagebox.takes.writer import TakeWriter

        cfg = self.cfg
        for warning in cfg.warnings:  # a renamed key: the stage runs, the engineer is told
            log.warning("config: %s", warning)
        folder = Path(cfg.takes.folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # Nothing in the folder is touched before this: a second service stops here.
            stack.callback(FolderLock(folder).acquire().release)
            repaired = repair_takes(folder)
            for path in repaired:
                log.warning("repaired take left open by a crash: %s", path.name)
        except OSError as exc:
            raise ServiceError(f"takes folder {folder}: {exc}") from exc
        try:
            self.takelog = TakeLog(
                folder, template=cfg.takes.name_template, on_change=self._retag, check=self._fits
            )
        except (TakeLogError, OSError) as exc:
            raise ServiceError(f"take log in {folder}: {exc}") from exc
        for warning in self.takelog.warnings:
            log.warning("take log: %s", warning)
        try:
            reconcile(self.takelog, repaired)  # the log and the folder: one truth
        except OSError as exc:  # a read-only folder: said loudly as a record fault below
            log.error("take log: cannot reconcile with %s: %s", folder, exc)
        self.book = self._watch(TakeBook(self.takelog, project=cfg.stage.project))
        stack.callback(self.book.stop)
        self._start_sync(stack)
        if cfg.stage.cue_sheet:
            try:
                self.sheet = self._load_sheet(Path(cfg.stage.cue_sheet))
            except ControlError as exc:
                # The stage still runs (lights test, status, loading a good sheet later).
                log.error("cue sheet not loaded: %s", exc)
                self._message = "cue sheet not loaded"
        self.writer = self._watch(TakeWriter.from_config(cfg.takes)).start()
        stack.callback(self._stop_writer)
        self._start_guide_writer(stack)  # the guide channel's files (livesync.py)
        self._start_lights(stack)
        self._start_panel(stack)
        self._start_display(stack)
        self._start_audio(stack)
        self._start_engine(stack)
        self._start_review(stack)  # review mode's desk (stagebox.service.review)
        self._start_daw(stack)
        self._disk = self._watch(DiskWatch(self._disk_seconds_left, DISK_CHECK_INTERVAL).start())
        stack.callback(self._disk.stop)
        self._start_control(stack)

    def _watch(self, worker):
        """Have `worker`'s failure reported to the stage (the Worker has logged it): the
        engineer sees it in `status`; a take-path worker's is a record fault."""
        worker.on_failure = self._worker_failed
        return worker

    def _worker_failed(self, worker, exc: BaseException) -> None:
        self._message = f"{worker.label} failed: {exc}"
        if worker in (self.book, self._disk, self.writer):  # takes can no longer be trusted
            self.fault.writer_failed(f"{worker.label} failed: {exc}", for_good=True)

    def _start_panel(self, stack: contextlib.ExitStack) -> None:
        cfg = self.cfg
        self.panel = None
        if not cfg.panel.enabled:
            return
        from stagebox.panel.panel import FrontPanel, open_panel_device

        device_name = "sim" if cfg.lights.backend == "sim" else cfg.panel.controller
        try:
            device = open_panel_device(device_name, cfg.panel.i2c_bus, cfg.panel.address)
        except Exception as exc:  # a missing panel never stops the stage
            log.warning(
                "front panel on I2C bus %d address 0x%02X: %s; carrying on without it",
                cfg.panel.i2c_bus,
                cfg.panel.address,
                exc,
            )
            return
        self.panel = self._watch(FrontPanel(device, refresh_hz=cfg.panel.refresh_hz).start())
        stack.callback(self.panel.stop)

    def _start_display(self, stack: contextlib.ExitStack) -> None:
        self.display = None
        if not self.cfg.display.enabled:
            return
        from stagebox.display.config import DisplayConfig
        from stagebox.display.link import DisplayLink

        self.display = DisplayLink(DisplayConfig.from_config(self.cfg.display))
        self.display.start()
        stack.callback(self.display.stop)

    def _start_audio(self, stack: contextlib.ExitStack) -> None:
        from stagebox.audio import AudioError, open_backend

        a = self.cfg.audio
        try:
            if a.backend == "sim":
                source = {"feed": self.feed} if self.feed is not None else {}
                if not source:
                    if not a.sim_feed:
                        raise ServiceError("audio.backend is sim but audio.sim_feed is not set")
                    source = {"wav": a.sim_feed}
                backend = open_backend(
                    "sim",
                    **source,
                    period=a.period_size,
                    realtime=a.sim_realtime,
                    playback_channels=a.playback_channels,
                )
            else:
                from stagebox.audio.alsa import AlsaBackend

                backend = AlsaBackend.from_config(a, realtime_priority=70)
            backend.open()
        except AudioError as exc:
            raise ServiceError(f"audio: {exc}") from exc
        self.backend = backend
        stack.callback(backend.close)

    def _start_engine(self, stack: contextlib.ExitStack) -> None:
        from stagebox.engine import Engine, EngineSettings
        from stagebox.takes.punch import WriterSink

        cfg = self.cfg
        settings = EngineSettings.from_config(cfg, sample_rate=self.backend.sample_rate)
        if settings.ltc_channel >= self.backend.capture_channels:
            raise ServiceError(
                f"audio.ltc_channel {settings.ltc_channel + 1} but the capture device has "
                f"{self.backend.capture_channels} channels"
            )
        try:  # the headphone mix's channels (guide, talkback, sidetone) exist on the device
            settings.phones.check_channels(self.backend.capture_channels)
        except ValueError as exc:
            raise ServiceError(str(exc)) from None
        sink = WriterSink.from_config(
            cfg,
            self.writer,
            cfg.takes.folder,
            sample_rate=self.backend.sample_rate,
            mics=tuple(c + 1 for c in settings.mic_channels),
        )
        self.sink = sink
        self._start_guide(self.backend.sample_rate)  # the guide channel (livesync.py)
        cues = list(self.sheet) if self.sheet else []
        self.engine = Engine(
            settings,
            sink=sink,
            cues=cues,
            mode=cfg.stage.mode,
            takes=self.book,
            listeners=[self._on_event],
            guide_sink=self.guide_sink,
        )
        stack.callback(self._close_engine)

    def _start_daw(self, stack: contextlib.ExitStack) -> None:
        from stagebox.daw.control import DawControl

        stage = self.engine.stage
        self.daw = DawControl.from_config(
            self.cfg,
            mode=stage.mode,
            stage_preroll=lambda: stage.settings.preroll_seconds,
            find_cue=stage.find,
        )
        if self.daw is not None:
            self._watch(self.daw).start()  # its failure reaches status
            stack.callback(self.daw.stop)
            self.add_listener(self.daw.on_event)

    def _start_control(self, stack: contextlib.ExitStack) -> None:
        from stagebox.control.schema import answered_inline, changes_state, check_args
        from stagebox.control.server import ControlServer

        c = self.cfg.control
        server = self._watch(
            ControlServer(
                str(c.socket),
                self.dispatch,
                mode=c.socket_mode,
                group=c.socket_group or None,
                check=check_args,  # every argument's type checked before dispatch
                audited=changes_state,  # who changed the stage: an audit line in the journal
                inline=answered_inline,  # status and cues.list: on the socket's own thread
            )
        )
        try:
            server.start()
        except (OSError, ControlError) as exc:
            raise ServiceError(f"control socket {c.socket}: {exc}") from exc
        stack.callback(server.stop)

    def _install_signals(self, stack: contextlib.ExitStack) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = {
            signal.SIGTERM: signal.signal(signal.SIGTERM, lambda *_: self.stop()),
            signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: self.stop()),
            signal.SIGHUP: signal.signal(signal.SIGHUP, lambda *_: self.reload()),
        }
        for sig, handler in previous.items():
            stack.callback(signal.signal, sig, handler)

    # -- the audio loop -----------------------------------------------------------------------

    def _loop(self) -> None:
        from stagebox.audio import AudioError, EndOfFeed

        backend, engine = self.backend, self.engine
        last_status = 0.0
        while not self._stop.is_set():
            if self._reload.is_set():
                self._reload.clear()
                self._do_reload()
            if not self._audio_running and self.notifier.ready_sent:
                # Audio has stopped (feed ended, device gone): serve commands, no watchdog.
                self._idle_period()
                self._stop.wait(IDLE_PERIOD)
                continue
            try:
                block = backend.read()
            except EndOfFeed:
                self._end_audio("audio feed ended")
                if self.stop_at_end:
                    break
                log.warning("the audio feed ended: recording stopped, no more timecode")
                continue
            except AudioError as exc:
                log.error("audio device failed: %s", exc)
                self._end_audio(f"audio failed: {exc}")
                continue
            self._audio_running = True
            self._apply_commands(block.position)
            phones = engine.process(
                block.samples, block.position, block.lost, playback_at=backend.playback_position
            )
            if backend.playback_channels:
                backend.write(phones)
            self._after_period()
            self.notifier.audio_flowing()
            if not self.notifier.ready_sent:
                self.notifier.ready()
                log.info("audio flowing: %d Hz, ready", backend.sample_rate)
            now = time.monotonic()
            if now - last_status >= STATUS_INTERVAL:
                last_status = now
                self.notifier.status(self._status_line())

    def _after_period(self) -> None:
        snapshot = self._snapshot()
        if snapshot.time is not None:
            self.lamps.update_fit(snapshot.time)
        self._plan_lamps(self.engine.take_lamp_plan())
        self._writer_events()
        self._flash_record_light()
        self._publish(snapshot)

    def _idle_period(self) -> None:
        """With no audio flowing: apply commands and carry out what they decided right away.

        The stage's events from commands (a mode, a cue) are normally emitted with the next
        period; with no next period they are taken now, their lamps switched at once (there is
        no sample-time moment to aim at), and the snapshot refreshed so that `status`, the
        display and the panel show the stage as it now is.
        """
        engine = self.engine
        self._apply_commands(engine.position)
        engine.idle()
        self._idle_lamps()
        self._writer_events()
        self._flash_record_light()
        self._publish(self._snapshot())

    def _writer_events(self) -> None:
        for event in self.writer.events():
            if event.kind in ("disk_full", "overflow", "open_failed", "error", "writer_failed"):
                log.error("take writer: %s", event.message)
                self._message = event.message
            if event.kind in ("open_failed", "disk_full"):
                self.fault.writer_failed(event.message)
        status = self.writer.status()  # once a period: a snapshot of a few fields
        if not status.alive:
            self.fault.writer_failed(status.error or "?", for_good=True)
        self._guide_events()  # the guide channel's writer: warnings only (livesync.py)

    def _end_audio(self, why: str) -> None:
        self._audio_running = False
        self.notifier.ready()  # systemd must not wait forever; the watchdog tells the rest
        self.engine.close(why)
        self._idle_lamps()  # a pass cut short by the end of audio: its lamps go dark now
        self._message = why
        self._publish(self._snapshot())

    def _on_event(self, event: StageEvent) -> None:
        """Every stage event: the journal, the lamps (collected), listeners."""
        if event.event == ev.PUNCH_OUT:
            self._last_take = (event.cue, event.take)
            self._sync_punched_out(*self._last_take)
        if event.event not in (ev.LIGHT, ev.BEEP):
            extra = {"TIMECODE": event.timecode or ""}
            details = event.details()
            if "cue" in details:
                extra["CUE"] = details["cue"] or ""
            if "take" in details:
                extra["TAKE"] = str(details["take"])
            detail = " ".join(
                f"{k}={v}" for k, v in details.items() if v not in (None, "", ()) and k != "notes"
            )
            level = logging.WARNING if event.event == ev.WARNING else logging.INFO
            log.log(level, "%s at %s %s", event.event, event.timecode or "-", detail, extra=extra)
        for listener in self._listeners:
            listener(event)

    def _close_engine(self) -> None:
        if self.engine is not None:
            self.engine.close()

    def _stop_writer(self) -> None:
        try:
            self.writer.stop()
        except Exception as exc:
            log.error("take writer: %s", exc)

    # -- commands -----------------------------------------------------------------------------

    # -- reload -------------------------------------------------------------------------------
