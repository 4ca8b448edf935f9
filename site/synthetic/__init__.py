"""Synthetic data at scale, for benchmarks: a force with its units and officers, courses, and
each officer's assignments, progress, certificates and scenario attempts.

Used by `manage.py generate_synthetic` (and through it by bench/). It writes the tables of
four apps (officers, courses, certificates, training) and scenario attempts, so it lives at the
top, in the project. Two parts:

- plan.py, the plan: plain data drawn with `random.Random(seed)`, no database. It applies the
  apps' own rules (expiry, refresher window, state and supersession from `certificates.rules`;
  due dates and when a refresher is due from `training.rules`) and plays scenarios through the
  scenario engine.
- writer.py, the writer: one transaction, a chunk of officers at a time, with PostgreSQL's COPY
  or `bulk_create` elsewhere (no `save()`, no signal). Certificate numbers come from
  `certificates.services.certificate_numbers_reserve`; the unit tree is treebeard's.

The shape of the data (all proportions of officer/course pairs, drawn with `random.Random(seed)`):

- about 25 officers a team, about 10 teams a division, plus two recruit intakes (2% of the
  officers each, at most 250); one training lead per division, leading that division;
- 90% of pairs assigned; of those, 55% completed, 20% in progress (an open enrolment with 1-4
  lessons done), the rest not started;
- of the completed: about 5% of current certificates inside their refresher window, 12%
  expired (within the last year), 4% renewed once (an older certificate superseded by the newer,
  with the refresher assignment that led to it), 0.5% revoked. As `refresher_assignments_sync`
  would, an expiring or expired certificate has a current refresher assignment, due on its expiry
  date, and the assignment it completed is no longer current;
- completed enrolments carry no lesson completions (the completion is what counts, and it keeps
  the row count down);
- when a live scenario exists, 10% of the officers who started a course have one or two finished
  attempts on its live revision, played through the scenario engine.
"""

from __future__ import annotations

from pathways.synthetic.plan import (
    DEFAULT_FORCE,
    EMAIL_DOMAIN,
    CourseFacts,
    Plan,
    PlannedOfficer,
    UnitKind,
    certificate_chain,
    course_specs,
    officer_unit_index,
    unit_plan,
    unit_rows,
)
from pathways.synthetic.writer import Counts, ForceExists, child_path, generate, synthetic_courses

__all__ = [
    "DEFAULT_FORCE",
    "EMAIL_DOMAIN",
    "CourseFacts",
    "Counts",
    "ForceExists",
    "Plan",
    "PlannedOfficer",
    "UnitKind",
    "certificate_chain",
    "child_path",
    "course_specs",
    "generate",
    "officer_unit_index",
    "synthetic_courses",
    "unit_plan",
    "unit_rows",
]
