"""The simulated stage: what stands in for the DAW, the actor and the sound card.

- `stagefeed`: the DAW's loop as a capture stream (LTC on one channel, the actor's lines on
  another, loop wraps, relocates, dropouts, varispeed), with the truth of every pass;
- `voice`: the actor, a synthetic voice speaking each line on its cue;
- `audio`: the `sim` audio backend (`audio.backend = "sim"`), which plays a feed or a WAV as
  the capture stream, paced or as fast as the CPU allows.

The demo, the tests and `stagebox feed` use it; the stage's own code (audio, engine, stage)
never imports it, except `stagebox.audio.open_backend("sim")`, lazily.
"""
