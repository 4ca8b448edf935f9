"""Completion rules: the one place that decides what "complete" means. Plain data in and out.

A module is complete when every lesson in it is complete and every scenario in it has been
passed; a course is complete when every module is (and it has at least one lesson) and, where
the course has a final assessment, the officer has passed it in this run. The
outline is built from the *published* content, so a lesson added later counts for officers
still in progress; officers who already completed keep their recorded completion.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from random import Random

# The audience primitive lives below (the scenario player uses it too); courses ask it here.
from officers.jurisdictions import audience_includes  # noqa: F401


@dataclass(frozen=True)
class LessonRef:
    id: int
    scenario_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ModuleRef:
    id: int
    lessons: tuple[LessonRef, ...]


@dataclass(frozen=True)
class CourseOutline:
    """What one officer must complete: the modules, lessons and scenarios for their
    jurisdiction (`outline_for`), or the whole course where nothing in it is jurisdiction-
    specific."""

    course_id: int
    modules: tuple[ModuleRef, ...]
    # The course has a final assessment that must be passed (after the lessons).
    assessment: bool = False
    # The officer's jurisdiction this outline is for (None: not known).
    jurisdiction: str | None = None
    # The officer's jurisdiction is unknown and the course has jurisdiction-specific parts (or
    # is limited to one jurisdiction): they cannot complete it until their force's is set.
    jurisdiction_unknown: bool = False

    @property
    def completable(self) -> bool:
        return not self.jurisdiction_unknown

    @property
    def lessons(self) -> tuple[LessonRef, ...]:
        return tuple(lesson for module in self.modules for lesson in module.lessons)

    @property
    def scenario_ids(self) -> frozenset[int]:
        return frozenset(s for lesson in self.lessons for s in lesson.scenario_ids)

    def module_of(self, lesson_id: int) -> ModuleRef | None:
        for module in self.modules:
            if any(lesson.id == lesson_id for lesson in module.lessons):
                return module
        return None


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    next_lesson_id: int | None

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total


def counted_passes(last_passes: Mapping[int, datetime], since: datetime | None) -> set[int]:
    """The scenarios whose pass counts toward an enrolment: passed after `since`, the end of
    the officer's previous run of the course (a refresher needs them passed again); any pass
    on a first run (`since` None)."""
    return {sid for sid, at in last_passes.items() if since is None or at > since}


def lesson_complete(lesson: LessonRef, completed: Set[int], passed: Set[int]) -> bool:
    """Marked complete, and every scenario in it passed."""
    return lesson.id in completed and all(s in passed for s in lesson.scenario_ids)


def module_complete(module: ModuleRef, completed: Set[int], passed: Set[int]) -> bool:
    return all(lesson_complete(lesson, completed, passed) for lesson in module.lessons)


def lessons_complete(outline: CourseOutline, completed: Set[int], passed: Set[int]) -> bool:
    """Every lesson of the officer's outline done: what opens the final assessment. Never for
    an officer whose jurisdiction is unknown on a course with jurisdiction-specific parts:
    nobody is certified without their jurisdiction's legal content."""
    return (
        outline.completable
        and bool(outline.lessons)
        and all(module_complete(module, completed, passed) for module in outline.modules)
    )


def course_complete(
    outline: CourseOutline,
    completed: Set[int],
    passed: Set[int],
    *,
    assessment_passed: bool = False,
) -> bool:
    """Every lesson done, and the final assessment passed where the course has one."""
    return lessons_complete(outline, completed, passed) and (
        assessment_passed or not outline.assessment
    )


def course_progress(outline: CourseOutline, completed: Set[int], passed: Set[int]) -> Progress:
    """Lessons done of total, and the first unfinished lesson in course order."""
    done = 0
    next_lesson: int | None = None
    for lesson in outline.lessons:
        if lesson_complete(lesson, completed, passed):
            done += 1
        elif next_lesson is None:
            next_lesson = lesson.id
    return Progress(done=done, total=len(outline.lessons), next_lesson_id=next_lesson)


def unpassed_scenarios(lesson: LessonRef, passed: Set[int]) -> tuple[int, ...]:
    return tuple(s for s in lesson.scenario_ids if s not in passed)


# --- Jurisdictions: which content applies to whom ---------------------------------------------
#
# Scotland and England & Wales have different law and schemes. Modules, lessons and scenarios
# carry an audience (a list of jurisdiction codes; empty: every jurisdiction), a course may be
# limited to one jurisdiction, and a bank question is for one jurisdiction or "all". An
# officer's jurisdiction is their force's (`officers.selectors.officer_jurisdiction`), None when
# it is not set. These functions are the one place that decides what applies to whom: the
# pages, progress, completion, the assessment draw, search, My learning and the leads' matrix
# all ask them.

