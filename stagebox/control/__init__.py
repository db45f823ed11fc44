"""Control over SSH: a unix socket speaking JSON lines, and its client.

No network port is opened: engineers reach the box over SSH and talk to the socket
(`/run/stagebox/control.sock`, mode 0660, group `stagebox`) through the `stagebox` CLI.
"""

DEFAULT_SOCKET = "/run/stagebox/control.sock"
