"""`stagebox run`: the service, as the systemd unit runs it.

- `core`: start-up in dependency order, the audio loop, and stop in reverse;
- `commands`: the command table (control socket and buttons) and its application on the
  audio thread;
- `status`: `status`, the systemd status line and the snapshot the display and panel draw;
- `reload`: SIGHUP, all or nothing;
- `recordfault`: why takes cannot be written now, loud everywhere;
- `lampwork`: the GPIO lamps and buttons, and the record light flashing in a record fault;
- `errors`: why the service cannot start.

The lamps are planned by the engine (`stagebox.lamps`) and carried out by the GPIO package's
lamp driver; the service only hands one to the other.
"""

from stagebox.service.core import StageService
from stagebox.service.errors import ServiceError

__all__ = ["ServiceError", "StageService"]