ALL_JURISDICTIONS = "all"


def course_applies(course_jurisdiction: str, jurisdiction: str | None) -> bool:
    """A course limited to one jurisdiction applies only to officers of that jurisdiction."""
    return course_jurisdiction in ("", ALL_JURISDICTIONS) or course_jurisdiction == jurisdiction


def course_withheld(course_jurisdiction: str, jurisdiction: str | None) -> bool:
    """Hidden like a missing page: the course is for another jurisdiction than the officer's.
    An officer whose jurisdiction is unknown still sees it, with why they cannot complete it."""
    return jurisdiction is not None and not course_applies(course_jurisdiction, jurisdiction)


def bank_jurisdictions(jurisdiction: str | None) -> tuple[str, ...]:
    """The bank questions an officer may be asked: their own jurisdiction's and "all" (never
    the course's, which says nothing about who is taking it)."""
    if jurisdiction is None:
        return (ALL_JURISDICTIONS,)
    return tuple(sorted({ALL_JURISDICTIONS, jurisdiction}))


@dataclass(frozen=True)
class ScenarioContent:
    id: int
    audience: tuple[str, ...] = ()


@dataclass(frozen=True)
class LessonContent:
    id: int
    audience: tuple[str, ...] = ()
    scenarios: tuple[ScenarioContent, ...] = ()


@dataclass(frozen=True)
class ModuleContent:
    id: int
    audience: tuple[str, ...] = ()
    lessons: tuple[LessonContent, ...] = ()


@dataclass(frozen=True)
class CourseContent:
    """A course's published structure with every part's audience: what `outline_for` cuts
    into one outline per jurisdiction."""

    course_id: int
    modules: tuple[ModuleContent, ...]
    assessment: bool = False
    # The course's own jurisdiction: one code, or "all".
    jurisdiction: str = ALL_JURISDICTIONS

    @property
    def jurisdiction_specific(self) -> bool:
        """Limited to one jurisdiction, or with any module, lesson or scenario that is."""
        return (
            self.jurisdiction not in ("", ALL_JURISDICTIONS)
            or any(m.audience for m in self.modules)
            or any(lesson.audience for m in self.modules for lesson in m.lessons)
            or any(
                s.audience for m in self.modules for lesson in m.lessons for s in lesson.scenarios
            )
        )

    def lesson(self, lesson_id: int) -> LessonContent | None:
        for module in self.modules:
            for lesson in module.lessons:
                if lesson.id == lesson_id:
                    return lesson
        return None


def outline_for(content: CourseContent, jurisdiction: str | None) -> CourseOutline:
    """The outline an officer of `jurisdiction` must complete: the modules and lessons whose
    audience includes it, and in each lesson only the scenarios whose audience does. A course
    for another jurisdiction has an empty outline (it never completes). An officer whose
    jurisdiction is unknown gets only the parts for every jurisdiction, and is marked
    `jurisdiction_unknown` when the course has any jurisdiction-specific part."""
    unknown = jurisdiction is None and content.jurisdiction_specific
    if not course_applies(content.jurisdiction, jurisdiction):
        return CourseOutline(
            course_id=content.course_id,
            modules=(),
            assessment=content.assessment,
            jurisdiction=jurisdiction,
            jurisdiction_unknown=unknown,
        )
    modules = []
    for module in content.modules:
        if not audience_includes(module.audience, jurisdiction):
            continue
        lessons = tuple(
            LessonRef(
                id=lesson.id,
                scenario_ids=tuple(
                    s.id for s in lesson.scenarios if audience_includes(s.audience, jurisdiction)
                ),
            )
            for lesson in module.lessons
            if audience_includes(lesson.audience, jurisdiction)
        )
        # A module whose every lesson is for other jurisdictions is not shown at all.
        if lessons or not module.lessons:
            modules.append(ModuleRef(id=module.id, lessons=lessons))
    return CourseOutline(
        course_id=content.course_id,
        modules=tuple(modules),
        assessment=content.assessment,
        jurisdiction=jurisdiction,
        jurisdiction_unknown=unknown,
    )


# --- The final assessment ---------------------------------------------------------------------
#
# Plain functions for drawing, option order, answer parsing, scoring, the attempt limit and the
# authors' warnings. courses/assessment.py loads the data and calls them; tests pass a seeded
# `random.Random` where the service passes `random.SystemRandom()`.


