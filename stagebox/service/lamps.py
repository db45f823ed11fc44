"""The stage's lamp events handed to the lamp driver."""

from __future__ import annotations

from stagebox import events as ev
from stagebox.events import StageEvent


def plan_lamps(
    driver, events: list[StageEvent], *, standby_light: bool = False, now: bool = False
) -> None:
    """Hand a period's stage events to the lamp driver (`now`: switch them at once).

    The stage's lamp `cue` is the pin map's `cue_light`, `record` is `record_light`; with
    `standby_light` the stand-by lamp is lit while the stage is in record mode.

    Lamps are planned a little ahead of the audio (the stage's look-ahead) so they switch
    on time. When a pass ends early (loop wrap, relocate, LTC lost), what was planned for
    after that moment is stale: the driver's plan is dropped, and so are switch-ons decided
    before the end for moments after it; the stage's switch-offs at the end remain.
    """
    from stagebox.gpio.lamps import LightEvent

    planned: list[LightEvent] = []
    for event in events:
        if event.event == ev.MODE:
            if standby_light:
                on = event.data["mode"] == "record"
                planned.append(LightEvent("standby_light", on, event.sample))
        elif event.event == ev.LIGHT:
            name = f"{event.data['name']}_light"
            planned.append(LightEvent(name, event.data["state"], event.sample))
        elif event.event in (ev.PASS_END, ev.JUMP, ev.UNLOCK):  # the pass ended at event.sample
            driver.cancel()
            planned = [e for e in planned if not (e.state and e.sample > event.sample)]
    if planned and now:
        for event in sorted(planned, key=lambda e: e.sample):
            driver.set(event.name, event.state, event.sample)
    elif planned:
        driver.plan(planned)
