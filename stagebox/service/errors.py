"""Why the service cannot start."""

from __future__ import annotations


class ServiceError(Exception):
    """The service cannot start: the message says which subsystem and why."""