@dataclass(frozen=True)
class BankEntry:
    """A live bank question as the draw sees it, for one officer."""

    id: int
    module_id: int | None
    # When this officer was last shown it, in any run of the course (None: never).
    last_shown: datetime | None = None
    # Shown in an earlier attempt of the officer's current run.
    shown_this_run: bool = False

    @property
    def freshness(self) -> int:
        """0 never shown, 1 shown only in earlier runs, 2 shown in this run."""
        if self.last_shown is None:
            return 0
        return 2 if self.shown_this_run else 1


def assessment_draw(entries: Sequence[BankEntry], count: int, rng: Random) -> list[int]:
    """Choose up to `count` question ids, in the order they are asked.

    Preference: never shown to this officer, then not shown in this run (so a retake after a
    fail draws a fresh set where the bank allows), then least recently shown. Within the same
    freshness the draw spreads across modules: it takes from the module it has drawn least
    from. Ties are broken at random, and the drawn questions are shuffled.
    """
    tiebreak = {entry.id: rng.random() for entry in entries}
    left = list(entries)
    per_module: dict[int | None, int] = {}
    drawn: list[int] = []
    oldest = datetime.min.replace(tzinfo=UTC)
    while left and len(drawn) < count:
        best = min(
            left,
            key=lambda e: (
                e.freshness,
                per_module.get(e.module_id, 0),
                e.last_shown or oldest,
                tiebreak[e.id],
            ),
        )
        left.remove(best)
        per_module[best.module_id] = per_module.get(best.module_id, 0) + 1
        drawn.append(best.id)
    rng.shuffle(drawn)
    return drawn


def option_order(options: Sequence[tuple[str, bool]], rng: Random) -> list[str]:
    """Option ids shuffled, with pinned options ("None of these") last in authored order.

    `options` is (id, pinned) in authored order."""
    free = [option_id for option_id, pinned in options if not pinned]
    rng.shuffle(free)
    return free + [option_id for option_id, pinned in options if pinned]


class AnswerProblem(StrEnum):
    EMPTY = "empty"
    UNKNOWN = "unknown"
    TOO_MANY = "too_many"


def answer_parse(
    values: Sequence[str], shown: Sequence[str], *, multiple: bool
) -> tuple[list[str] | None, AnswerProblem | None]:
    """Read the posted option ids of one question: (chosen ids in shown order, None) or
    (None, problem). Never raises. Duplicates are ignored; an id not shown is refused."""
    chosen = set(values)
    if not chosen or chosen == {""}:
        return None, AnswerProblem.EMPTY
    if not chosen <= set(shown):
        return None, AnswerProblem.UNKNOWN
    if not multiple and len(chosen) > 1:
        return None, AnswerProblem.TOO_MANY
    return [option_id for option_id in shown if option_id in chosen], None


def answer_correct(chosen: Iterable[str] | None, correct_ids: Iterable[str]) -> bool:
    """Exactly right: every correct option chosen and nothing else (no part marks)."""
    picked = set(chosen or ())
    return bool(picked) and picked == set(correct_ids)


def assessment_percent(score: int, total: int) -> int:
    """Whole per cent, rounded down: 79.9% does not reach a pass mark of 80%."""
    return 100 * score // total if total else 0


def assessment_passes(percent: int, pass_mark: int) -> bool:
    return percent >= pass_mark


@dataclass(frozen=True)
class AttemptAllowance:
    """How many attempts the officer has before a pause, or until when they must wait."""

    remaining: int
    paused_until: datetime | None = None


def assessment_allowance(
    submitted: Sequence[tuple[datetime, bool]],
    *,
    max_attempts: int,
    cooldown_hours: int,
    now: datetime,
) -> AttemptAllowance:
    """The attempt limit for one run of a course. `submitted` is (submitted_at, passed) for
    each submitted attempt of the run, in any order.

    After `max_attempts` failed attempts in a row (counted since the last pass or the last
    pause) the officer waits `cooldown_hours` from the last failed submission; after the pause
    the count starts again. A refresher is a new run, so it starts with a clean count.
    """
    failures = 0
    paused_until: datetime | None = None
    for at, passed in sorted(submitted):
        if passed:
            failures = 0
            continue
        failures += 1
        if failures >= max_attempts:
            paused_until = at + timedelta(hours=cooldown_hours)
            failures = 0
    if paused_until is not None and now < paused_until:
        return AttemptAllowance(remaining=0, paused_until=paused_until)
    return AttemptAllowance(remaining=max_attempts - failures)


class BankProblem(StrEnum):
    TOO_FEW_OPTIONS = "too_few_options"
    NO_CORRECT = "no_correct"
    MORE_THAN_ONE_CORRECT = "more_than_one_correct"


