"""Completion rules: the one place that decides what "complete" means. Plain data in and out.

A module is complete when every lesson in it is complete and every scenario in it has been
passed; a course is complete when every module is (and it has at least one lesson) and, where
the course has a final assessment, the officer has passed it in this run. The
outline is built from the *published* content, so a lesson added later counts for officers
still in progress; officers who already completed keep their recorded completion.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import datetime


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
    course_id: int
    modules: tuple[ModuleRef, ...]
    # The course has a final assessment that must be passed (after the lessons).
    assessment: bool = False

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
    """Every lesson of the course done: what opens the final assessment."""
    return bool(outline.lessons) and all(
        module_complete(module, completed, passed) for module in outline.modules
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
