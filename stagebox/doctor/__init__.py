"""`stagebox doctor`: commissioning on the stage, every part checked in place.

Each check reads the machine through a root folder (fake /proc, /sys, /dev trees in tests,
"/" on the Pi) and simulated devices, and gives PASS, WARN or FAIL with the fix.
"""
