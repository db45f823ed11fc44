"""Review: a recorded take played back against picture, chasing the incoming LTC.

- `take`: a take file read whole (audio, bext TimeReference, timecode rate), off the audio path;
- `choose`: which take of a cue to review (the last, the circled one, a number, next/previous);
- `player`: the chasing player the engine asks for each headphone block (audio thread);
- `desk`: the selection, the loads off the audio thread, and what status says ("REVIEW 103
  take 2").
"""
