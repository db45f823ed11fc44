"""Real-hardware test of the streamer screen: KMS/DRM on the Pi's HDMI monitor.

Run on the stage's Pi with a monitor connected, as a user in the `video` and `render` groups,
with no desktop holding the display (`pytest -m hardware`). Skipped everywhere else.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stagebox.display.kmsdrm import connected_problem, connector_states


def _pi_model() -> str:
    try:
        return Path("/proc/device-tree/model").read_text().rstrip("\x00")
    except OSError:
        return ""


ON_PI = "Raspberry Pi" in _pi_model()
pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not ON_PI, reason="needs a Raspberry Pi with an HDMI monitor connected"),
]


def test_kmsdrm_shows_streamers_at_the_monitor_refresh():
    from stagebox.display.config import DisplayConfig
    from stagebox.display.process import DisplayLoop

    assert connected_problem(connector_states()) == "", "connect the HDMI monitor"
    statuses = []
    config = DisplayConfig(backend="kmsdrm")
    loop = DisplayLoop(config, lambda: None, statuses.append, lambda: False)
    started = time.monotonic()
    loop.stopping = lambda: loop.status.frames >= 120
    assert loop.run() == 0
    elapsed = time.monotonic() - started
    showing = [s for s in statuses if s.state == "showing"]
    assert showing, [s.message for s in statuses]
    refresh = showing[0].refresh_hz
    # 120 presents paced by the page flip take about 120 refreshes, not as fast as possible.
    assert elapsed > 0.8 * 120 / refresh
