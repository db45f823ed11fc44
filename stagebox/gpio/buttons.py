"""The crew's buttons: debounced edges turned into engine commands.

Each button's edges arrive with their monotonic time (RPi.GPIO's edge callback, or a test
through the simulator). A `Debouncer` per button is a pure state machine over those times: a
change counts once the contact has been quiet for `debounce_ms` after its last edge, so any
burst of bounces inside the window is one press, and a spike shorter than the window is none.
Long presses and auto-repeat are deadlines on the same timeline. Nothing here sleeps to
measure time, so tests drive it with made-up timestamps.

Every recognised press reaches the engine as a command string through `submit(command)` and is
logged on the `stagebox.gpio` logger. The default mapping (docs/lights-and-buttons.md):

    button        press            long press (held 0.8 s)
    record        mode record      mode rehearse   (hold REC to drop out of record, keep rolling)
    safe          mode safe        -
    rehearse      mode rehearse    -
    next_cue      cue next         repeats every 0.25 s while held
    previous_cue  cue previous     repeats every 0.25 s while held
    circle        take circle      take uncircle
    talkback      phones talkback on while held, phones talkback off on release

A button with a long-press command acts on release when released before the long-press time
(it cannot know earlier which one the crew meant); the others act on the press itself. A
hold button (talkback) sends one command on the press and another on the release.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from stagebox.gpio.backend import GPIOBackend, GPIOError
from stagebox.gpio.pinmap import BUTTON_NAMES, PinMap
from stagebox.worker import Worker

log = logging.getLogger("stagebox.gpio")

# The command strings the engine accepts from buttons.
COMMANDS = (
    "mode record",
    "mode rehearse",
    "mode safe",
    "mode review",
    "review next",
    "review previous",
    "cue next",
    "cue previous",
    "take circle",
    "take uncircle",
    "phones talkback on",
    "phones talkback off",
    "roomtone",  # start room tone, or stop it early
    "wild",  # start a wild line's count-in, or stop it
)

DEBOUNCE_MS = 20.0  # ms: contacts of panel push-buttons settle in 1-10 ms
LONG_PRESS_MS = 800.0  # ms: held this long is a long press
REPEAT_MS = 250.0  # ms: auto-repeat period of a held repeating button


class ButtonError(GPIOError):
    """A bad button mapping or timing; the message names the button and the field."""


@dataclass(frozen=True)
class ButtonAction:
    """What a button sends: on a press, on a long press, or repeatedly while held."""

    press: str  # command on a (short) press
    long_press: str | None = None  # command once held for the long-press time
    repeat: bool = False  # held past the long-press time: `press` again every repeat period
    release: str | None = None  # command on the release (a hold button: talkback)

    def validate(self, button: str) -> None:
        fields = (("press", self.press), ("long_press", self.long_press), ("release", self.release))
        for field, command in fields:
            if command is not None and command not in COMMANDS:
                raise ButtonError(
                    f"button {button!r}, {field}: unknown command {command!r} "
                    f"(commands: {', '.join(COMMANDS)})"
                )
        if self.repeat and self.long_press is not None:
            raise ButtonError(
                f"button {button!r}: a repeating button cannot also have a long press"
            )
        if self.release is not None and (self.repeat or self.long_press is not None):
            raise ButtonError(
                f"button {button!r}: a hold button (release) has no long press or repeat"
            )


DEFAULT_ACTIONS: dict[str, ButtonAction] = {
    "record": ButtonAction("mode record", long_press="mode rehearse"),
    "safe": ButtonAction("mode safe"),
    "rehearse": ButtonAction("mode rehearse", long_press="mode review"),
    "next_cue": ButtonAction("cue next", repeat=True),
    "previous_cue": ButtonAction("cue previous", repeat=True),
    "circle": ButtonAction("take circle", long_press="take uncircle"),
    "talkback": ButtonAction("phones talkback on", release="phones talkback off"),
    "roomtone": ButtonAction("roomtone"),  # optional buttons: wired where the pin map has them
    "wild": ButtonAction("wild"),
}


@dataclass(frozen=True)
class Gesture:
    """A recognised press: which button, what kind, the command and when (monotonic s)."""

    button: str
    kind: str  # "press" | "long press" | "repeat" | "release"
    command: str
    time: float  # seconds, monotonic: when the gesture was recognised


class Debouncer:
    """One button's edges -> gestures. Pure: feed `edge()` and `advance()` times in order."""

    def __init__(
        self,
        name: str,
        action: ButtonAction,
        debounce: float,  # seconds
        long_press: float,  # seconds
        repeat_interval: float,  # seconds
        pressed: bool = False,  # the settled state at start
    ) -> None:
        self.name = name
        self.action = action
        self.debounce = debounce
        self.long_press = long_press
        self.repeat_interval = repeat_interval
        self.raw = pressed  # level after the last edge, as pressed/released
        self.pressed = pressed  # the settled (debounced) state
        self._settle_at: float | None = None  # seconds: when the contact counts as quiet
        self._held_since: float | None = None  # seconds: last edge of the press burst
        self._long_at: float | None = None  # seconds: long-press or next-repeat deadline
        self._long_fired = False
        self._long_deferred = False  # the deadline came while the contact was mid-bounce
        # A button held at start (stuck, or wired to the wrong level) does nothing until
        # released and pressed again.
        self._ignore_until_release = pressed

    def edge(self, pressed: bool, t: float) -> None:
        """The contact changed to `pressed` at monotonic `t`."""
        self.raw = pressed
        self._settle_at = t + self.debounce
        if pressed:
            self._held_since = t

    def deadline(self) -> float | None:
        """The next time at which `advance()` may produce something."""
        times = [x for x in (self._settle_at, self._long_at) if x is not None]
        return min(times) if times else None

    def advance(self, now: float) -> list[Gesture]:
        """Everything recognised up to monotonic `now`, in time order."""
        out: list[Gesture] = []
        while True:
            deadline = self.deadline()
            if deadline is None or deadline > now:
                return out
            if self._settle_at is not None and self._settle_at == deadline:
                self._settle(deadline, out)
            else:
                self._long(deadline, out)

    def _settle(self, t: float, out: list[Gesture]) -> None:
        self._settle_at = None
        if self.raw == self.pressed:
            # A spike shorter than the window, or bounces that ended where they began: no
            # change, but a long press that fell due during the bounce is due now.
            if self._long_deferred:
                self._long_deferred = False
                self._long(t, out)
            return
        self._long_deferred = False
        self.pressed = self.raw
        a = self.action
        if self.pressed:
            if self._ignore_until_release:
                return
            start = self._held_since if self._held_since is not None else t
            self._long_fired = False
            if a.long_press is not None:
                self._long_at = start + self.long_press
            else:
                out.append(Gesture(self.name, "press", a.press, t))
                if a.repeat:
                    self._long_at = start + self.long_press
        else:
            if self._ignore_until_release:
                self._ignore_until_release = False
                return
            if a.long_press is not None and not self._long_fired:
                out.append(Gesture(self.name, "press", a.press, t))
            if a.release is not None:
                out.append(Gesture(self.name, "release", a.release, t))
            self._long_at = None

    def _long(self, t: float, out: list[Gesture]) -> None:
        a = self.action
        if not self.raw:
            # Released in the last debounce window: the settle decides short or long.
            self._long_at = None
            self._long_deferred = True
            return
        if a.repeat:
            out.append(Gesture(self.name, "repeat", a.press, t))
            self._long_at = t + self.repeat_interval
        else:
            out.append(Gesture(self.name, "long press", a.long_press or a.press, t))
            self._long_fired = True
            self._long_at = None


