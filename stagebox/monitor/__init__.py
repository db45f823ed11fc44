"""`stagebox monitor`: a live view of the stage for an engineer's SSH session.

`render.render(status, width, height)` turns one `status` answer of the control socket into
the lines of a terminal frame (pure: tested without a terminal); `loop.run_monitor` polls the
service ten times a second over one connection and draws the frames with ANSI escape codes.
"""
