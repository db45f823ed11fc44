"""A Raspberry Pi for `stagebox doctor` to examine, as files under a root folder, and
simulated devices for its seams (GPIO, audio with a patch cable, I2C panel, display)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from stagebox.doctor.lineinfo import LineInfo
from stagebox.sim.audio import SimBackend

ROOT = Path(__file__).resolve().parent.parent
STOCK_CONFIG_TXT = (
    "# For more options and information see http://rptl.io/configtxt\n"
    "dtparam=audio=on\n"
    "camera_auto_detect=1\n"
    "display_auto_detect=1\n"
    "auto_initramfs=1\n"
    "dtoverlay=vc4-kms-v3d\n"
    "max_framebuffers=2\n"
    "disable_fw_kms_setup=1\n"
    "arm_64bit=1\n"
    "disable_overscan=1\n"
    "arm_boost=1\n"
    "\n[cm4]\notg_mode=1\n\n[cm5]\ndtoverlay=dwc2,dr_mode=host\n\n[all]\n"
)
# /proc/asound/cards as the kernel writes it (sound/core/init.c: "%2i [%-15s]: %s - %s").
CARDS_HIFIBERRY = (
    " 0 [sndrpihifiberry]: HifiberryDacp - snd_rpi_hifiberry_dacplusadcpro\n"
    "                      snd_rpi_hifiberry_dacplusadcpro\n"
)
CARD_HDMI = " 1 [vc4hdmi        ]: vc4-hdmi - vc4-hdmi\n                      vc4-hdmi\n"


def write(root: Path, path: str, text: str | bytes) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)
    return target


def pi_root(tmp_path: Path, model: str = "Raspberry Pi 4 Model B Rev 1.5") -> Path:
    """A bookworm Pi 4 installed the way install.sh leaves it, with the default HAT."""
    root = tmp_path / "pi"
    write(root, "/proc/device-tree/model", model.encode() + b"\0")
    write(root, "/proc/sys/kernel/osrelease", "6.6.51+rpt-rpi-v8\n")
    write(root, "/etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'
          "VERSION_CODENAME=bookworm\nID=debian\n")  # fmt: skip
    fragment = (ROOT / "firmware" / "config.txt").read_text()
    stock = STOCK_CONFIG_TXT.replace(
        "dtoverlay=vc4-kms-v3d\n",
        "#dtoverlay=vc4-kms-v3d   # stagebox: replaced by vc4-kms-v3d,noaudio below\n",
    )
    write(root, "/boot/firmware/config.txt", stock + "\n" + fragment)
    write(root, "/proc/asound/cards", CARDS_HIFIBERRY)
    write(root, "/dev/i2c-1", "")
    write(root, "/sys/class/drm/card1-HDMI-A-1/status", "connected\n")
    write(root, "/sys/class/drm/card1-HDMI-A-1/modes", "1920x1080\n1280x720\n")
    write(root, "/sys/class/drm/card1-HDMI-A-2/status", "disconnected\n")
    unit = write(root, "/etc/systemd/system/stagebox.service", "")
    shutil.copyfile(ROOT / "systemd" / "stagebox.service", unit)
    return root


def free_lines(n: int = 54) -> dict[int, LineInfo]:
    return {i: LineInfo(i, f"GPIO{i}", "", False, False) for i in range(n)}


class LoopbackSim(SimBackend):
    """The sim backend with a patch cable: what is played comes back on capture `channel`
    (0-based) `delay` samples after the sample the backend says it is heard at."""

    def __init__(self, *, channel: int, delay: int, seconds: float = 10.0, noise=1e-4, **kw):
        rng = np.random.default_rng(7)
        samples = (noise * rng.standard_normal((int(seconds * 48000), 2))).astype(np.float32)
        super().__init__(samples=samples, sample_rate=48000, **kw)
        self.channel, self.delay = channel, delay

    def read(self):
        block = super().read()
        played = self.playback()
        lo, hi = block.position - self.delay, block.end - self.delay
        out = block.samples.copy()
        if hi > 0:
            src = np.zeros((hi - lo,), np.float32)
            a, b = max(lo, 0), min(hi, played.shape[0])
            if b > a:
                src[a - lo : b - lo] = played[a:b, 0]
            out[:, self.channel] += src
        return type(block)(out, block.position, block.lost)