class Buttons(Worker):
    """The pin map's buttons on a backend, sending commands to `submit`.

    Edges are queued by the backend's callback (any thread) and handled by `service(now)`,
    which the buttons' own thread calls at each edge and deadline; `submit` is called from that
    thread, never from the GPIO library's callback. A failing `submit` is logged and the
    buttons keep working.
    """

    name = "stagebox-buttons"
    label = "the button thread"
    error_class = ButtonError

    def __init__(
        self,
        backend: GPIOBackend,
        pinmap: PinMap,
        submit: Callable[[str], object],
        *,
        actions: dict[str, ButtonAction] | None = None,
        debounce_ms: float = DEBOUNCE_MS,
        long_press_ms: float = LONG_PRESS_MS,
        repeat_ms: float = REPEAT_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < debounce_ms <= 200:
            raise ButtonError(f"debounce_ms {debounce_ms} is outside 0..200 ms")
        if long_press_ms < 3 * debounce_ms or long_press_ms > 10000:
            raise ButtonError(
                f"long_press_ms {long_press_ms} must be 3x debounce_ms ({3 * debounce_ms}) "
                "to 10000 ms"
            )
        if not 50 <= repeat_ms <= 5000:
            raise ButtonError(f"repeat_ms {repeat_ms} is outside 50..5000 ms")
        super().__init__()
        actions = dict(DEFAULT_ACTIONS if actions is None else actions)
        for name, action in actions.items():
            if name not in BUTTON_NAMES:
                raise ButtonError(
                    f"unknown button {name!r} in the mapping (buttons: {', '.join(BUTTON_NAMES)})"
                )
            action.validate(name)
        self.backend = backend
        self.submit = submit
        self.clock = clock
        self.history: list[Gesture] = []  # every gesture sent, for the monitor and tests
        self._edges: deque[tuple[float, str, bool]] = deque()
        self._cond = threading.Condition()
        self.debouncers: dict[str, Debouncer] = {}
        claimed = []
        for name, pin in pinmap.buttons.items():
            action = actions.get(name)
            if action is None:
                log.info("button %s is wired but has no command: ignored", name)
                continue
            try:
                backend.claim_input(pin, self._edge_callback(name, pin))
            except GPIOError:
                for other in claimed:  # all buttons or none: hand back the ones claimed
                    backend.release_input(other)
                raise
            claimed.append(pin)
            held = pin.is_on(backend.read(pin))
            if held:
                log.warning("button %s reads pressed at start: stuck, or wired wrong?", name)
            self.debouncers[name] = Debouncer(
                name,
                action,
                debounce_ms / 1000,
                long_press_ms / 1000,
                repeat_ms / 1000,
                pressed=held,
            )

    def _edge_callback(self, name: str, pin) -> Callable[[bool, float], None]:
        def on_edge(level: bool, t: float) -> None:
            with self._cond:
                self._edges.append((t, name, pin.is_on(level)))
                self._cond.notify_all()

        return on_edge

    def next_deadline(self) -> float | None:
        times = [d for b in self.debouncers.values() if (d := b.deadline()) is not None]
        return min(times) if times else None

    def service(self, now: float | None = None) -> list[Gesture]:
        """Handle queued edges and deadlines up to monotonic `now`; submit the commands."""
        now = self.clock() if now is None else now
        gestures: list[Gesture] = []
        while True:
            with self._cond:
                edge = self._edges[0] if self._edges else None
            deadline = self.next_deadline()
            edge_t = edge[0] if edge is not None else None
            if edge_t is not None and edge_t <= now and (deadline is None or edge_t < deadline):
                with self._cond:
                    self._edges.popleft()
                _, name, pressed = edge
                self.debouncers[name].edge(pressed, edge_t)
                continue
            if deadline is not None and deadline <= now:
                for debouncer in self.debouncers.values():
                    gestures.extend(debouncer.advance(deadline))
                continue
            break
        for gesture in gestures:
            self._send(gesture)
        return gestures

    def _send(self, gesture: Gesture) -> None:
        self.history.append(gesture)
        log.info("button %s %s: %s", gesture.button, gesture.kind, gesture.command)
        try:
            self.submit(gesture.command)
        except Exception:
            log.exception("button %s: submitting %r failed", gesture.button, gesture.command)

    # -- life cycle ------------------------------------------------------------------------

    def run(self) -> None:
        while not self.stopping.is_set():
            self.service()
            with self._cond:
                if self.stopping.is_set():
                    continue
                # Sleep until the next thing due: a debounce deadline, or a queued edge
                # stamped later than now (a simulated edge can be; waking for it at once
                # would spin), at most 0.5 s; a new edge wakes the wait.
                now = self.clock()
                wake = [now + 0.5]
                if self._edges:
                    wake.append(self._edges[0][0])
                deadline = self.next_deadline()
                if deadline is not None:
                    wake.append(deadline)
                timeout = min(wake) - now
                if timeout > 0:
                    self._cond.wait(timeout)

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


def start_buttons(
    backend: GPIOBackend, pinmap: PinMap, submit: Callable[[str], object], **settings
) -> Buttons | None:
    """The running buttons, or None when they cannot be set up: the stage goes on without.

    A button that cannot be watched (the GPIO library refuses edge detection, a pin is held
    by another program) is reported on the `stagebox.gpio` logger the way a lamp's failure is,
    `buttons (<backend>): GPIO 5 (record): cannot watch for presses: <why>`, and none of the
    buttons is claimed: the lamps, the take recording and the control socket keep working,
    and the crew drives the stage from `stagebox mode|cue|take` until the fault is mended.
    """
    try:
        return Buttons(backend, pinmap, submit, **settings).start()
    except GPIOError as exc:
        log.error("buttons (%s): %s; carrying on without buttons", backend.name or "gpio", exc)
        return None
