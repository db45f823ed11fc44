"""The actor's screen: streamers, punches and the line on the HDMI monitor.

- `style.StreamerStyle`: how it looks (plain data, validated).
- `timing`: where the streamer, punch and words are at a frame count (pure arithmetic).
- `renderer.StreamerRenderer`: draws one frame onto any pygame surface.
- `screen`: the display backends, chosen by name (`kmsdrm`, `window`, `dummy`, `png`).
- `process`: the display process loop (vsync, extrapolation to scan-out, HDMI absent).
- `link.DisplayLink`: what the engine uses to start, feed and stop the display process.

Nothing here imports pygame at import time; the renderer and the backends import it when used.
"""

from stagebox.display.style import StreamerStyle, StyleError

__all__ = ["StreamerStyle", "StyleError"]
