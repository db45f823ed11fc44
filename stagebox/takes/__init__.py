"""The take path: everything between a punch decision and a Broadcast WAV the crew can trust.

- `punch`: the pre-roll ring buffer and the punch recorder (engine thread, no disk);
- `writer`: the take writer thread, the only code that touches the disk while recording;
- `bwf`: the crash-safe Broadcast WAV file, its marker and its repair;
- `meta`: bext and iXML metadata;
- `names`: take file names from the template;
- `log`: the take log (`takes.jsonl`) and the report;
- `book`: take numbers and log writes for the engine, off the audio path;
- `reconcile`: the log and the folder made one truth (states, adoption of unknown files).
"""
