"""territory: plan field-sales territories and visit routes (Rustenburg & Steenbeek, ch. 6)."""

from .exceptions import (
    ConfigError,
    GeocodingError,
    InfeasibleError,
    InputError,
    TerritoryError,
    TerritoryWarning,
)
from .models import Customer, DayRoute, Design, Plan, Rep, UnscheduledVisit, Visit
from .params import Config

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "Customer",
    "DayRoute",
    "Design",
    "GeocodingError",
    "InfeasibleError",
    "InputError",
    "Plan",
    "Rep",
    "TerritoryError",
    "TerritoryWarning",
    "UnscheduledVisit",
    "Visit",
]
