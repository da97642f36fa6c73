"""The one error type of the governance package."""
from __future__ import annotations


class GovernanceError(ValueError):
    """A configuration or input problem worth one clear line to the user (no traceback needed)."""
