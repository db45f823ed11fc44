"""One validation: `stagebox config check` and `stagebox run` accept and refuse the same configs.

Each case below is a config an engineer (or a red team) could write. For every one, the test
asks `config check` and then `stagebox run` (the real service, simulated stage): a config that
the check accepts must start (the control socket answers), and one it refuses must be refused
by the service too, exit 2, each problem one line naming its key, no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from servicerun import ROOT, RunningService, StageDir, cue

from stagebox.cli import main

CUE_101 = cue("101", "01:00:02:00", "01:00:03:00")


@pytest.fixture(scope="module")
def feed_wav(tmp_path_factory):
    """One short stage feed for every case (a few seconds of LTC and a mic)."""
    stage = StageDir(tmp_path_factory.mktemp("feed"))
    stage.write_feed([CUE_101], passes=1)
    return stage.feed_path


def _stage(tmp_path, feed_wav) -> StageDir:
    stage = StageDir(tmp_path)
    stage.feed_path = feed_wav
    return stage


def _check(config) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stagebox", "config", "check", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )


def _binary(path):
    path.write_bytes(bytes(range(256)) * 8)
    return path


# (id, settings for write_config (may be a function of the stage folder), key named when refused)
CASES = [
    ("plain", lambda s: {}, None),
    ("relative paths", lambda s: {"takes__folder": "takes2", "control__socket": "c.sock"}, None),
    ("socket beside takes", lambda s: {"control__socket": str(s.root / "run" / "c.sock")}, None),
    ("NUL in takes folder", lambda s: {"takes__folder": str(s.root / "ta\x00kes")}, "takes.folder"),
    (
        "150-character socket path",
        lambda s: {"control__socket": str(s.root / ("s" * 150 + ".sock"))},
        "control.socket",
    ),
    (
        "socket in the takes folder through ..",
        lambda s: {"control__socket": str(s.root / "other" / ".." / "takes" / "c.sock")},
        "control.socket",
    ),
    ("sim feed /etc/passwd", lambda s: {"audio__sim_feed": "/etc/passwd"}, "audio.sim_feed"),
    ("sim feed not set", lambda s: {"audio__sim_feed": ""}, "audio.sim_feed"),
    (
        "pin map not TOML",
        lambda s: {"lights__pinmap": str(_binary(s.root / "pins.toml"))},
        "lights.pinmap",
    ),
    (
        "binary cue sheet",
        lambda s: {"stage__cue_sheet": str(_binary(s.root / "sheet.csv"))},
        "stage.cue_sheet",
    ),
    (
        "takes folder is a file",
        lambda s: {"takes__folder": str(_binary(s.root / "afile"))},
        "takes.folder",
    ),
    (
        "take log is a FIFO",
        lambda s: (s.takes.mkdir(), os.mkfifo(s.takes / "takes.jsonl"), {})[-1],
        "takes.folder",
    ),
    (
        "LTC channel beyond the feed's",
        lambda s: {"audio__ltc_channel": 3, "audio__capture_channels": 4},
        "audio.ltc_channel",
    ),
    (
        "mic channel beyond the feed's",
        lambda s: {"audio__mic_channels": [4], "audio__capture_channels": 4},
        "audio.mic_channels",
    ),
    (
        "scalar headphone channels",
        lambda s: {"audio__headphone_channels": 1},
        "audio.headphone_channels",
    ),
]


@pytest.mark.parametrize("settings, key", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_config_check_and_run_agree(tmp_path, feed_wav, settings, key):
    stage = _stage(tmp_path, feed_wav)
    values = settings(stage)
    if "control__socket" in values:
        stage.socket = stage.root / values["control__socket"]  # relative: from the config's folder
    config = stage.write_config(**values)
    text = config.read_text().replace("\x00", "\\u0000")  # TOML's escape for NUL
    config.write_text(text.replace('"[4]"', "[4]"))  # write_config quotes what is not a number
    check = _check(config)
    assert "Traceback" not in check.stdout + check.stderr
    if key is None:
        assert check.returncode == 0, check.stdout + check.stderr
        with RunningService(stage) as svc:
            assert svc.wait_ready(timeout=20)  # the control socket answers: it started
            assert svc.stop() == 0
        return
    assert check.returncode == 2, check.stdout + check.stderr
    problems = check.stdout.splitlines()
    assert any(f"{key}:" in line for line in problems), check.stdout
    assert "got a string" not in check.stdout  # refused for the reason the case is about
    with RunningService(stage) as svc:
        assert svc.proc.wait(20) == 2
        log = svc.log
    assert "Traceback" not in log and key in log


def test_config_is_not_read_from_a_device_or_a_fifo(tmp_path, capsys):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for path, says in (("/dev/zero", "character device"), (str(fifo), "FIFO")):
        assert main(["config", "check", path]) == 2  # returns at once: nothing read
        out = capsys.readouterr().out
        assert says in out and out.count("\n") == 1


def test_a_huge_config_is_refused_unread(tmp_path, capsys):
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:
        f.truncate(2 << 20)  # sparse: 2 MB of NULs
    assert main(["config", "check", str(big)]) == 2
    assert "too large for a config file" in capsys.readouterr().out


def test_deeply_nested_toml_is_one_line(tmp_path, capsys):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert main(["config", "check", str(deep)]) == 2
    out = capsys.readouterr().out
    assert "nested too deeply" in out and out.count("\n") == 1


def test_the_take_log_checked_is_the_one_the_service_reads():
    from stagebox.config.opens import TAKE_LOG_NAME
    from stagebox.takes.log import LOG_NAME

    assert TAKE_LOG_NAME == LOG_NAME
