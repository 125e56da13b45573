"""territory: plan field-sales territories and visit routes (Rustenburg & Steenbeek, ch. 6).

The public door, one call per stage::

    import territory
    inputs = territory.load_inputs("customers.csv", "reps.csv", "plan.toml")
    sizing = territory.size(inputs)                     # how many reps
    design, workload = territory.design(inputs)         # who gets which customers
    plan, design = territory.plan(inputs, design)       # which customer on which day
    territory.write_outputs("out", "plan", inputs, design, workload, 0.0, plan_result=plan)

``design`` and ``plan`` are functions here; the stages behind them are the modules
``territory.districting`` and ``territory.planning`` (no public function shares a module's name,
so a notebook cell can run twice).
"""

__version__ = "0.1.0"  # before the imports: pipeline and cli read it

from .edit import write_editor
from .exceptions import (
    ConfigError,
    GeocodingError,
    InfeasibleError,
    InputError,
    TerritoryError,
    TerritoryWarning,
)
from .models import (
    Customer,
    DayRoute,
    Design,
    DesignKpis,
    Plan,
    PlanKpis,
    Rep,
    UnscheduledVisit,
    Visit,
)
from .params import Config
from .pipeline import (
    Inputs,
    design,
    evaluate,
    load_inputs,
    plan,
    size,
    with_assignments,
    write_outputs,
)
from .workload import customer_workload, size_team

__all__ = [
    "Config",
    "ConfigError",
    "Customer",
    "DayRoute",
    "Design",
    "DesignKpis",
    "GeocodingError",
    "InfeasibleError",
    "InputError",
    "Inputs",
    "Plan",
    "PlanKpis",
    "Rep",
    "TerritoryError",
    "TerritoryWarning",
    "UnscheduledVisit",
    "Visit",
    "customer_workload",
    "design",
    "evaluate",
    "load_inputs",
    "plan",
    "size",
    "size_team",
    "with_assignments",
    "write_editor",
    "write_outputs",
]
