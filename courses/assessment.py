"""The final assessment: drawing questions from a course's bank, answering, scoring, and the
authors' statistics. Writes (services) first, then reads (selectors).

The rules (draw order, option order, answer parsing, scoring, the attempt limit, the authors'
flags) are plain functions in courses/rules.py; this module loads the data, locks the rows and
calls them. Every question is shown and scored from the revision that was live when it was
drawn, so an author editing the bank never changes an attempt under way.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.models import Revision

from courses.models import (
    AssessmentAnswer,
    AssessmentAttempt,
    BankQuestion,
    CoursePage,
    Enrolment,
)
from courses.rules import (
    AnswerProblem,
    AttemptAllowance,
    BankEntry,
    QuestionFlag,
    answer_correct,
    answer_parse,
    assessment_allowance,
    assessment_draw,
    assessment_passes,
    assessment_percent,
    bank_jurisdictions,
    correct_longest_warning,
    course_applies,
    course_complete,
    lessons_complete,
    option_order,
    question_flag,
)
from courses.selectors import (
    CourseState,
    assessment_passed,
    completed_lessons,
    course_outline,
    current_enrolment,
    jurisdiction_unknown_message,
    passes_counted,
)
from courses.services import (
    SERVICE_NUMBER_MESSAGE,
    _open_enrolment,
    enrolment_complete,
    service_number_missing,
)
from officers.models import Unit, User
from officers.selectors import force_jurisdictions, officer_jurisdiction


class AssessmentRefused(Exception):
    """A request the rules refuse; nothing was changed. `status` is the HTTP status to show."""

    def __init__(self, message: str, *, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AnswerInvalid(AssessmentRefused):
    """The answer posted for a question cannot be recorded (the officer fixes it and resends)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=400)


ANSWER_MESSAGES = {
    AnswerProblem.EMPTY: gettext_lazy("Choose an answer"),
    AnswerProblem.UNKNOWN: gettext_lazy("Choose one of the answers shown"),
    AnswerProblem.TOO_MANY: gettext_lazy("Choose only one answer"),
}


def _rng() -> random.Random:
    """Draws and option orders must not be predictable: the operating system's randomness."""
    return random.SystemRandom()


# --- What a question looks like in one revision -------------------------------------------


@dataclass(frozen=True)
class OptionView:
    id: str
    text: str
    correct: bool
    feedback: str
    pinned: bool


@dataclass(frozen=True)
class QuestionVersion:
    """A bank question as it was in one revision: what the officer saw and is scored on."""

    prompt: str
    multiple: bool
    options: dict[str, OptionView]

    @property
    def correct_ids(self) -> set[str]:
        return {o.id for o in self.options.values() if o.correct}

    def in_order(self, ids: Iterable[str]) -> list[OptionView]:
        return [self.options[i] for i in ids if i in self.options]


def question_snapshot(question: BankQuestion) -> dict[str, Any]:
    """The question as an attempt keeps it (`AssessmentAnswer.snapshot`)."""
    return {
        "prompt": question.prompt,
        "multiple": question.multiple,
        "options": [
            {
                "id": child.id,
                "text": child.value.get("text", ""),
                "correct": bool(child.value.get("correct")),
                "feedback": child.value.get("feedback", ""),
                "pinned": bool(child.value.get("pinned")),
            }
            for child in question.options
        ],
    }


def version_from_snapshot(snapshot: dict[str, Any]) -> QuestionVersion:
    options = {
        str(o["id"]): OptionView(
            id=str(o["id"]),
            text=str(o.get("text", "")),
            correct=bool(o.get("correct")),
            feedback=str(o.get("feedback", "")),
            pinned=bool(o.get("pinned")),
        )
        for o in snapshot.get("options", [])
    }
    return QuestionVersion(
        prompt=str(snapshot.get("prompt", "")),
        multiple=bool(snapshot.get("multiple")),
        options=options,
    )


def question_version(question: BankQuestion) -> QuestionVersion:
    return version_from_snapshot(question_snapshot(question))


