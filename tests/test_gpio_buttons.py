"""Buttons: debounce, long press and repeat on made-up edge times, and commands to the engine."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from gpio_helpers import PINMAP_TEXT, FakeClock, edit_pin

from stagebox.gpio import sim
from stagebox.gpio.buttons import (
    COMMANDS,
    DEFAULT_ACTIONS,
    ButtonAction,
    ButtonError,
    Buttons,
)
from stagebox.gpio.pinmap import BUTTON_NAMES, OPTIONAL_BUTTONS, load_pinmap, parse_pinmap

T0 = 1000.0  # seconds, monotonic: when each test's crew member walks up


def make(pinmap=None, **options):
    clock = FakeClock(T0)
    backend = sim.Backend(clock=clock)
    sent: list[str] = []
    buttons = Buttons(backend, pinmap or load_pinmap(), sent.append, clock=clock, **options)
    return backend, buttons, sent


def test_default_mapping_covers_every_button_with_engine_commands():
    assert set(DEFAULT_ACTIONS) == set(BUTTON_NAMES)
    # ROOM TONE and WILD are optional: a stage that wants them adds their pins
    assert set(load_pinmap().buttons) == set(BUTTON_NAMES) - set(OPTIONAL_BUTTONS)
    assert DEFAULT_ACTIONS["circle"] == ButtonAction("take circle", long_press="take uncircle")
    for action in DEFAULT_ACTIONS.values():
        assert action.press in COMMANDS
        assert action.long_press is None or action.long_press in COMMANDS


def test_bounces_within_the_window_give_one_press():
    backend, buttons, sent = make(debounce_ms=20)
    last = backend.bounce("safe", True, T0, edges=6, spacing=0.002)  # 12 ms of chatter
    assert buttons.service(last + 0.019) == []  # still inside the window after the last edge
    gestures = buttons.service(last + 0.021)
    assert sent == ["mode safe"]
    assert gestures[0].time == pytest.approx(last + 0.020)
    last = backend.bounce("safe", False, T0 + 0.3, edges=5, spacing=0.003)
    buttons.service(last + 1)
    assert sent == ["mode safe"]  # the release says nothing
    backend.bounce("safe", True, T0 + 2.0, edges=3)
    buttons.service(T0 + 3)
    assert sent == ["mode safe", "mode safe"]


def test_spike_shorter_than_the_window_is_no_press():
    backend, buttons, sent = make(debounce_ms=20)
    backend.press("rehearse", T0)
    backend.release("rehearse", T0 + 0.005)
    buttons.service(T0 + 1)
    assert sent == []


def test_active_low_press_drives_the_pin_low():
    backend, _, _ = make()
    assert backend.level("record") is True  # pulled up at rest
    backend.press("record", T0)
    assert backend.level("record") is False


def test_active_high_button_works_too():
    text = edit_pin(edit_pin(PINMAP_TEXT, "safe", "active", '"high"'), "safe", "pull", '"down"')
    backend, buttons, sent = make(pinmap=parse_pinmap(text))
    assert backend.level("safe") is False  # pulled down at rest
    backend.hold("safe", T0, 0.1)
    buttons.service(T0 + 1)
    assert sent == ["mode safe"]


def test_circle_short_press_acts_on_release_long_press_uncircles():
    backend, buttons, sent = make(debounce_ms=20, long_press_ms=800)
    backend.hold("circle", T0, 0.3)
    assert buttons.service(T0 + 0.2) == []  # held: cannot know yet whether short or long
    buttons.service(T0 + 1)
    assert sent == ["take circle"]
    backend.press("circle", T0 + 2)
    gestures = buttons.service(T0 + 2.81)
    assert sent == ["take circle", "take uncircle"]  # fired while still held
    assert gestures[0].time == pytest.approx(T0 + 2.8)
    backend.release("circle", T0 + 4)
    buttons.service(T0 + 5)
    assert sent == ["take circle", "take uncircle"]  # no short press after a long one


def test_long_record_drops_to_rehearse():
    backend, buttons, sent = make()
    backend.hold("record", T0, 0.1)
    backend.hold("record", T0 + 1, 1.5)
    buttons.service(T0 + 5)
    assert sent == ["mode record", "mode rehearse"]


def test_release_bounce_at_the_long_press_moment_is_a_short_press():
    # Let go 10 ms before the long-press time; the release settles 10 ms after it.
    backend, buttons, sent = make(debounce_ms=20, long_press_ms=800)
    backend.press("circle", T0)
    backend.release("circle", T0 + 0.790)
    buttons.service(T0 + 1)
    assert sent == ["take circle"]


def test_bounce_during_a_hold_still_gives_the_long_press():
    backend, buttons, sent = make(debounce_ms=20, long_press_ms=800)
    backend.press("circle", T0)
    backend.release("circle", T0 + 0.795)  # a contact chatter across the deadline...
    backend.press("circle", T0 + 0.802)  # ...that ends pressed: still held
    gestures = buttons.service(T0 + 0.9)
    assert sent == ["take uncircle"]
    assert gestures[0].time == pytest.approx(T0 + 0.822)  # once the chatter has settled


def test_held_next_cue_repeats():
    backend, buttons, sent = make(debounce_ms=20, long_press_ms=800, repeat_ms=250)
    backend.hold("next_cue", T0, 1.2)
    gestures = buttons.service(T0 + 3)
    # Press at settle, repeats at 0.8 and 1.05 s; released at 1.2 s before the next one.
    assert [g.time - T0 for g in gestures] == pytest.approx([0.02, 0.8, 1.05])
    assert sent == ["cue next"] * 3
    assert [g.kind for g in gestures] == ["press", "repeat", "repeat"]


def test_buttons_are_independent():
    backend, buttons, sent = make()
    backend.press("circle", T0)
    backend.hold("next_cue", T0 + 0.1, 0.1)
    backend.hold("previous_cue", T0 + 0.3, 0.1)
    backend.release("circle", T0 + 0.5)
    buttons.service(T0 + 2)
    assert sent == ["cue next", "cue previous", "take circle"]


def test_stuck_button_at_start_is_ignored_until_released(caplog):
    clock = FakeClock(T0)
    backend = sim.Backend(clock=clock)
    pinmap = load_pinmap()
    sent: list[str] = []
    # Pre-claim with the safe button held, as a stuck contact would read at start.
    original = backend.claim_input

    def claim_held(pin, on_edge):
        original(pin, on_edge)
        if pin.name == "safe":
            backend.pins["safe"].level = pin.level_for(True)

    backend.claim_input = claim_held
    with caplog.at_level(logging.WARNING, logger="stagebox.gpio"):
        buttons = Buttons(backend, pinmap, sent.append, clock=clock)
    assert "button safe reads pressed at start" in caplog.text
    buttons.service(T0 + 5)
    backend.release("safe", T0 + 6)
    buttons.service(T0 + 7)
    assert sent == []
    backend.hold("safe", T0 + 8, 0.1)
    buttons.service(T0 + 9)
    assert sent == ["mode safe"]


def test_every_press_is_logged_and_a_failing_submit_does_not_kill_buttons(caplog):
    clock = FakeClock(T0)
    backend = sim.Backend(clock=clock)
    sent = []

    def submit(command):
        sent.append(command)
        if len(sent) == 1:
            raise ConnectionError("engine queue full")

    buttons = Buttons(backend, load_pinmap(), submit, clock=clock)
    with caplog.at_level(logging.INFO, logger="stagebox.gpio"):
        backend.hold("safe", T0, 0.1)
        backend.hold("rehearse", T0 + 1, 0.1)
        buttons.service(T0 + 2)
    assert sent == ["mode safe", "mode rehearse"]
    assert "button safe press: mode safe" in caplog.text
    assert "button rehearse press: mode rehearse" in caplog.text
    assert "engine queue full" in caplog.text


def test_bad_mapping_and_timing_are_refused():
    backend = sim.Backend()
    pinmap = load_pinmap()
    with pytest.raises(ButtonError, match=r"button 'safe', press: unknown command 'mode panic'"):
        Buttons(backend, pinmap, print, actions={"safe": ButtonAction("mode panic")})
    with pytest.raises(ButtonError, match="unknown button 'stop'"):
        Buttons(backend, pinmap, print, actions={"stop": ButtonAction("mode safe")})
    with pytest.raises(ButtonError, match="repeating button cannot also have a long press"):
        Buttons(
            backend, pinmap, print, actions={"safe": ButtonAction("mode safe", "cue next", True)}
        )
    with pytest.raises(ButtonError, match="debounce_ms"):
        Buttons(backend, pinmap, print, debounce_ms=0)
    with pytest.raises(ButtonError, match="long_press_ms"):
        Buttons(backend, pinmap, print, debounce_ms=50, long_press_ms=100)


def _threaded():
    """A sim backend, a list of submitted commands, an event set on each, and the submit."""
    backend = sim.Backend()
    got = threading.Event()
    sent: list[str] = []

    def submit(command):
        sent.append(command)
        got.set()

    return backend, sent, got, submit


def test_buttons_thread_delivers_presses():
    backend, sent, got, submit = _threaded()
    with Buttons(backend, load_pinmap(), submit, debounce_ms=5):
        now = time.monotonic()
        backend.press("next_cue", now)
        assert got.wait(5), "the button thread never submitted the press"
        backend.release("next_cue", time.monotonic())
    assert sent[0] == "cue next"


def test_buttons_thread_waits_for_an_edge_stamped_in_the_future():
    """A queued edge stamped 0.4 s ahead (the simulator can do that) is handled when its
    time comes, and the thread sleeps until then instead of spinning (it used to burn a
    core: the process's CPU time over the wait is the measure)."""
    backend, sent, got, submit = _threaded()
    with Buttons(backend, load_pinmap(), submit, debounce_ms=5):
        at = time.monotonic() + 0.4
        cpu = time.process_time()
        backend.press("next_cue", at)
        assert got.wait(5), "the button thread never submitted the press"
        handled = time.monotonic()
        cpu = time.process_time() - cpu
        backend.release("next_cue", time.monotonic())
    assert sent[0] == "cue next"
    assert handled >= at
    assert cpu < 0.15, f"the button thread spun: {cpu:.2f} s of CPU in a 0.4 s wait"
