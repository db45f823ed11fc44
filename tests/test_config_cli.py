"""`stagebox config check|show|default|reference` and the generated docs/configuration.md."""

from __future__ import annotations

import tomllib
from pathlib import Path

from stagebox.cli import main
from stagebox.config import Config, load_config
from stagebox.config.schema import keys, sections

ROOT = Path(__file__).resolve().parent.parent


def test_check_prints_every_problem_and_exits_1(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[audio]\nsample_rate = 48001\n\n[beeps]\nlevel_dbfs = 3\n")
    assert main(["config", "check", str(path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{path}:2: audio.sample_rate: 48001 is not one of 44100, 48000, 96000",
        f"{path}:5: beeps.level_dbfs: 3 is above the maximum 0",
    ]


def test_check_good_file_exits_0(tmp_path, capsys):
    path = tmp_path / "good.toml"
    path.write_text("[stage]\nmode = 'rehearse'\n")
    assert main(["config", "check", "--config", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_show_prints_the_effective_config(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text("[beeps]\ncount = 4\n[stage]\npreroll_seconds = 6.0\n")
    assert main(["config", "show", "--config", str(path)]) == 0
    shown = tomllib.loads(capsys.readouterr().out)
    assert shown["beeps"]["count"] == 4
    assert shown["audio"]["sample_rate"] == 48000
    bad = tmp_path / "b.toml"
    bad.write_text("[beeps]\ncount = 40\n")
    assert main(["config", "show", "--config", str(bad)]) == 2


def test_default_prints_a_config_that_loads_to_the_defaults(tmp_path, capsys):
    assert main(["config", "default"]) == 0
    path = tmp_path / "d.toml"
    path.write_text(capsys.readouterr().out)
    assert load_config(path) == Config()


def test_configuration_reference_is_current(capsys):
    assert main(["config", "reference"]) == 0
    generated = capsys.readouterr().out
    on_disk = (ROOT / "docs" / "configuration.md").read_text()
    assert on_disk == generated, "run: stagebox config reference > docs/configuration.md"


def test_reference_lists_every_key():
    text = (ROOT / "docs" / "configuration.md").read_text()
    for name, cls in sections().items():
        assert f"## `[{name}]`" in text
        for f in keys(cls):
            assert f"| `{f.name}` |" in text, f"{name}.{f.name}"


OLD_GUIDE = '[audio]\nhat = "usb"\ncapture_channels = 4\n\n[sync]\nguide_channel = 3\n'


def test_a_renamed_key_keeps_working_with_a_warning_naming_its_line(tmp_path, capsys):
    """An upgraded stage still starts: sync.guide_channel (renamed audio.guide_channel) is
    read as the new key, and `config check` says which line to change."""
    path = tmp_path / "old.toml"
    path.write_text(OLD_GUIDE)
    cfg = load_config(path)
    assert cfg.audio.guide_channel == 3
    assert [(w.key, w.line) for w in cfg.warnings] == [("sync.guide_channel", 6)]
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"warning: {path}:6: sync.guide_channel: deprecated: renamed ")
    assert "audio.guide_channel" in out[0]
    assert out[-1] == f"{path}: ok (1 warning)"


def test_a_renamed_key_given_with_its_new_name_is_refused(tmp_path, capsys):
    path = tmp_path / "both.toml"
    path.write_text(OLD_GUIDE.replace("[sync]", "guide_channel = 4\n\n[sync]"))
    assert main(["config", "check", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:8: sync.guide_channel:" in out and "both are set: remove" in out


def test_a_renamed_key_works_as_an_override_too():
    from stagebox.config import config_from_dict

    cfg = config_from_dict(
        {"audio": {"hat": "usb", "capture_channels": 4}}, overrides={"sync.guide_channel": 3}
    )
    assert cfg.audio.guide_channel == 3 and cfg.warnings[0].file is None


def test_every_rename_points_at_a_key_that_exists_and_away_from_one_that_does_not():
    from stagebox.config.schema import DEPRECATED

    assert DEPRECATED  # the mechanism is in use
    known = {f"{name}.{f.name}" for name, cls in sections().items() for f in keys(cls)}
    for old, d in DEPRECATED.items():
        assert old == d.key and d.replacement in known and old not in known


def test_the_service_starts_on_a_renamed_key_and_says_so_in_its_journal(tmp_path):
    """An upgraded stage whose config still says sync.guide_channel starts and records as
    before; its log names the line to change."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from servicerun import RunningService, StageDir, cue

    stage = StageDir(tmp_path)
    stage.write_feed([cue("101", "01:00:02:00", "01:00:03:00")])
    stage.write_config(sync__guide_channel=0)
    with RunningService(stage) as svc:
        svc.wait_ready(60)  # a slow start on a busy machine is not what this test is about
        status = svc.call("status")
        log = svc.log
    assert status["audio"] is not None
    line = next(x for x in log.splitlines() if "sync.guide_channel" in x)
    assert f"{stage.config}:" in line and "deprecated: renamed audio.guide_channel" in line
