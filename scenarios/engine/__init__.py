"""The scenario engine: parsing, validation, scoring and traversal of branching scenarios.

Plain Python with no Django import, so it can be tested and reasoned about on its own. It
implements the `pathways-scenario/1` interchange format (see docs/scenario-format.md). Callers use
this package (`from scenarios import engine`); its modules depend on one another in one
direction only:

- `model`: the limits of the format and the value objects (Scenario, Step, Choice, Problem,
  ScenarioInvalid, Report).
- `analysis`: validation, analysis and scoring (`validate`, `analyse`, `max_score`,
  `pass_threshold`, `threshold_for`, `score_percent`); its docstring states the scoring rules.
- `document`: reading and writing the document (`parse_document`, `parse_json`, `to_document`).
- `play`: traversal of an attempt (`start`, `choose`, `replay`, `result`, `passes`) and the
  errors it raises.
"""

from __future__ import annotations

from scenarios.engine.analysis import (
    analyse,
    max_score,
    pass_threshold,
    score_percent,
    threshold_for,
    validate,
)
from scenarios.engine.document import parse_document, parse_json, to_document
from scenarios.engine.model import (
    FORMAT,
    MAX_BYTES,
    MAX_STEPS,
    MAX_TITLE,
    OUTCOMES,
    PASSING_OUTCOMES,
    PATH_LIMIT,
    POINTS_MAX,
    POINTS_MIN,
    Choice,
    Problem,
    Report,
    Scenario,
    ScenarioInvalid,
    Step,
)
from scenarios.engine.play import (
    AttemptFinished,
    AttemptState,
    BadChoice,
    BrokenScenario,
    EngineError,
    NotFinished,
    Result,
    TakenChoice,
    WrongStep,
    choose,
    passes,
    replay,
    result,
    start,
)

__all__ = [
    "FORMAT",
    "MAX_BYTES",
    "MAX_STEPS",
    "MAX_TITLE",
    "OUTCOMES",
    "PASSING_OUTCOMES",
    "PATH_LIMIT",
    "POINTS_MAX",
    "POINTS_MIN",
    "AttemptFinished",
    "AttemptState",
    "BadChoice",
    "BrokenScenario",
    "Choice",
    "EngineError",
    "NotFinished",
    "Problem",
    "Report",
    "Result",
    "Scenario",
    "ScenarioInvalid",
    "Step",
    "TakenChoice",
    "WrongStep",
    "analyse",
    "choose",
    "max_score",
    "parse_document",
    "parse_json",
    "pass_threshold",
    "passes",
    "replay",
    "result",
    "score_percent",
    "start",
    "threshold_for",
    "to_document",
    "validate",
]
