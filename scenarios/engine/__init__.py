"""The scenario engine: parsing, validation, scoring and traversal of branching scenarios.

Plain Python with no Django import, so it can be tested and reasoned about on its own. It
implements the `pathways-scenario` interchange format, versions 1 and 2 (see
docs/scenario-format.md). Callers use
this package (`from scenarios import engine`); its modules depend on one another in one
direction only:

- `model`: the limits of the format and the value objects (Scenario, Step, Choice, Debrief,
  Problem, ScenarioInvalid, Report).
- `analysis`: validation, analysis and scoring (`validate`, `analyse`, `max_score`,
  `max_decisions`, `pass_threshold`, `threshold_for`, `score_percent`) and advice for authors
  (`author_warnings`); its docstring states the scoring rules.
- `document`: reading and writing the document (`parse_document`, `parse_json`, `to_document`).
- `play`: traversal of an attempt (`start`, `choose`, `replay`, `result`, `passes`), the errors
  it raises, and what the officer sees (`display_order`, `debriefs_for`, `flags_set`,
  `review`).
"""

from __future__ import annotations

from scenarios.engine.analysis import (
    analyse,
    author_warnings,
    max_decisions,
    max_score,
    pass_threshold,
    score_percent,
    threshold_for,
    validate,
)
from scenarios.engine.document import parse_document, parse_json, to_document
from scenarios.engine.model import (
    FORMAT,
    FORMAT_1,
    FORMATS,
    MAX_BYTES,
    MAX_STEPS,
    MAX_TITLE,
    MAX_WARNING,
    OUTCOMES,
    PASSING_OUTCOMES,
    PATH_LIMIT,
    POINTS_MAX,
    POINTS_MIN,
    Choice,
    Debrief,
    Problem,
    Report,
    Scenario,
    ScenarioInvalid,
    Step,
    fill_choice_ids,
)
from scenarios.engine.play import (
    AttemptFinished,
    AttemptState,
    BadChoice,
    BrokenScenario,
    EngineError,
    NotFinished,
    Result,
    Review,
    Reviewed,
    TakenChoice,
    WrongStep,
    choose,
    debriefs_for,
    display_order,
    flags_set,
    passes,
    replay,
    result,
    review,
    start,
)

__all__ = [
    "FORMAT",
    "FORMATS",
    "FORMAT_1",
    "MAX_BYTES",
    "MAX_STEPS",
    "MAX_TITLE",
    "MAX_WARNING",
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
    "Debrief",
    "EngineError",
    "NotFinished",
    "Problem",
    "Report",
    "Result",
    "Review",
    "Reviewed",
    "Scenario",
    "ScenarioInvalid",
    "Step",
    "TakenChoice",
    "WrongStep",
    "analyse",
    "author_warnings",
    "choose",
    "debriefs_for",
    "display_order",
    "fill_choice_ids",
    "flags_set",
    "max_decisions",
    "max_score",
    "parse_document",
    "parse_json",
    "pass_threshold",
    "passes",
    "replay",
    "result",
    "review",
    "score_percent",
    "start",
    "threshold_for",
    "to_document",
    "validate",
]
