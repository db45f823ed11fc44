"""The headphone mix on `stagebox monitor`: a bar for the phones feed, each source's peak."""

from __future__ import annotations

import re

import pytest

from stagebox.monitor.render import meter_levels, render
from tests.control_fake import FakeStage

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def status(tmp_path):
    fake = FakeStage(tmp_path / "takes")
    status = fake.do_status()  # Mic 1 at -6 dBFS, LTC at -20 dBFS
    fake.log.close()
    status["phones"] = {
        "meters_dbfs": {
            "beeps": -20.0,
            "guide": None,
            "sidetone": -18.4,
            "talkback": -6.0,
            "review": None,
            "phones": -12.0,
        },
        "talkback_live": True,
        "clipped": 0,
    }
    return status


def test_the_phones_feed_has_a_bar_and_each_source_its_peak(status):
    lines = [ANSI.sub("", x) for x in render(status, 80, 24, colour=True)]
    bar_line = next(x for x in lines if x.strip().startswith("Phones"))
    bar = "".join(c for c in bar_line if c in "█░▌")
    assert abs(bar.count("█") / len(bar) - 48 / 60) <= 1 / len(bar)  # -12 dBFS: 48/60
    assert bar_line.rstrip().endswith("-12.0")
    sources = next(x for x in lines if x.strip().startswith("phones:"))
    assert "beeps -20" in sources and "guide -inf" in sources and "sidetone -18 " in sources
    assert "talkback LIVE -6 " in sources and sources.endswith("review -inf")
    assert all(len(x) <= 80 for x in lines)


def test_clipped_samples_are_shown_and_the_peak_hold_follows_the_bars(status):
    status["phones"]["clipped"] = 37
    status["phones"]["talkback_live"] = False
    lines = [ANSI.sub("", x) for x in render(status, 100, 30)]
    sources = next(x for x in lines if x.strip().startswith("phones:"))
    assert "clipped 37" in sources and "talkback -6 " in sources
    assert meter_levels(status) == [-6.0, -20.0, -12.0]  # inputs, then the phones feed
    del status["phones"]  # an older service: the inputs only
    assert meter_levels(status) == [-6.0, -20.0]
    assert not any("Phones" in x for x in render(status, 100, 30))
