"""The stage's lamps, one vocabulary from the stage's decisions to the pin map.

The stage decides lamps in sample time (`light` events naming its lamp, `cue` or `record`);
the engine turns each period's decisions into a `LampPlan` of pin-map lamps; the GPIO
package's lamp driver carries the plan out at the right monotonic moment. Nothing here
touches GPIO: the stage and the engine never import the hardware.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from stagebox import events as ev
from stagebox.events import StageEvent


class Lamp(enum.StrEnum):
    """A lamp of the stage, by its name in the pin map (`hardware/pinmap.toml`)."""

    CUE = "cue_light"  # in the booth: the line is coming (streamer) or on (TC-in..TC-out)
    RECORD = "record_light"  # over the stage door: a take is being recorded
    STANDBY = "standby_light"  # the stage is in record mode


# The stage's own names for the lamps it decides (its `light` events and `lights` status).
STAGE_LAMPS: dict[str, Lamp] = {"cue": Lamp.CUE, "record": Lamp.RECORD}


@dataclass(frozen=True)
class LightEvent:
    """Lamp `name` goes to `state` at capture sample `sample`."""

    name: str  # a Lamp (pin-map name): "cue_light", "record_light", "standby_light"
    state: bool  # True = lit
    sample: int  # samples: capture-stream index at which the lamp must be seen to change


@dataclass
class LampPlan:
    """A period's lamp work: drop what was planned before (`cancel`), then plan `events`."""

    cancel: bool = False
    events: list[LightEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.cancel or bool(self.events)


class LampPlanner:
    """Turns the stage's events into lamp plans (the engine runs it on every period).

    Lamps are planned a little ahead of the audio (the stage's look-ahead) so they switch
    on time. When a pass ends early (loop wrap, relocate, LTC lost), what was planned for
    after that moment is stale: the driver's plan is dropped, and so are switch-ons decided
    before the end for moments after it; the stage's switch-offs at the end remain. With
    `standby_light` the stand-by lamp is lit while the stage is in record mode.
    """

    def __init__(self, standby_light: bool = False) -> None:
        self.standby_light = standby_light
        self._plan = LampPlan()

    def add(self, event: StageEvent) -> None:
        """One stage event, in the order the stage decided them."""
        plan = self._plan
        if event.event == ev.MODE:
            if self.standby_light:
                on = event.mode == "record"
                plan.events.append(LightEvent(Lamp.STANDBY, on, event.sample))
        elif event.event == ev.LIGHT:
            lamp = STAGE_LAMPS[event.name]
            plan.events.append(LightEvent(lamp, event.state, event.sample))
        elif event.event in (ev.PASS_END, ev.JUMP, ev.UNLOCK):  # the pass ended at its sample
            plan.cancel = True
            plan.events = [e for e in plan.events if not (e.state and e.sample > event.sample)]

    def take(self) -> LampPlan:
        """The plan collected since the last call (and a fresh one begun)."""
        plan, self._plan = self._plan, LampPlan()
        return plan


def carry_out(driver, plan: LampPlan, now: bool = False) -> None:
    """Hand `plan` to a lamp driver (`stagebox.gpio.lamps.LampDriver`); `now`: switch each
    event at once, in sample order (no audio flows, so there is no moment to aim at)."""
    if plan.cancel or now:
        driver.cancel()
    if not plan.events:
        return
    if now:
        for event in sorted(plan.events, key=lambda e: e.sample):
            driver.set(event.name, event.state, event.sample)
    else:
        driver.plan(plan.events)
