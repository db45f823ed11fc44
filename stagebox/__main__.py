"""`python -m stagebox` runs the command line."""

from stagebox.cli import main

raise SystemExit(main())
