"""Lamps: sample-timed switching, active levels, replay, and darkness on every way out."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from gpio_helpers import ROOT, FakeClock, pinmap_with

from stagebox.gpio import sim
from stagebox.gpio.backend import GPIOError, open_backend
from stagebox.gpio.lamps import SPIN_MARGIN, SPIN_STEP, LampDriver, LampError, Lamps, LightEvent
from stagebox.gpio.pinmap import load_pinmap
from stagebox.signals import sigterm_exits
from stagebox.timemap import TimeFit

RATE = 48000  # Hz


def make(clock=None, pinmap=None, **driver_options):
    clock = clock or FakeClock()
    backend = sim.Backend(clock=clock)
    lamps = Lamps(backend, pinmap or load_pinmap())
    driver = LampDriver(lamps, clock=clock, sleep=clock.sleep, **driver_options)
    return clock, backend, lamps, driver


def test_backend_chosen_by_name_without_fallback():
    assert isinstance(open_backend("sim"), sim.Backend)
    with pytest.raises(GPIOError, match="unknown GPIO backend 'gpiozero'.*rpigpio, sim"):
        open_backend("gpiozero")
    # Off a Pi the real backend fails loudly instead of quietly becoming the simulator.
    with pytest.raises(GPIOError, match="rpigpio"):
        open_backend("rpigpio")


def test_lamps_are_claimed_dark():
    _, backend, lamps, _ = make()
    for name in lamps.names:
        backend.assert_states(name, [False])
        assert backend.lit(name) is False


@pytest.mark.parametrize("trim", [0.0, 0.012])
def test_planned_lamp_switches_at_fit_moment_minus_trim(trim):
    clock, backend, _, driver = make(relay_lag_trim=trim)
    # The ADC runs 20 ppm fast against the monotonic clock; sample 96000 is at t = 1000.5.
    fit = TimeFit(s0=96000, t0=1000.5, rate=RATE * 1.00002)
    driver.update_fit(fit)
    events = [
        LightEvent("cue_light", True, 120000),
        LightEvent("record_light", True, 144000),
        LightEvent("cue_light", False, 144000 + 4800),
        LightEvent("record_light", False, 200000),
    ]
    driver.plan(reversed(events))  # any order: they switch in sample order
    assert driver.run_due() == 4
    switched = []
    for name in ("cue_light", "record_light"):
        switched += [(t, name, s, on) for s, t, on in backend.lamp_history(name)[1:]]
    switched.sort()
    assert [(n, s, on) for _, n, s, on in switched] == [(e.name, e.sample, e.state) for e in events]
    for t, _, sample, _ in switched:
        due = fit.to_monotonic(sample) - trim
        assert due - 1e-9 <= t <= due + 1e-9
    # The wait was precise: a coarse sleep ends SPIN_MARGIN early, the rest in short steps.
    assert max(clock.sleeps) > 0.1
    short = [s for s in clock.sleeps if s <= SPIN_MARGIN + 1e-12]
    assert short and max(short) <= SPIN_STEP + 1e-12


def test_new_fit_reaims_pending_events():
    clock, backend, _, driver = make()
    driver.update_fit(TimeFit(0, 1000.0, RATE))
    driver.plan([LightEvent("cue_light", True, RATE)])
    later = TimeFit(0, 1000.25, RATE)  # a better fit says the stream runs 250 ms later
    driver.update_fit(later)
    driver.run_due()
    (_, t, on) = backend.lamp_history("cue_light")[-1]
    assert on and t == pytest.approx(later.to_monotonic(RATE), abs=1e-9)


def test_late_and_fitless_events_switch_at_once():
    clock, backend, _, driver = make()
    driver.plan([LightEvent("cue_light", True, 10)])  # no fit yet
    driver.run_due()
    assert backend.lamp_history("cue_light")[-1] == (10, 1000.0, True)
    driver.update_fit(TimeFit(0, 900.0, RATE))  # sample 20 is 100 s in the past
    driver.plan([LightEvent("cue_light", False, 20)])
    driver.run_due()
    assert backend.lamp_history("cue_light")[-1] == (20, 1000.0, False)
    assert driver.max_late == pytest.approx(100.0, abs=0.01)


def test_cancel_drops_the_plan():
    _, backend, _, driver = make()
    driver.update_fit(TimeFit(0, 1000.0, RATE))
    driver.plan([LightEvent("record_light", True, RATE)])
    assert driver.cancel() == 1
    assert driver.run_due() == 0
    backend.assert_states("record_light", [False])


def test_unknown_lamp_is_an_error_and_unwired_standby_is_skipped():
    _, _, _, driver = make()
    with pytest.raises(LampError, match="unknown lamp 'exit_sign'"):
        driver.plan([LightEvent("exit_sign", True, 0)])
    pinmap = load_pinmap()
    no_standby = type(pinmap)(
        pinmap.path, tuple(p for p in pinmap.pins if p.name != "standby_light")
    )
    _, backend, lamps, driver = make(pinmap=no_standby)
    driver.plan([LightEvent("standby_light", True, 0)])
    driver.run_due()
    assert "standby_light" not in backend.pins


def test_active_low_lamp_is_inverted():
    pinmap = pinmap_with("cue_light", "active", '"low"')
    _, backend, lamps, driver = make(pinmap=pinmap)
    assert backend.level("cue_light") is True  # claimed dark: held high
    driver.set("cue_light", True, 5)
    assert backend.level("cue_light") is False  # lit: pulled low
    assert backend.level("record_light") is False  # the active-high one is unaffected
    driver.set("record_light", True, 6)
    assert backend.level("record_light") is True
    backend.assert_states("cue_light", [(None, False), (5, True)])
    driver.stop()
    assert backend.level("cue_light") is True and backend.level("record_light") is False


def test_replay_history_equals_engine_events_to_the_sample():
    # Replay: the fit is file time, so nothing waits; the history keeps each event's sample.
    clock, backend, _, driver = make(replay=True)
    events = []
    for pass_start in range(0, 10 * RATE, 2 * RATE):  # five loop passes
        events += [
            LightEvent("cue_light", True, pass_start + 1234),
            LightEvent("record_light", True, pass_start + 48000 + 17),
            LightEvent("cue_light", False, pass_start + 48000 + 17),
            LightEvent("record_light", False, pass_start + 90001),
        ]
    driver.start()
    for i in range(0, len(events), 3):  # the engine hands them over period by period
        driver.plan(events[i : i + 3])
    driver.stop()
    assert clock.sleeps == []
    for name in ("cue_light", "record_light"):
        history = [(s, on) for s, _, on in backend.lamp_history(name)]
        expected = [(e.sample, e.state) for e in events if e.name == name]
        assert history[1 : 1 + len(expected)] == expected
        assert history[-1] == (None, False)  # and dark after stop


def test_all_off_on_stop_and_on_exception_in_owner():
    _, backend, _, driver = make()
    with pytest.raises(ZeroDivisionError), driver:
        driver.set("cue_light", True)
        driver.set("record_light", True)
        assert backend.lit("record_light")
        1 / 0  # noqa: B018 (the owner crashes while the lamps are lit)
    assert not backend.lit("cue_light") and not backend.lit("record_light")


def test_thread_error_is_surfaced_and_lamps_go_dark():
    class FailingBackend(sim.Backend):
        fail = False

        def write(self, pin, level, sample=None):
            if self.fail and level == pin.level_for(True):
                raise GPIOError(f"GPIO {pin.bcm} ({pin.name}): cannot switch: bus error")
            super().write(pin, level, sample)

    backend = FailingBackend()
    lamps = Lamps(backend, load_pinmap())
    driver = LampDriver(lamps).start()
    driver.set("record_light", True)
    backend.fail = True
    driver.update_fit(TimeFit(0, time.monotonic(), RATE))
    driver.plan([LightEvent("cue_light", True, 0)])
    deadline = time.monotonic() + 5
    while driver.error is None and time.monotonic() < deadline:
        time.sleep(0.005)
    with pytest.raises(LampError, match="lamp thread failed: GPIO 17 .*bus error"):
        driver.plan([LightEvent("cue_light", False, 1)])
    with pytest.raises(LampError, match="bus error"):
        driver.stop()
    assert not backend.lit("record_light")


def test_thread_with_real_clock_never_switches_early():
    backend = sim.Backend()
    driver = LampDriver(Lamps(backend, load_pinmap()), relay_lag_trim=0.005).start()
    try:
        fit = TimeFit(0, time.monotonic() + 0.02, RATE)
        driver.update_fit(fit)
        events = [LightEvent("cue_light", i % 2 == 0, i * 480) for i in range(6)]  # 10 ms apart
        driver.plan(events)
        deadline = time.monotonic() + 5
        while driver.switched < len(events) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        driver.stop()
    history = backend.lamp_history("cue_light")[1:-1]
    assert [(s, on) for s, _, on in history] == [(e.sample, e.state) for e in events]
    for sample, t, _ in history:
        assert t >= fit.to_monotonic(sample) - 0.005


def _run_script(body: str) -> subprocess.CompletedProcess:
    script = textwrap.dedent(
        """
        import atexit, os, signal, sys
        sys.path.insert(0, {root!r})
        from stagebox.gpio import sim
        from stagebox.gpio.lamps import LampDriver, Lamps
        from stagebox.gpio.pinmap import load_pinmap
        from stagebox.signals import sigterm_exits
        backend = sim.Backend()
        # Registered first, so it runs last: it reports what the lamps were left at.
        atexit.register(lambda: print("lit at exit:", [n for n in backend.pins
                                                       if backend.lit(n)], flush=True))
        driver = LampDriver(Lamps(backend, load_pinmap())).start()
        driver.set("cue_light", True)
        driver.set("record_light", True)
        """
    ).format(root=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", script + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_lamps_dark_at_interpreter_exit():
    result = _run_script("print('leaving with lamps lit', flush=True)\n")
    assert result.returncode == 0, result.stderr
    assert "lit at exit: []" in result.stdout


def test_lamps_dark_on_sigterm():
    result = _run_script(
        """
        with sigterm_exits():
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()
        """
    )
    assert result.returncode == 143, result.stderr
    assert "lit at exit: []" in result.stdout


def test_sigterm_exits_restores_the_previous_handler():
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with sigterm_exits() as installed:
        assert installed
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
