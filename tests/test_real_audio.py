"""The ALSA backend on the stage's real HAT. Runs only on a Raspberry Pi with the HAT fitted;
everywhere else it is skipped with the reason. Set STAGEBOX_AUDIO_DEVICE to the card's ALSA
name if it is not a HiFiBerry DAC+ ADC."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from stagebox.audio.alsa import AlsaBackend

DEVICE = os.environ.get("STAGEBOX_AUDIO_DEVICE", "hw:CARD=sndrpihifiberry,DEV=0")


def _on_a_pi() -> bool:
    model = Path("/proc/device-tree/model")
    return model.exists() and "Raspberry Pi" in model.read_text(errors="replace")


pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not _on_a_pi(), reason="needs a Raspberry Pi with the audio HAT"),
]


def test_five_seconds_of_capture_and_playback_without_xruns():
    backend = AlsaBackend(
        DEVICE,
        DEVICE,
        sample_rate=48000,
        format="S32_LE",
        period=256,
        periods=3,
        realtime_priority=70,
    )
    blocks = []
    with backend:
        for _ in range(5 * 48000 // 256):
            blocks.append(backend.read())
            backend.write(np.zeros((256, 2), np.float32))
    assert backend.xruns == 0
    assert [b.position for b in blocks] == [i * 256 for i in range(len(blocks))]
    fit = backend.time_map.fit()
    assert abs(fit.rate / 48000 - 1) < 200e-6  # the ADC crystal against the Pi's clock
