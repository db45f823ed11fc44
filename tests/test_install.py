"""install.sh, run for real into a temporary root (--root): files, idempotence, uninstall.

The Python step installs this checkout's wheel, built offline, with --no-deps (the test's
root has no PyPI); everything else runs as on a Pi: systemd-sysusers and systemd-tmpfiles
with --root, `systemctl --root enable`, the firmware lines appended to a boot config.txt.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stagebox.config import default_config_text

ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / "install.sh"
STOCK_CONFIG_TXT = "# Raspberry Pi OS\ndtoverlay=vc4-kms-v3d\n[all]\n"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("stagebox-*.whl")
    return whl


def install(
    root: Path, *args: str, wheel: Path | None = None, arch: str = "aarch64/64"
) -> subprocess.CompletedProcess:
    cmd = ["bash", str(INSTALL), "--root", str(root), *args]
    if wheel is not None:
        cmd += ["--source", str(wheel), "--pip-args", "--no-index --no-deps"]
    env = {**os.environ, "STAGEBOX_INSTALL_ARCH": arch}  # the Pi's, whatever runs the test
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file, folder and link under root with content hash, mode, owner and mtime."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = ""
        if path.is_file() and not path.is_symlink():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_symlink():
            digest = os.readlink(path)
        out[str(path.relative_to(root))] = (
            digest,
            st.st_mode,
            st.st_uid,
            st.st_gid,
            st.st_mtime_ns,
        )
    return out


def new_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "boot" / "firmware").mkdir(parents=True)
    (root / "boot" / "firmware" / "config.txt").write_text(STOCK_CONFIG_TXT)
    return root


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> Path:
    root = new_root(tmp_path_factory.mktemp("installed"))
    result = install(root, "--yes", wheel=wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_dry_run_prints_every_action_and_changes_nothing(tmp_path, wheel):
    root = new_root(tmp_path)
    before = snapshot(root)
    result = install(root, "--dry-run", "--yes", wheel=wheel)
    assert result.returncode == 0, result.stderr
    assert snapshot(root) == before
    out = result.stdout
    for action in (
        "would run: python3 -m venv",
        "would run: systemd-sysusers",
        "would run: systemd-tmpfiles --create",
        "would install: " + str(ROOT / "systemd" / "stagebox.service"),
        "would write the default config",
        "would run: systemctl --root=",
        "would append firmware/config.txt",
    ):
        assert action in out, action
    assert "(dry run: nothing done)" in out


def test_install_puts_everything_in_place(installed):
    root = installed
    unit = root / "etc/systemd/system/stagebox.service"
    assert unit.read_text() == (ROOT / "systemd/stagebox.service").read_text()
    wants = root / "etc/systemd/system/multi-user.target.wants/stagebox.service"
    assert wants.is_symlink() and os.readlink(wants) == "/etc/systemd/system/stagebox.service"
    assert (root / "usr/lib/sysusers.d/stagebox.conf").is_file()
    assert (root / "usr/lib/tmpfiles.d/stagebox.conf").is_file()
    passwd = (root / "etc/passwd").read_text()
    assert any(line.startswith("stagebox:") for line in passwd.splitlines())
    assert (root / "var/lib/stagebox/takes").is_dir()
    # the default config, readable by the service's group only
    config = root / "etc/stagebox/stagebox.toml"
    assert config.read_text() == default_config_text()
    assert config.stat().st_mode & 0o777 == 0o640
    group = (root / "etc/group").read_text()
    gid = next(int(g.split(":")[2]) for g in group.splitlines() if g.startswith("stagebox:"))
    assert config.stat().st_gid == gid
    # the venv's stagebox reads and accepts the installed config
    python = root / "opt/stagebox/venv/bin/python"
    check = subprocess.run(
        [str(python), "-c", "import sys; from stagebox.config import load_config as l; "
         "print(l(sys.argv[1]).audio.sample_rate)", str(config)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0 and check.stdout.strip() == "48000", check.stderr
    assert (root / "opt/stagebox/hardware/pinmap.toml").is_file()
    # /dev/i2c-N for the front panel at every boot
    modules = (root / "etc/modules-load.d/stagebox-i2c.conf").read_text()
    assert "i2c-dev" in [ln.strip() for ln in modules.splitlines()]
    assert (root / "opt/stagebox/docs/install.md").is_file()
    # the firmware lines appended once after the stock ones, with a backup of the original
    fw = (root / "boot/firmware/config.txt").read_text()
    lines = fw.splitlines()
    # the stock KMS line gives way to its noaudio form (HDMI audio off, the overlay once)
    assert lines[:3] == [
        "# Raspberry Pi OS",
        "#dtoverlay=vc4-kms-v3d   # stagebox: replaced by vc4-kms-v3d,noaudio below",
        "[all]",
    ]
    assert [ln for ln in lines if ln.startswith("dtoverlay=vc4")] == [
        "dtoverlay=vc4-kms-v3d,noaudio"
    ]
    assert fw.count("dtoverlay=hifiberry-dacplusadcpro") == 1
    assert "gpio=17,27,22=op,dl" in fw
    assert (root / "boot/firmware/config.txt.stagebox-backup").read_text() == STOCK_CONFIG_TXT


def test_second_run_changes_nothing(installed, wheel):
    before = snapshot(installed)
    result = install(installed, "--yes", wheel=wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "install: 0 change(s)" in result.stdout
    assert snapshot(installed) == before


def test_existing_config_is_never_overwritten(installed, wheel):
    config = installed / "etc/stagebox/stagebox.toml"
    mine = "# my stage\n[beeps]\ncount = 40\n"
    config.write_text(mine)
    result = install(installed, wheel=wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    assert config.read_text() == mine
    # the installer checks the kept config with the installed code and says what is wrong
    assert "beeps.count: 40 is above the maximum 10" in result.stdout
    assert "refuse to start" in result.stdout


def test_uninstall_keeps_config_and_takes_unless_purged(tmp_path, installed):
    root = tmp_path / "copy"
    shutil.copytree(installed, root, symlinks=True)
    take = root / "var/lib/stagebox/takes/101A_T001.wav"
    take.write_bytes(b"RIFF take")
    config = root / "etc/stagebox/stagebox.toml"
    config_text = config.read_text()

    dry = install(root, "--uninstall", "--dry-run")
    assert dry.returncode == 0 and "would run: rm -rf" in dry.stdout
    assert (root / "opt/stagebox/venv").is_dir()

    result = install(root, "--uninstall")
    assert result.returncode == 0, result.stdout + result.stderr
    for gone in (
        "opt/stagebox",
        "etc/systemd/system/stagebox.service",
        "etc/systemd/system/multi-user.target.wants/stagebox.service",
        "usr/lib/sysusers.d/stagebox.conf",
        "usr/lib/tmpfiles.d/stagebox.conf",
    ):
        assert not (root / gone).exists() and not (root / gone).is_symlink(), gone
    assert take.read_bytes() == b"RIFF take"
    assert config.read_text() == config_text

    # --purge with takes on disk, no terminal and no --yes: refused, nothing deleted
    refused = install(root, "--uninstall", "--purge")
    assert refused.returncode == 1 and "1 take(s)" in refused.stderr
    assert take.exists() and config.exists()

    purged = install(root, "--uninstall", "--purge", "--yes")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert not (root / "var/lib/stagebox").exists() and not (root / "etc/stagebox").exists()


def test_bad_options_are_refused(tmp_path):
    result = install(tmp_path, "--frobnicate")
    assert result.returncode == 2 and "unknown option --frobnicate" in result.stderr
    result = install(tmp_path, "--purge")
    assert result.returncode == 2 and "--purge only goes with --uninstall" in result.stderr


def test_installer_is_shellcheck_clean():
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is missing: run .ci/setup (Debian package shellcheck)")
    result = subprocess.run(["shellcheck", str(INSTALL)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_firmware_lines_follow_the_configured_hat(tmp_path, wheel):
    root = new_root(tmp_path)
    config = root / "etc/stagebox/stagebox.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[audio]\nhat = "pisound"\ncapture_device = "hw:CARD=pisound,DEV=0"\n'
        'playback_device = "hw:CARD=pisound,DEV=0"\n'
    )
    result = install(root, "--yes", wheel=wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    fw = (root / "boot/firmware/config.txt").read_text()
    active = [ln for ln in fw.splitlines() if ln and not ln.startswith("#")]
    assert "dtoverlay=pisound" in active and "dtoverlay=hifiberry-dacplusadcpro" not in fw
    # the Pisound's pin map: lamps on 22 and 27, buttons clear of the HAT's 12, 13, 16, 26
    assert "gpio=22,27=op,dl" in active and "gpio=4,5,6,23=ip,pu" in active


@pytest.mark.parametrize("arch", ["armv7l/32", "aarch64/32"])
def test_a_32_bit_os_is_refused_before_anything_changes(tmp_path, arch):
    # armv7l: 32-bit Pi OS; aarch64/32: its 64-bit kernel with the 32-bit userland
    root = new_root(tmp_path)
    before = snapshot(root)
    result = install(root, "--yes", arch=arch)
    assert result.returncode == 1
    assert f"this is a 32-bit system ({arch}): stagebox needs 64-bit Raspberry Pi OS" in (
        result.stderr
    )
    assert snapshot(root) == before


def test_the_pi_gets_the_display_libraries_and_the_streamer_font(tmp_path, wheel):
    result = install(new_root(tmp_path), "--dry-run", wheel=wheel)
    apt = next(ln for ln in result.stdout.splitlines() if "skipped under --root" in ln)
    # pygame-ce's SDL loads these from the system; the streamer draws in DejaVu Sans Bold
    for package in ("libgbm1", "libegl1", "libgles2", "libgl1-mesa-dri", "fonts-dejavu-core"):
        assert package in apt.rstrip(")").split(), package
