"""`stagebox run`: the service. Subsystems up in dependency order, the audio loop, and down.

Start order (each one's stop is registered as it starts and runs in reverse, inside `finally`):
takes folder (crashed takes repaired) -> take log -> cue sheet -> take writer thread -> lamps
-> buttons -> front panel -> display process -> audio device -> engine -> control socket.

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
import dataclasses
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
from stagebox.snapshot import MODES

log = logging.getLogger("stagebox.service")

COMMAND_TIMEOUT = 5.0  # seconds a control client waits for the engine to apply a command
IDLE_PERIOD = 0.05  # seconds between command checks while no audio flows
STATUS_INTERVAL = 1.0  # seconds between systemd STATUS= updates
DISK_CHECK_INTERVAL = 5.0  # seconds between free-space checks of the takes folder
LIGHTS_TEST_STEP = 1.0  # seconds each step of `stagebox lights test` holds


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
)


class ServiceError(Exception):
    """The service cannot start: the message says which subsystem and why."""


class _Command:
    """A command for the engine thread, and the reply the control thread waits for."""

    def __init__(self, name: str, args: dict) -> None:
        self.name = name
        self.args = args
        self.done = threading.Event()
        self.result: object = None
        self.error: str | None = None

    def finish(self, result: object = None, error: str | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class StageService:
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
        self.backend = None
        self._commands: queue.Queue[_Command] = queue.Queue()
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._lights_testing = threading.Lock()  # one `lights test` at a time
        self._latest = None  # the newest StageSnapshot
        self._lights_out: list = []  # lamp events from this period
        self._message = ""
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
        with contextlib.ExitStack() as stack:
            try:
                self._start(stack)
            except ServiceError as exc:
                log.error("cannot start: %s", exc)
                return 1
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
        from stagebox.bwf import repair_takes
        from stagebox.takebook import TakeBook
        from stagebox.takes import TakeLog
        from stagebox.takewriter import DiskWatch, TakeWriter

        cfg = self.cfg
        folder = Path(cfg.takes.folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for path in repair_takes(folder):
                log.warning("repaired take left open by a crash: %s", path.name)
        except OSError as exc:
            raise ServiceError(f"takes folder {folder}: {exc}") from exc
        self.takelog = TakeLog(folder, template=cfg.takes.name_template, on_change=self._retag)
        for warning in self.takelog.warnings:
            log.warning("take log: %s", warning)
        self.book = TakeBook(self.takelog, project=cfg.stage.project)
        stack.callback(self.book.stop)
        if cfg.stage.cue_sheet:
            try:
                self.sheet = self._load_sheet(Path(cfg.stage.cue_sheet))
            except ControlError as exc:
                # The stage still runs (lights test, status, loading a good sheet later).
                log.error("cue sheet not loaded: %s", exc)
                self._message = "cue sheet not loaded"
        self.writer = TakeWriter.for_config(cfg.takes).start()
        stack.callback(self._stop_writer)
        self._start_lights(stack)
        self._start_panel(stack)
        self._start_display(stack)
        self._start_audio(stack)
        self._start_engine(stack)
        self._disk = DiskWatch(self._disk_seconds_left, DISK_CHECK_INTERVAL).start()
        stack.callback(self._disk.stop)
        self._start_control(stack)

    def _start_lights(self, stack: contextlib.ExitStack) -> None:
        from stagebox.gpio import backend as gpio_backend
        from stagebox.gpio.buttons import Buttons
        from stagebox.gpio.lamps import LampDriver, Lamps
        from stagebox.gpio.pinmap import load_pinmap

        cfg = self.cfg
        try:
            pinmap = load_pinmap(cfg.lights.pinmap or None)
            gpio = gpio_backend.open_backend(cfg.lights.backend)
            lamps = Lamps(gpio, pinmap)
        except Exception as exc:
            raise ServiceError(f"lights ({cfg.lights.backend}): {exc}") from exc
        self.gpio = gpio
        self.lamps = LampDriver(lamps, relay_lag_trim=cfg.lights.relay_lag_ms / 1000.0).start()
        stack.callback(self.lamps.stop, raise_error=False)
        if cfg.buttons.enabled:
            buttons = Buttons(
                gpio,
                pinmap,
                self.submit,
                debounce_ms=cfg.buttons.debounce_ms,
                long_press_ms=cfg.buttons.long_press_ms,
            ).start()
            self.buttons = buttons
            stack.callback(buttons.stop)

    def _start_panel(self, stack: contextlib.ExitStack) -> None:
        cfg = self.cfg
        self.panel = None
        if not cfg.panel.enabled:
            return
        from stagebox.panel.panel import FrontPanel, open_panel_device

        device_name = "sim" if cfg.lights.backend == "sim" else "ssd1306"
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
        self.panel = FrontPanel(device, refresh_hz=cfg.panel.refresh_hz).start()
        stack.callback(self.panel.stop)

    def _start_display(self, stack: contextlib.ExitStack) -> None:
        self.display = None
        if not self.cfg.display.enabled:
            return
        from stagebox.display.config import from_settings
        from stagebox.display.link import DisplayLink

        self.display = DisplayLink(from_settings(self.cfg.display))
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
                backend = open_backend(
                    "alsa",
                    capture_device=a.capture_device,
                    playback_device=a.playback_device or None,
                    sample_rate=a.sample_rate,
                    capture_channels=a.capture_channels,
                    playback_channels=a.playback_channels,
                    format=a.sample_format,
                    period=a.period_size,
                    periods=a.periods,
                    realtime_priority=70,
                )
            backend.open()
        except AudioError as exc:
            raise ServiceError(f"audio: {exc}") from exc
        self.backend = backend
        stack.callback(backend.close)

    def _start_engine(self, stack: contextlib.ExitStack) -> None:
        from stagebox.engine import Engine, EngineSettings
        from stagebox.recorder import WriterSink

        cfg = self.cfg
        settings = EngineSettings.from_config(cfg, sample_rate=self.backend.sample_rate)
        if settings.ltc_channel >= self.backend.capture_channels:
            raise ServiceError(
                f"audio.ltc_channel {settings.ltc_channel + 1} but the capture device has "
                f"{self.backend.capture_channels} channels"
            )
        sink = WriterSink.for_config(
            cfg,
            self.writer,
            cfg.takes.folder,
            sample_rate=self.backend.sample_rate,
            mics=tuple(c + 1 for c in settings.mic_channels),
            rate=self.sheet.rate if self.sheet else cfg.timecode.rate,
        )
        self.sink = sink
        cues = list(self.sheet) if self.sheet else []
        self.engine = Engine(
            settings,
            sink=sink,
            cues=cues,
            mode=cfg.stage.mode,
            takes=self.book,
            listeners=[self._on_event],
        )
        stack.callback(self._close_engine)

    def _start_control(self, stack: contextlib.ExitStack) -> None:
        from stagebox.control.server import ControlServer

        c = self.cfg.control
        server = ControlServer(
            str(c.socket), self.dispatch, mode=c.socket_mode, group=c.socket_group or None
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
        if self._lights_out:
            self._plan_lamps(self._lights_out)
            self._lights_out = []
        self._writer_events()
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
        self._publish(self._snapshot())

    def _idle_lamps(self) -> None:
        """Switch the lamp events collected while no audio flows, now, in order."""
        if not self._lights_out:
            return
        self.lamps.cancel()  # whatever was planned for audio that will not come
        self._plan_lamps(self._lights_out, now=True)
        self._lights_out = []

    def _writer_events(self) -> None:
        for event in self.writer.events():
            if event.kind in ("disk_full", "overflow", "open_failed", "error", "writer_failed"):
                log.error("take writer: %s", event.message)
                self._message = event.message

    def _publish(self, snapshot) -> None:
        if self.display is not None:
            self.display.publish(snapshot)
        if self.panel is not None:
            self.panel.publish(snapshot)

    def _plan_lamps(self, events: list[StageEvent], now: bool = False) -> None:
        plan_lamps(self.lamps, events, standby_light=self.cfg.lights.standby_light, now=now)

    def _snapshot(self):
        fit = self.backend.time_map.fit() if self.backend else None
        snap = self.engine.snapshot(
            time=fit,
            disk_seconds_left=self._disk.left if self._disk else None,
            message=self._message,
        )
        self._latest = snap
        return snap

    def _disk_seconds_left(self) -> float:
        """Recording time left on the takes disk (the disk watch's thread calls this)."""
        from stagebox.takewriter import recording_seconds_left

        return recording_seconds_left(
            self.cfg.takes.folder,
            self.backend.sample_rate,
            len(self.engine.settings.mic_channels),
            self.cfg.takes.bit_depth,
            self.cfg.takes.disk_reserve_mb * 1_000_000,
        )

    def _end_audio(self, why: str) -> None:
        self._audio_running = False
        self.notifier.ready()  # systemd must not wait forever; the watchdog tells the rest
        self.engine.close(why)
        self._idle_lamps()  # a pass cut short by the end of audio: its lamps go dark now
        self._message = why
        self._publish(self._snapshot())

    def _on_event(self, event: StageEvent) -> None:
        """Every stage event: the journal, the lamps (collected), listeners."""
        if event.event in (ev.LIGHT, ev.PASS_END, ev.JUMP, ev.UNLOCK, ev.MODE):
            self._lights_out.append(event)
        if event.event == ev.PUNCH_OUT:
            self._last_take = (event.data["cue"], event.data["take"])
        if event.event not in (ev.LIGHT, ev.BEEP):
            extra = {"TIMECODE": event.timecode or ""}
            if "cue" in event.data:
                extra["CUE"] = event.data.get("cue") or ""
            if "take" in event.data:
                extra["TAKE"] = str(event.data["take"])
            detail = " ".join(
                f"{k}={v}" for k, v in event.data.items() if v not in (None, "") and k != "length"
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

    def submit(self, command: str) -> None:
        """A button's command string ("mode record", "cue next", "take circle" ...)."""
        words = command.split()
        if len(words) == 2 and words[0] == "mode":
            self._queue("mode", {"mode": words[1]}, wait=False)
        elif len(words) == 2 and words[0] == "cue":
            self._queue("cue", {"which": words[1]}, wait=False)
        elif command in ("take circle", "take uncircle"):
            self._circle_last(command == "take circle")
        else:
            log.warning("unknown button command %r", command)

    def _circle_last(self, circled: bool) -> None:
        """CIRCLE button: the take recorded last, even if it punched out a moment ago."""
        try:
            self.book.flush(COMMAND_TIMEOUT)  # every take closed so far is in the log
        except TimeoutError:
            log.error("the take log is behind: circling the last take it has")
        if self._last_take is not None:
            cue, take = self._last_take
        else:
            # None recorded since start: the newest in the log (started has 1 s resolution,
            # so among takes of the same second the highest number wins).
            records = self.takelog.takes() if self.takelog else []
            if not records:
                log.warning("no take to %s yet", "circle" if circled else "uncircle")
                return
            last = max(records, key=lambda r: (r.started, r.take))
            cue, take = last.cue, last.take
        self.takelog.circle(cue, take, circled)
        log.info("%s cue %s take %d", "circled" if circled else "uncircled", cue, take)

    def _queue(self, name: str, args: dict, wait: bool = True) -> object:
        command = _Command(name, args)
        self._commands.put(command)
        if not wait:
            return None
        if not command.done.wait(COMMAND_TIMEOUT):
            raise ControlError(f"the engine did not take {name!r} within {COMMAND_TIMEOUT} s")
        if command.error:
            raise ControlError(command.error)
        return command.result

    def _apply_commands(self, sample: int) -> None:
        """Run queued commands on the engine thread, between periods, at `sample`."""
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command.finish(self._apply(command.name, command.args, sample))
            except (ValueError, KeyError) as exc:
                command.finish(error=str(exc).strip("'\""))

    def _apply(self, name: str, args: dict, sample: int) -> object:
        stage = self.engine.stage
        if name == "mode":
            stage.set_mode(args["mode"], sample)
            log.info("mode %s", stage.mode)
            return {"mode": stage.mode}
        if name == "cue":
            cue = stage.select_cue(str(args["which"]), sample)
            return cue.to_dict()
        if name == "cues":
            sheet = args["sheet"]
            stage.set_cues(list(sheet), sample)
            self.sheet = sheet
            return None
        raise KeyError(f"unknown engine command {name!r}")

    def dispatch(self, cmd: str, args: dict) -> object:
        """The control socket's requests (runs on a control connection's thread)."""
        if cmd == "status":
            return self.status()
        if cmd == "mode":
            mode = args.get("mode")
            if mode not in MODES:
                raise ControlError(
                    f"mode must be {', '.join(MODES[:-1])} or {MODES[-1]}, not {mode!r}"
                )
            return self._queue("mode", {"mode": mode})
        if cmd == "cue":
            if "which" not in args:
                raise ControlError("which cue? give a cue number, next or previous")
            return self._queue("cue", {"which": str(args["which"])})
        if cmd == "cues.load":
            return self._cues_load(args.get("path"), args.get("encoding"))
        if cmd == "cues.list":
            return [c.to_dict() for c in (self.sheet or [])]
        if cmd == "takes":
            return [r.to_dict() for r in self.takelog.takes(args.get("cue"))]
        if cmd == "take.circle":
            return self._take_edit(args, circled=bool(args.get("circled", True)))
        if cmd == "take.note":
            return self._take_edit(args, note=str(args.get("text", "")))
        if cmd == "report":
            import io

            out = io.StringIO()
            self.takelog.report_csv(out)
            return {"csv": out.getvalue()}
        if cmd == "lights.test":
            return self._lights_test()
        raise ControlError(f"unknown command {cmd!r}")

    def status(self) -> dict:
        snap = self._latest
        data = snap.to_dict() if snap else {"timecode": None, "lock": "lost", "mode": None}
        clock = self.engine.clock if self.engine else None
        writer = self.writer.status() if self.writer else None
        data.update(
            rate=clock.rate.name if clock and clock.rate and clock.locked else None,
            speed=clock.speed if clock and clock.locked else 0.0,
            channel_names=self._channel_names(),
            cue_sheet=str(self.sheet.path) if self.sheet else None,
            takes_folder=str(self.cfg.takes.folder),
            uptime=time.monotonic() - self._started,
            # peak per capture channel over the newest period (the engine keeps its block)
            levels_dbfs=[float(x) for x in self.engine.levels] if self.engine else [],
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

    def _channel_names(self) -> list[str]:
        if not self.engine:
            return []
        s = self.engine.settings
        names = []
        for ch in range(self.backend.capture_channels):
            if ch == s.ltc_channel:
                names.append("LTC")
            elif ch in s.mic_channels:
                names.append(f"Mic {ch + 1}")
            else:
                names.append(f"In {ch + 1}")
        return names

    def _load_sheet(self, path: Path, encoding: str | None = None):
        from stagebox.cues import CueSheetError, load_cue_sheet

        try:
            sheet = load_cue_sheet(
                path,
                rate=self.cfg.timecode.rate,
                encoding=encoding,
                fallback_encoding=self.cfg.stage.cue_sheet_encoding,
                language=self.cfg.stage.record_language,
            )
        except CueSheetError as exc:
            raise ControlError(str(exc)) from None
        except OSError as exc:
            raise ControlError(f"{path}: {exc.strerror or exc}") from None
        for warning in sheet.warnings:
            log.warning("cue sheet %s: %s", path.name, warning)
        self.book.prime(sheet)
        return sheet

    def _cues_load(self, path, encoding=None) -> dict:
        if not path:
            raise ControlError("which cue sheet? give its path")
        if encoding is not None and not isinstance(encoding, str):
            raise ControlError("encoding: give a text encoding name")
        sheet = self._load_sheet(Path(path), encoding)  # a bad sheet raises: the old one stays
        self._queue("cues", {"sheet": sheet})
        log.info("cue sheet %s loaded: %d cues", sheet.path, len(sheet))
        return {
            "path": str(sheet.path),
            "cues": len(sheet),
            "rate": sheet.rate.name,
            "format": sheet.source_format,
            "encoding": sheet.encoding,
            "warnings": list(sheet.warnings),
        }

    def _take_edit(self, args: dict, **change) -> dict:
        from stagebox.takes import TakeLogError

        try:
            cue, take = str(args["cue"]), int(args["take"])
        except (KeyError, ValueError):
            raise ControlError("give the cue and the take number") from None
        try:
            if "circled" in change:
                record = self.takelog.circle(cue, take, change["circled"])
            else:
                record = self.takelog.note(cue, take, change["note"])
        except TakeLogError as exc:
            raise ControlError(str(exc)) from None
        return record.to_dict()

    def _retag(self, record) -> None:
        """A take was circled or noted: write it into the take file's iXML too."""
        from stagebox.bwf import update_take_metadata

        path = Path(self.cfg.takes.folder) / record.file
        self._wait_for_writer(path)
        try:
            update_take_metadata(path, circled=record.circled, note=record.full_note)
        except Exception as exc:
            log.error("could not update %s: %s", path.name, exc)
            raise ControlError(f"take logged, but {path.name} was not updated: {exc}") from None

    def _wait_for_writer(self, path: Path) -> None:
        """A take punched out a moment ago may still be being finished by the take writer (a
        disk stall can hold seconds of audio in its queue): wait, bounded, until it is."""
        from stagebox.bwf import marker_path

        closing = self.sink.last_close if self.sink is not None else None
        if closing is None or not marker_path(path).exists():
            return
        try:
            closing.result(COMMAND_TIMEOUT)
        except Exception as exc:  # the iXML update below says what state the take is in
            log.warning("waiting for the take writer to finish %s: %s", path.name, exc)

    def _lights_test(self) -> dict:
        """Each lamp on for a second, then all on, then all off (safe mode only).

        Runs on the control connection's thread. It stops, lamps dark, as soon as the stage
        leaves safe mode (a button, another client) or the service stops, so it never lights a
        lamp over the stage's own plan or after the lamps were switched off for good; and one
        test runs at a time.
        """
        if self.engine.stage.mode != "safe":
            raise ControlError("the lights test runs only in safe mode: stagebox mode safe")
        if not self._lights_testing.acquire(blocking=False):
            raise ControlError("a lights test is already running")
        names = list(self.lamps.lamps.names)
        steps: list[str] = []
        try:
            for name in names:
                self._lights_step(names, {name}, LIGHTS_TEST_STEP)
                steps.append(f"{name} on")
            self._lights_step(names, set(names), LIGHTS_TEST_STEP)
            steps.append("all on")
        finally:
            if not self._stop.is_set():  # stopping: the lamp driver darkens them itself
                # Dark, or as the stage now has them if it left safe mode meanwhile.
                stage = self.engine.stage
                wanted = {f"{lamp}_light": on for lamp, on in stage.lights.items()}
                wanted["standby_light"] = self.cfg.lights.standby_light and stage.mode == "record"
                for name in names:
                    self.lamps.set(name, stage.mode != "safe" and wanted.get(name, False))
            self._lights_testing.release()
        steps.append("all off")
        return {"steps": steps}

    def _lights_step(self, names: list[str], lit: set[str], seconds: float) -> None:
        for name in names:
            self.lamps.set(name, name in lit)
        if self._stop.wait(seconds):
            raise ControlError("the service is stopping: lights test abandoned")
        if self.engine.stage.mode != "safe":
            raise ControlError(
                f"the stage left safe mode ({self.engine.stage.mode}): lights test abandoned"
            )

    # -- reload -------------------------------------------------------------------------------

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
            # Sections built at start-up keep their running values (a restart applies them),
            # so the stage is set from what will actually run.
            restart_needed = [
                s for s in RESTART_SECTIONS if getattr(cfg, s) != getattr(self.cfg, s)
            ]
            cfg = dataclasses.replace(cfg, **{s: getattr(self.cfg, s) for s in restart_needed})
            settings = EngineSettings.from_config(cfg, sample_rate=self.backend.sample_rate)
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
        # The project name goes into every new take's iXML and file name.
        self.sink.project = self.book.project = cfg.stage.project
        self.cfg = cfg
        if sheet is not None:
            self.engine.stage.set_cues(list(sheet), self.engine.position)
            self.sheet = sheet
        self._message = ""
        log.info("config reloaded")

    def _status_line(self) -> str:
        snap = self._latest
        if snap is None:
            return "starting"
        tc = snap.timecode_at(snap.sample) if snap.clock else None
        cue = snap.cue.number if snap.cue else "-"
        take = f"T{snap.take}" if snap.take else "-"
        rec = " REC" if snap.recording else ""
        return f"{snap.mode} {tc or snap.lock} cue {cue} {take}{rec}"


def plan_lamps(
    driver, events: list[StageEvent], *, standby_light: bool = False, now: bool = False
) -> None:
    """Hand a period's stage events to the lamp driver (`now`: switch them at once).

    The stage's lamp `cue` is the pin map's `cue_light`, `record` is `record_light`; with
    `standby_light` the stand-by lamp is lit while the stage is in record mode.

    Lamps are planned a little ahead of the audio (the stage's look-ahead) so they switch
    on time. When a pass ends early (loop wrap, relocate, LTC lost), what was planned for
    after that moment is stale: the driver's plan is dropped, and so are switch-ons decided
    before the end for moments after it; the stage's switch-offs at the end remain.
    """
    from stagebox.gpio.lamps import LightEvent

    planned: list[LightEvent] = []
    for event in events:
        if event.event == ev.MODE:
            if standby_light:
                on = event.data["mode"] == "record"
                planned.append(LightEvent("standby_light", on, event.sample))
        elif event.event == ev.LIGHT:
            name = f"{event.data['name']}_light"
            planned.append(LightEvent(name, event.data["state"], event.sample))
        elif event.event in (ev.PASS_END, ev.JUMP, ev.UNLOCK):  # the pass ended at event.sample
            driver.cancel()
            planned = [e for e in planned if not (e.state and e.sample > event.sample)]
    if planned and now:
        for event in sorted(planned, key=lambda e: e.sample):
            driver.set(event.name, event.state, event.sample)
    elif planned:
        driver.plan(planned)
