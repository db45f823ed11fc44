"""The front panel: a 128x64 SSD1306-class I2C OLED showing timecode, lock, mode, cue, take,
REC and the recording time left.

`font` and `framebuffer` draw text into a 1-bit image, `layout` turns a `StageSnapshot` into
that image, `ssd1306` sends it over I2C (smbus2, imported lazily; a bus object can be injected),
`sim` keeps it in memory, and `panel.FrontPanel` refreshes it on its own thread from the latest
snapshot, carrying on without the device when it is missing.
"""
