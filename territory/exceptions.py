"""Errors and warnings: one tree for everything the tool can refuse."""

from __future__ import annotations


class TerritoryError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(TerritoryError, ValueError):
    """An input file, row, column or config value is not acceptable.

    The message is one sentence naming the file, row and column, quoting the value and saying
    what would be accepted.
    """


class ConfigError(InputError):
    """A plan.toml key or value is not acceptable."""


class GeocodingError(TerritoryError):
    """Customers or reps could not be located."""


class InfeasibleError(TerritoryError):
    """A problem has no solution under its constraints (and no best effort makes sense)."""


class TerritoryWarning(UserWarning):
    """Something the user should know but that does not stop the run."""


def where(file: str, row: int | None = None, column: str | None = None) -> str:
    """Format the 'file, row N, column C' prefix used in every input message."""
    parts = [str(file)]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)
