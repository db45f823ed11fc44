"""The service's lamps and buttons: the GPIO opened from the pin map, the lamp driver fed
each period's plan from the engine, and the record light flashing while takes cannot be
written (the record fault), so the booth sees it at once.

Mixed into `StageService`.
"""

from __future__ import annotations

import contextlib
import time

from stagebox.lamps import Lamp, LampPlan, carry_out
from stagebox.service.errors import ServiceError


class StageLamps:
    """Mixed into StageService: the lamps and buttons on GPIO."""

    def _start_lights(self, stack: contextlib.ExitStack) -> None:
        from stagebox.gpio import backend as gpio_backend
        from stagebox.gpio.buttons import start_buttons
        from stagebox.gpio.lamps import LampDriver, Lamps
        from stagebox.gpio.pinmap import load_pinmap
        from stagebox.hats import pinmap_path

        cfg = self.cfg
        try:
            pinmap = load_pinmap(pinmap_path(cfg))
            gpio = gpio_backend.open_backend(cfg.lights.backend)
            lamps = Lamps(gpio, pinmap)
        except Exception as exc:
            raise ServiceError(f"lights ({cfg.lights.backend}): {exc}") from exc
        self.gpio = gpio
        self.lamps = self._watch(
            LampDriver(lamps, relay_lag_trim=cfg.lights.relay_lag_ms / 1000.0).start()
        )
        stack.callback(self.lamps.stop, raise_error=False)
        if cfg.buttons.enabled:
            buttons = start_buttons(
                gpio,
                pinmap,
                self.submit,
                debounce_ms=cfg.buttons.debounce_ms,
                long_press_ms=cfg.buttons.long_press_ms,
            )
            self.buttons = self._watch(buttons) if buttons is not None else None
            if buttons is not None:
                stack.callback(buttons.stop)

    def _idle_lamps(self) -> None:
        """Switch the lamp events decided while no audio flows, now, in order (whatever was
        planned for audio that will not come is dropped)."""
        plan = self.engine.take_lamp_plan()
        if plan:
            self._plan_lamps(plan, now=True)

    def _flash_record_light(self) -> None:
        """While takes cannot be written in record mode the record light flashes: the booth
        sees at once that nothing is being recorded (the stage's own record lamp plan is held
        off meanwhile: see `_plan_lamps`)."""
        faulted = bool(self.fault.reason) and self.engine.stage.mode == "record"
        if "record_light" not in self.lamps.lamps.names:
            return
        if faulted:
            self.lamps.set("record_light", self.fault.flash_state(time.monotonic()))
            self._flashing = True
        elif self._flashing:
            self._flashing = False
            self.lamps.set("record_light", self.engine.stage.lights.get("record", False))

    def _plan_lamps(self, plan: LampPlan, now: bool = False) -> None:
        if self._flashing:  # the flashing record light is the fault's, not the plan's
            plan.events = [e for e in plan.events if e.name != Lamp.RECORD]
        carry_out(self.lamps, plan, now=now)
