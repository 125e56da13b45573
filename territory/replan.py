"""Re-planning (placeholder while being written)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .calendars import CancelledVisit


@dataclass(frozen=True)
class ReplanOutputs:
    """What a re-plan adds to the plan folder."""

    revision: int
    issued: dt.date
    cancelled: Sequence[CancelledVisit] = ()
    changes: Sequence[dict[str, Any]] = ()
    summary: dict[str, Any] = field(default_factory=dict)