def bank_question_problems(correct_flags: Sequence[bool], *, multiple: bool) -> list[BankProblem]:
    """What makes a bank question unusable: fewer than two answers, none correct, or more
    than one correct when officers may choose only one."""
    problems = []
    if len(correct_flags) < 2:
        problems.append(BankProblem.TOO_FEW_OPTIONS)
    right = sum(1 for flag in correct_flags if flag)
    if right == 0:
        problems.append(BankProblem.NO_CORRECT)
    elif right > 1 and not multiple:
        problems.append(BankProblem.MORE_THAN_ONE_CORRECT)
    return problems


# A question needs this many answers before its share right says anything.
FLAG_MIN_ANSWERS = 10
FLAG_EASY_SHARE = 0.95
FLAG_HARD_SHARE = 0.20


class QuestionFlag(StrEnum):
    EASY = "easy"
    HARD = "hard"


def question_flag(answered: int, right: int) -> QuestionFlag | None:
    """Almost everyone right (>= 95%) or wrong (right <= 20%), once answered 10 times."""
    if answered < FLAG_MIN_ANSWERS:
        return None
    share = right / answered
    if share >= FLAG_EASY_SHARE:
        return QuestionFlag.EASY
    if share <= FLAG_HARD_SHARE:
        return QuestionFlag.HARD
    return None


def correct_is_longest(options: Sequence[tuple[str, bool]]) -> bool:
    """A correct option is the one longest answer (a giveaway test-wise officers learn).

    `options` is (text, correct). A tie for longest gives nothing away."""
    if len(options) < 2:
        return False
    lengths = sorted((len(text.strip()) for text, _ in options), reverse=True)
    longest = max(options, key=lambda option: len(option[0].strip()))
    return lengths[0] > lengths[1] and longest[1]


def correct_longest_warning(questions: Sequence[Sequence[tuple[str, bool]]]) -> bool:
    """Warn when, in most questions of a bank (more than half, at least 3), the correct
    option is also the longest."""
    hits = sum(1 for options in questions if correct_is_longest(options))
    return hits >= 3 and hits * 2 > len(questions)


# --- Lesson check questions, time and estimated durations ------------------------------------


@dataclass(frozen=True)
class CheckOption:
    id: str
    correct: bool
    pinned: bool = False


@dataclass(frozen=True)
class CheckQuestion:
    """A lesson's check-your-understanding question: its StreamField block id and options
    (by their ListBlock item ids) in authored order."""

    id: str
    multiple: bool
    options: tuple[CheckOption, ...]

    @property
    def correct_ids(self) -> frozenset[str]:
        return frozenset(option.id for option in self.options if option.correct)


def unanswered_checks(question_ids: Iterable[str], correct_ids: Set[str]) -> tuple[str, ...]:
    """The lesson's check questions not yet answered correctly in this run: while any is left
    the lesson cannot be marked complete."""
    return tuple(qid for qid in question_ids if qid not in correct_ids)


def check_option_order(seed: str, question: CheckQuestion) -> list[str]:
    """The order a check question's option ids are shown in for one run (`seed`): shuffled,
    the same on every reload of the run, different between runs and officers; pinned options
    last in authored order. A string seed makes `Random` hash it with SHA-512, so the order
    does not depend on the process (unlike `hash()`)."""
    rng = Random(f"{seed}:{question.id}")  # noqa: S311 - an order, not a secret
    return option_order([(o.id, o.pinned) for o in question.options], rng)


def check_answer_read(
    question: CheckQuestion, values: Sequence[str]
) -> tuple[list[str] | None, AnswerProblem | None]:
    """Read the option ids posted for a check question (`answer_parse`, against the options in
    authored order): (chosen ids, None) or (None, problem). Never raises."""
    return answer_parse(values, [o.id for o in question.options], multiple=question.multiple)


WORDS_PER_MINUTE = 200
MINUTES_PER_DECISION = 1.5
MINUTES_PER_QUESTION = 1


def lesson_minutes(*, words: int, scenario_decisions: int = 0, questions: int = 0) -> int:
    """Estimated minutes for a lesson: reading at WORDS_PER_MINUTE, MINUTES_PER_DECISION for each
    scenario decision on the longest route, MINUTES_PER_QUESTION for each check question;
    rounded up, at least 1."""
    minutes = (
        max(words, 0) / WORDS_PER_MINUTE
        + max(scenario_decisions, 0) * MINUTES_PER_DECISION
        + max(questions, 0) * MINUTES_PER_QUESTION
    )
    return max(1, math.ceil(minutes))