def _versions_for(answers: Sequence[AssessmentAnswer]) -> dict[int, QuestionVersion]:
    """Each answer's question as drawn (by answer pk): from the answer's snapshot (no query);
    for answers drawn before snapshots were kept, from the revision, in two queries whatever
    the number. Revisions are rebuilt without their foreign keys checked: that would cost a
    query each, and only the prompt and options are read."""
    versions: dict[int, QuestionVersion] = {
        a.pk: version_from_snapshot(a.snapshot) for a in answers if a.snapshot
    }
    answers = [a for a in answers if not a.snapshot]
    revision_ids = {a.revision_id for a in answers if a.revision_id}
    contents = dict(Revision.objects.filter(pk__in=revision_ids).values_list("pk", "content"))
    missing = {a.question_id for a in answers if a.revision_id not in contents and a.question_id}
    rows = BankQuestion.objects.in_bulk(missing) if missing else {}
    for answer in answers:
        if answer.revision_id in contents:
            question = BankQuestion.from_serializable_data(
                contents[answer.revision_id], check_fks=False
            )
        elif answer.question_id in rows:
            question = rows[answer.question_id]
        else:  # question and revision both deleted: nothing left to show
            question = BankQuestion(prompt=_("(question removed)"), options=[])
        versions[answer.pk] = question_version(question)
    return versions


# --- The bank ----------------------------------------------------------------------------------


def assessment_jurisdictions(*, jurisdiction: str | None) -> list[str]:
    """Which bank questions an officer of `jurisdiction` may be asked: their own
    jurisdiction's and "All of the UK" (`courses.rules.bank_jurisdictions`), never those of
    another jurisdiction, whatever the course's."""
    return list(bank_jurisdictions(jurisdiction))


def bank_questions_for(*, course: CoursePage, jurisdiction: str | None) -> QuerySet[BankQuestion]:
    """The live bank questions a draw for an officer of `jurisdiction` may use."""
    return BankQuestion.objects.filter(
        course=course,
        live=True,
        jurisdiction__in=assessment_jurisdictions(jurisdiction=jurisdiction),
    )


def bank_live_count(*, course: CoursePage) -> int:
    """The fewest live questions a draw can use for an officer of any jurisdiction the forces
    have (two queries): what the authors' warnings compare with the questions per attempt. A
    jurisdiction no force has, or that the course does not apply to, is left out."""
    codes = list(
        BankQuestion.objects.filter(course=course, live=True).values_list("jurisdiction", flat=True)
    )
    in_use = {code or None for code in force_jurisdictions()}
    counts = [
        sum(1 for code in codes if code in bank_jurisdictions(jurisdiction))
        for jurisdiction in in_use or {None}
        if course_applies(course.jurisdiction, jurisdiction)
    ]
    return min(counts, default=len(codes))


def _bank_entries(
    *, user: User, course: CoursePage, enrolment: Enrolment, jurisdiction: str | None
) -> list[BankEntry]:
    shown = (
        AssessmentAnswer.objects.filter(
            attempt__user=user, attempt__course=course, shown_at__isnull=False
        )
        .values("question_id")
        .annotate(
            last=Max("shown_at"),
            this_run=Max("attempt__enrolment_id", filter=Q(attempt__enrolment=enrolment)),
        )
    )
    history = {row["question_id"]: row for row in shown}
    entries = []
    questions = bank_questions_for(course=course, jurisdiction=jurisdiction)
    for pk, module_id in questions.values_list("pk", "module_id"):
        row = history.get(pk)
        entries.append(
            BankEntry(
                id=pk,
                module_id=module_id,
                last_shown=row["last"] if row else None,
                shown_this_run=bool(row and row["this_run"]),
            )
        )
    return entries


# --- Services ----------------------------------------------------------------------------------


def _allowance(enrolment: Enrolment, course: CoursePage) -> AttemptAllowance:
    submitted = AssessmentAttempt.objects.filter(
        enrolment=enrolment, submitted_at__isnull=False
    ).values_list("submitted_at", "passed")
    return assessment_allowance(
        [(at, bool(passed)) for at, passed in submitted],
        max_attempts=course.assessment_max_attempts,
        cooldown_hours=course.assessment_cooldown_hours,
        now=timezone.now(),
    )


