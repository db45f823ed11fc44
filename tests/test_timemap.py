"""The sample -> monotonic time map: a least-squares line through jittery period stamps."""

import random

import pytest

from stagebox.timemap import REFIT, SampleTimeMap


def stamps(rate, n, jitter=0.0001, seed=1):  # jitter: seconds, as ALSA timestamps wobble
    rng = random.Random(seed)
    return [(i * 256, 100.0 + i * 256 / rate + rng.uniform(-jitter, jitter)) for i in range(n)]


def test_fit_recovers_the_true_rate_through_jitter():
    m = SampleTimeMap(48000)
    for s, t in stamps(48003.0, 256):
        m.add(s, t)
    fit = m.fit()
    assert fit.rate == pytest.approx(48003.0, rel=2e-5)
    assert fit.to_monotonic(256 * 300) == pytest.approx(100.0 + 256 * 300 / 48003.0, abs=2e-4)


def test_few_points_use_the_nominal_rate_and_a_burst_of_bad_stamps_is_rejected():
    m = SampleTimeMap(48000)
    assert m.fit() is None
    m.add(0, 5.0)
    assert m.fit().rate == 48000.0
    bad = SampleTimeMap(48000)
    for i in range(64):
        bad.add(i * 256, i * 256 / 40000)  # 17 % off: not believable
    assert bad.fit().rate == 48000.0


def test_fit_is_reworked_every_refit_points_and_after_reset():
    m = SampleTimeMap(48000)
    points = stamps(48000.0, 100)
    for s, t in points[:50]:
        m.add(s, t)
    first = m.fit()
    for s, t in points[50 : 50 + REFIT - 1]:
        m.add(s, t)
    assert m.fit() is first  # cached: too few new points
    m.add(*points[50 + REFIT - 1])
    assert m.fit() is not first and m.fit().s0 == points[50 + REFIT - 1][0]
    m.reset()
    assert m.fit() is None
