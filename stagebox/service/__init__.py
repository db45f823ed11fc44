"""`stagebox run`: the service, as the systemd unit runs it.

- `core`: start-up in dependency order, the audio loop, and stop in reverse;
- `commands`: the command table (control socket and buttons) and its application on the
  audio thread;
- `status`: `status`, the systemd status line and the snapshot the display and panel draw;
- `reload`: SIGHUP, all or nothing;
- `lamps`: stage events to the lamp driver.
"""

from stagebox.service.core import ServiceError, StageService
from stagebox.service.lamps import plan_lamps

__all__ = ["ServiceError", "StageService", "plan_lamps"]