def _when(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def assessment_start(
    *, user: User, course_id: int, rng: random.Random | None = None
) -> AssessmentAttempt:
    """Start an attempt at the course's final assessment (or return the one under way).

    Refused unless the officer has an open run with every lesson done, has not passed yet,
    is not paused after too many failed attempts, and the bank has a question to draw."""
    course = CoursePage.objects.live().filter(pk=course_id).first()
    if course is None or course.assessment_question_count == 0:
        raise AssessmentRefused(_("This course has no final assessment."), status=404)
    rng = rng or _rng()
    with transaction.atomic():
        enrolment = _open_enrolment(user=user, course=course)
        if enrolment is None:
            raise AssessmentRefused(
                _("You have already completed this course. Start it again from the course page.")
            )
        under_way = AssessmentAttempt.objects.filter(
            enrolment=enrolment, submitted_at__isnull=True
        ).first()
        if under_way is not None:
            return under_way
        jurisdiction = officer_jurisdiction(user)
        outline = course_outline(course, jurisdiction=jurisdiction)
        if outline.jurisdiction_unknown:
            raise AssessmentRefused(jurisdiction_unknown_message())
        if not lessons_complete(
            outline, completed_lessons(enrolment), passes_counted(user, outline, enrolment)
        ):
            raise AssessmentRefused(
                _("Complete every lesson of the course before the final assessment.")
            )
        if assessment_passed(enrolment):
            raise AssessmentRefused(_("You have already passed the final assessment."))
        if service_number_missing(user):  # a pass would certify them without one
            raise AssessmentRefused(str(SERVICE_NUMBER_MESSAGE))
        allowance = _allowance(enrolment, course)
        if allowance.paused_until is not None:
            raise AssessmentRefused(
                _("You have used your attempts for now. You can try again from %(when)s.")
                % {"when": _when(allowance.paused_until)}
            )
        entries = _bank_entries(
            user=user, course=course, enrolment=enrolment, jurisdiction=jurisdiction
        )
        drawn = assessment_draw(entries, course.assessment_question_count, rng)
        if not drawn:
            raise AssessmentRefused(
                _(
                    "The final assessment is not ready yet: it has no questions. Ask your "
                    "training lead to tell the course's authors."
                )
            )
        questions = BankQuestion.objects.in_bulk(drawn)
        try:
            with transaction.atomic():
                attempt = AssessmentAttempt.objects.create(
                    user=user,
                    enrolment=enrolment,
                    course=course,
                    pass_mark=course.assessment_pass_mark,
                    total=len(drawn),
                )
        except IntegrityError:  # started by a parallel request a moment ago
            return AssessmentAttempt.objects.get(enrolment=enrolment, submitted_at__isnull=True)
        AssessmentAnswer.objects.bulk_create(
            AssessmentAnswer(
                attempt=attempt,
                position=position,
                question=questions[pk],
                revision_id=questions[pk].live_revision_id,
                snapshot=question_snapshot(questions[pk]),
                option_order=option_order(
                    [
                        (child.id, bool(child.value.get("pinned")))
                        for child in questions[pk].options
                    ],
                    rng,
                ),
            )
            for position, pk in enumerate(drawn, start=1)
        )
    return attempt


def _locked_open_attempt(*, user: User, attempt_id: int) -> AssessmentAttempt:
    attempt = AssessmentAttempt.objects.select_for_update().filter(pk=attempt_id, user=user).first()
    if attempt is None:  # someone else's attempt looks exactly like a missing one
        raise AssessmentRefused(_("No such assessment."), status=404)
    if attempt.submitted_at is not None:
        raise AssessmentRefused(
            _("You have already submitted this assessment. Nothing was changed.")
        )
    return attempt


def assessment_mark_shown(*, answer: AssessmentAnswer) -> None:
    """Record when the officer first saw the question (the start of their time on it)."""
    if answer.shown_at is None:
        now = timezone.now()
        AssessmentAnswer.objects.filter(pk=answer.pk, shown_at__isnull=True).update(shown_at=now)
        answer.shown_at = now


def assessment_answer(
    *, user: User, attempt_id: int, position: int, values: Sequence[str]
) -> AssessmentAnswer:
    """Record (or change) the officer's answer to one question of an attempt under way."""
    with transaction.atomic():
        attempt = _locked_open_attempt(user=user, attempt_id=attempt_id)
        answer = (
            AssessmentAnswer.objects.select_for_update()
            .filter(attempt=attempt, position=position)
            .first()
        )
        if answer is None:
            raise AssessmentRefused(_("No such question."), status=404)
        version = _versions_for([answer])[answer.pk]
        chosen, problem = answer_parse(
            [str(v) for v in values], answer.option_order, multiple=version.multiple
        )
        if problem is not None:
            raise AnswerInvalid(str(ANSWER_MESSAGES[problem]))
        now = timezone.now()
        answer.chosen = chosen
        answer.answered_at = now
        answer.shown_at = answer.shown_at or now
        answer.save(update_fields=["chosen", "answered_at", "shown_at"])
    return answer


@dataclass(frozen=True)
class SubmitResult:
    attempt: AssessmentAttempt
    course_completed: bool


def assessment_submit(*, user: User, attempt_id: int) -> SubmitResult:
    """Score the attempt, once. A pass completes the course (and so issues the certificate)
    when every lesson is still done; a second submit is refused and changes nothing."""
    with transaction.atomic():
        attempt = _locked_open_attempt(user=user, attempt_id=attempt_id)
        answers = list(attempt.answers.order_by("position"))
        unanswered = [a.position for a in answers if not a.chosen]
        if unanswered:
            raise AssessmentRefused(
                _("Answer every question before you submit. Still to answer: %(list)s.")
                % {"list": ", ".join(str(p) for p in unanswered)},
                status=400,
            )
        versions = _versions_for(answers)
        for answer in answers:
            answer.correct = answer_correct(answer.chosen, versions[answer.pk].correct_ids)
        AssessmentAnswer.objects.bulk_update(answers, ["correct"])
        attempt.score = sum(1 for a in answers if a.correct)
        attempt.percent = assessment_percent(attempt.score, attempt.total)
        attempt.passed = assessment_passes(attempt.percent, attempt.pass_mark)
        attempt.submitted_at = timezone.now()
        attempt.save(update_fields=["score", "percent", "passed", "submitted_at"])
        completed = False
        if attempt.passed:
            enrolment = Enrolment.objects.select_for_update().get(pk=attempt.enrolment_id)
            course = CoursePage.objects.get(pk=attempt.course_id)
            outline = course_outline(course, jurisdiction=officer_jurisdiction(user))
            if enrolment.completed_at is None and course_complete(
                outline,
                completed_lessons(enrolment),
                passes_counted(user, outline, enrolment),
                assessment_passed=True,
            ):
                enrolment_complete(enrolment=enrolment, course=course)
                completed = True
    return SubmitResult(attempt=attempt, course_completed=completed)


# --- Selectors ---------------------------------------------------------------------------------


def assessment_passing_percent(*, enrolment: Enrolment) -> int | None:
    """The score of the attempt that passed the run's final assessment (None if none did)."""
    return (
        AssessmentAttempt.objects.filter(enrolment=enrolment, passed=True)
        .order_by("-submitted_at")
        .values_list("percent", flat=True)
        .first()
    )


@dataclass(frozen=True)
class AssessmentStatus:
    """What the course page says about the final assessment, for one officer."""

    course: CoursePage
    enrolment: Enrolment | None
    lessons_done: bool
    bank_size: int
    passed: bool
    under_way: AssessmentAttempt | None
    last: AssessmentAttempt | None
    allowance: AttemptAllowance

    @property
    def ready(self) -> bool:
        return self.bank_size > 0

    @property
    def short(self) -> bool:
        """Fewer live questions than an attempt asks: every attempt draws them all."""
        return 0 < self.bank_size < self.course.assessment_question_count

    @property
    def can_start(self) -> bool:
        return (
            self.enrolment is not None
            and not self.enrolment.is_complete
            and self.lessons_done
            and self.ready
            and not self.passed
            and self.under_way is None
            and self.allowance.paused_until is None
        )


def assessment_status(
    *, user: User, course: CoursePage, state: CourseState | None = None
) -> AssessmentStatus | None:
    """The officer's standing in the course's final assessment (None: the course has none).

    `state`, the officer's standing in the course as its page has read it already, saves
    reading the enrolment, the lessons done and the passes again."""
    if course.assessment_question_count == 0:
        return None
    jurisdiction = officer_jurisdiction(user)
    if state is not None and state.course.pk == course.pk:
        enrolment, outline = state.enrolment, state.outline
        open_run = enrolment is not None and not enrolment.is_complete
        lessons_done = open_run and lessons_complete(outline, state.completed, state.passed)
    else:
        enrolment = current_enrolment(user, course.pk)
        open_run = enrolment is not None and not enrolment.is_complete
        outline = course_outline(course, jurisdiction=jurisdiction)
        lessons_done = open_run and lessons_complete(
            outline, completed_lessons(enrolment), passes_counted(user, outline, enrolment)
        )
    attempts = list(AssessmentAttempt.objects.filter(enrolment=enrolment)) if open_run else []
    submitted = [a for a in attempts if a.submitted_at is not None]
    return AssessmentStatus(
        course=course,
        enrolment=enrolment,
        lessons_done=lessons_done,
        bank_size=bank_questions_for(course=course, jurisdiction=jurisdiction).count(),
        passed=any(a.passed for a in submitted),
        under_way=next((a for a in attempts if a.submitted_at is None), None),
        last=max(submitted, key=lambda a: a.submitted_at, default=None),
        # The run's submitted attempts are those just read: what `_allowance` would read.
        allowance=assessment_allowance(
            [(a.submitted_at, bool(a.passed)) for a in submitted],
            max_attempts=course.assessment_max_attempts,
            cooldown_hours=course.assessment_cooldown_hours,
            now=timezone.now(),
        )
        if open_run
        else AttemptAllowance(remaining=course.assessment_max_attempts),
    )


def assessment_attempt_for(*, user: User, attempt_id: int) -> AssessmentAttempt | None:
    """The officer's own attempt (None for anyone else's: it looks like a missing one)."""
    return (
        AssessmentAttempt.objects.select_related("course").filter(pk=attempt_id, user=user).first()
    )


@dataclass
class AnswerRow:
    answer: AssessmentAnswer
    version: QuestionVersion
    options: list[OptionView] = field(default_factory=list)

    @property
    def chosen(self) -> list[OptionView]:
        return [o for o in self.options if o.id in (self.answer.chosen or ())]

    @property
    def marked(self) -> list[tuple[OptionView, bool]]:
        """Each option shown, and whether the officer chose it."""
        picked = set(self.answer.chosen or ())
        return [(o, o.id in picked) for o in self.options]


def assessment_rows(*, attempt: AssessmentAttempt) -> list[AnswerRow]:
    """Every question of the attempt in order, as drawn, with its options in the order shown
    (three queries whatever the number of questions)."""
    answers = list(attempt.answers.order_by("position"))
    versions = _versions_for(answers)
    return [
        AnswerRow(answer=a, version=versions[a.pk], options=versions[a.pk].in_order(a.option_order))
        for a in answers
    ]


def assessment_question(*, attempt: AssessmentAttempt, position: int) -> AnswerRow | None:
    answer = attempt.answers.filter(position=position).first()
    if answer is None:
        return None
    version = _versions_for([answer])[answer.pk]
    return AnswerRow(answer=answer, version=version, options=version.in_order(answer.option_order))


def assessment_allowance_for(*, attempt: AssessmentAttempt) -> AttemptAllowance:
    return _allowance(attempt.enrolment, attempt.course)


def assessment_settled_later(*, attempt: AssessmentAttempt) -> bool:
    """Whether a failed attempt no longer matters: its run was completed or passed since (so
    its result page must not offer another try)."""
    if attempt.passed:
        return False
    return (
        attempt.enrolment.is_complete
        or AssessmentAttempt.objects.filter(enrolment_id=attempt.enrolment_id, passed=True).exists()
    )


# --- Statistics for authors --------------------------------------------------------------------


@dataclass
class OptionStat:
    id: str
    text: str
    correct: bool
    picked: int = 0


@dataclass
class QuestionStat:
    question: BankQuestion
    answered: int = 0
    right: int = 0
    options: list[OptionStat] = field(default_factory=list)
    removed_picks: int = 0  # picks of options no longer in the question

    @property
    def percent_right(self) -> int | None:
        return 100 * self.right // self.answered if self.answered else None

    @property
    def flag(self) -> QuestionFlag | None:
        return question_flag(self.answered, self.right)

    @property
    def wrong_options(self) -> list[OptionStat]:
        return [o for o in self.options if not o.correct]


@dataclass(frozen=True)
class BankReport:
    course: CoursePage
    questions: list[QuestionStat]
    live_count: int
    needed: int
    longest_warning: bool

    @property
    def short(self) -> bool:
        return self.live_count < self.needed


def bank_statistics(
    *,
    course: CoursePage,
    answers: QuerySet[AssessmentAnswer],
    unit: Unit | None = None,
    this_version: bool = False,
) -> BankReport:
    """Per question of the course's bank: how many answered, how many right, and how often
    each wrong option was picked. Counts go by option id, so a revision that reorders or
    rewords options keeps them; options are described as in the current version.

    `answers` is already scoped to what the viewer may see; `unit` narrows it to a subtree,
    `this_version` to answers given to each question's live revision. A fixed number of
    queries whatever the size of the bank or the number of answers."""
    questions = list(BankQuestion.objects.filter(course=course).select_related("module"))
    scoped = answers.filter(
        question__course=course, attempt__submitted_at__isnull=False, chosen__isnull=False
    )
    if unit is not None:
        scoped = scoped.filter(attempt__user__officer__unit__path__startswith=unit.path)
    if this_version:
        scoped = scoped.filter(revision_id=F("question__live_revision_id"))
    stats: dict[int, QuestionStat] = {}
    for question in questions:
        version = question_version(question)
        stats[question.pk] = QuestionStat(
            question=question,
            options=[OptionStat(o.id, o.text, o.correct) for o in version.options.values()],
        )
    picks: dict[int, Counter[str]] = {}
    for question_id, chosen, correct in scoped.values_list("question_id", "chosen", "correct"):
        stat = stats.get(question_id)
        if stat is None:
            continue
        stat.answered += 1
        stat.right += 1 if correct else 0
        picks.setdefault(question_id, Counter()).update(chosen or ())
    for question_id, counter in picks.items():
        stat = stats[question_id]
        known = {o.id for o in stat.options}
        for option in stat.options:
            option.picked = counter.get(option.id, 0)
        stat.removed_picks = sum(n for i, n in counter.items() if i not in known)
    live = [s for s in stats.values() if s.question.live]
    return BankReport(
        course=course,
        questions=list(stats.values()),
        live_count=bank_live_count(course=course),
        needed=course.assessment_question_count,
        longest_warning=correct_longest_warning(
            [[(o.text, o.correct) for o in s.options] for s in live]
        ),
    )


def bank_shortfalls() -> list[dict[str, Any]]:
    """Courses whose bank has fewer live questions than an attempt asks (for the listing)."""
    courses = CoursePage.objects.filter(assessment_question_count__gt=0)
    rows = []
    for course in courses:
        have = bank_live_count(course=course)
        if have < course.assessment_question_count:
            rows.append({"course": course, "have": have, "need": course.assessment_question_count})
    return rows
