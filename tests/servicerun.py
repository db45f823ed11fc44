"""Run `stagebox run` as a subprocess on a generated stage feed, and talk to it (test helper).

`StageDir` writes what the service needs into a temporary folder (a short stage feed as a
WAV, a cue sheet, a config file) and `RunningService` starts `python -m stagebox run` on it,
drives it with the real CLI (`python -m stagebox ...`) or the control client, signals it and
collects its stderr (the journal, off systemd). `NotifyListener` is a datagram socket bound
where `NOTIFY_SOCKET` points, recording every sd_notify message with its arrival time.
"""

from __future__ import annotations

import grp
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from stagebox.control.client import ControlClient
from stagebox.control.protocol import ControlError
from stagebox.cues.cue import Cue
from stagebox.sim.stagefeed import StageFeed
from stagebox.timecode import RATE_25, Timecode

ROOT = Path(__file__).resolve().parent.parent


def wait_for(predicate, timeout: float, what: str):
    """Poll `predicate()` until it returns something true (returned), or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def cue(number: str, tc_in: str, tc_out: str, character: str = "JOHN") -> Cue:
    return Cue(number, Timecode.parse(tc_in, RATE_25), Timecode.parse(tc_out, RATE_25), character)


def write_sheet(path: Path, cues: list[Cue], dialogue: str = "Mary? Are you in there?") -> Path:
    lines = ["# rate: 25", "Cue,Character,TC In,TC Out,Dialogue"]
    lines += [f"{c.number},{c.character},{c.tc_in},{c.tc_out},{dialogue}" for c in cues]
    path.write_text("\n".join(lines) + "\n")
    return path


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def sim_stage(root: Path) -> dict[str, object]:
    """Config overrides for a service run in this process on simulated hardware: takes in
    `root`/takes (a 1 MB disk reserve), sim lamps, no buttons, no display, the control socket
    in `root` for this user's group. Tests add their own keys after these."""
    return {
        "takes.folder": str(root / "takes"),
        "takes.disk_reserve_mb": 1,
        "lights.backend": "sim",
        "buttons.enabled": False,
        "display.enabled": False,
        "control.socket": str(root / "control.sock"),
        "control.socket_group": grp.getgrgid(os.getgid()).gr_name,
    }


def feed_inputs(feed) -> dict[str, object]:
    """Config overrides that play `feed` (a StageFeed) as the sim capture stream as fast as
    the CPU allows: its channel count, LTC channel and mic channel (1-based in the config)."""
    return {
        "audio.backend": "sim",
        "audio.sim_realtime": False,
        "audio.capture_channels": feed.channels,
        "audio.ltc_channel": feed.ltc_channel + 1,
        "audio.mic_channels": [feed.mic_channel + 1],
    }


class StageDir:
    """A stage in a temporary folder: feed, cue sheet, config, takes folder, socket."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.takes = root / "takes"
        self.socket = root / "control.sock"
        self.config = root / "stage.toml"
        self.feed_path = root / "feed.wav"
        self.feed: StageFeed | None = None

    def write_feed(self, cues: list[Cue], **options) -> StageFeed:
        """A stage feed (short defaults: 0.3 s lead-in, 1 s pre-roll, 0.5 s post-roll)."""
        options = {"preroll": 1.0, "postroll": 0.5, "lead_in": 0.3, "tail": 0.3, **options}
        self.feed = StageFeed(cues, **options)
        self.feed.fresh().write_wav(self.feed_path)
        return self.feed

    def write_config(self, realtime: bool = True, **settings: object) -> Path:
        """The config file; `settings` as "section.key" -> value override the test defaults."""
        values: dict[str, object] = {
            "audio.backend": "sim",
            "audio.sim_feed": str(self.feed_path),
            "audio.sim_realtime": realtime,
            "lights.backend": "sim",
            "display.enabled": False,
            "buttons.enabled": False,
            "control.socket": str(self.socket),
            "control.socket_group": grp.getgrgid(os.getgid()).gr_name,
            "takes.folder": str(self.takes),
            "takes.disk_reserve_mb": 1,
        }
        values.update({k.replace("__", "."): v for k, v in settings.items()})
        sections: dict[str, list[str]] = {}
        for key, value in values.items():
            section, name = key.split(".")
            sections.setdefault(section, []).append(f"{name} = {toml_value(value)}")
        text = "".join(f"[{s}]\n" + "\n".join(lines) + "\n\n" for s, lines in sections.items())
        self.config.write_text(text)
        return self.config


class RunningService:
    """`python -m stagebox run --config ...` in a subprocess; stop() or kill() at the end."""

    def __init__(self, stage: StageDir, env: dict[str, str] | None = None) -> None:
        self.stage = stage
        self.log_path = stage.root / "service.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in close())
        full_env = {**os.environ, **(env or {})}
        full_env.pop("JOURNAL_STREAM", None)  # log to stderr, where the test reads it
        full_env.pop("STAGEBOX_SOCKET", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stagebox", "run", "--config", str(stage.config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=ROOT,
        )

    # -- talking to it ------------------------------------------------------------------------

    def call(self, cmd: str, **args) -> object:
        with ControlClient(str(self.stage.socket), timeout=10.0) as client:
            return client.call(cmd, **args)

    def wait_until(self, predicate, timeout: float = 10.0, what: str = "the service") -> object:
        """Poll `predicate(status)` until it returns something true; returns that."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited ({self.proc.returncode}):\n{self.log}")
            try:
                last = self.call("status")
            except ControlError:
                last = None
            else:
                result = predicate(last)
                if result:
                    return result
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; last status {last}\n{self.log}")

    def wait_ready(self, timeout: float = 10.0) -> dict:
        return self.wait_until(lambda s: s, timeout, "the control socket")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """`python -m stagebox ARGS`, pointed at the service's socket through STAGEBOX_SOCKET."""
        result = subprocess.run(
            [sys.executable, "-m", "stagebox", *args],
            env={**os.environ, "STAGEBOX_SOCKET": str(self.stage.socket)},
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"stagebox {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    # -- its life -----------------------------------------------------------------------------

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()

    def __enter__(self) -> RunningService:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; records (time, message)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []  # (monotonic seconds at arrival, line)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notify-listener", daemon=True)
        self._thread.start()

    def env(self, watchdog_usec: int = 500_000) -> dict[str, str]:
        return {"NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": str(watchdog_usec)}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            with self._lock:
                for line in data.decode().splitlines():
                    self.messages.append((now, line))

    def received(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self.messages)

    def times_of(self, message: str) -> list[float]:
        return [t for t, m in self.received() if m == message]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
