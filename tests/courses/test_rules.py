"""The completion rules, without a database."""

from __future__ import annotations

from courses.rules import (
    CourseOutline,
    LessonRef,
    ModuleRef,
    course_complete,
    course_progress,
    lesson_complete,
    module_complete,
)

OUTLINE = CourseOutline(
    course_id=1,
    modules=(
        ModuleRef(10, (LessonRef(101), LessonRef(102, scenario_ids=(7,)))),
        ModuleRef(20, (LessonRef(201),)),
    ),
)


def test_nothing_done() -> None:
    progress = course_progress(OUTLINE, set(), set())
    assert (progress.done, progress.total, progress.percent) == (0, 3, 0)
    assert progress.next_lesson_id == 101
    assert not progress.complete


def test_lesson_with_a_scenario_needs_the_scenario_passed() -> None:
    lesson = OUTLINE.modules[0].lessons[1]
    assert not lesson_complete(lesson, {102}, set())
    assert lesson_complete(lesson, {102}, {7})


def test_module_complete_needs_every_lesson_and_scenario() -> None:
    module = OUTLINE.modules[0]
    assert not module_complete(module, {101}, {7})
    assert not module_complete(module, {101, 102}, set())
    assert module_complete(module, {101, 102}, {7})


def test_course_complete_needs_every_module() -> None:
    assert not course_complete(OUTLINE, {101, 102}, {7})
    assert course_complete(OUTLINE, {101, 102, 201}, {7})


def test_next_lesson_is_the_first_unfinished_in_course_order() -> None:
    assert course_progress(OUTLINE, {101}, set()).next_lesson_id == 102
    # 102 is marked but its scenario is not passed: still the next thing to do.
    assert course_progress(OUTLINE, {101, 102, 201}, set()).next_lesson_id == 102
    progress = course_progress(OUTLINE, {101, 201}, {7})
    assert (progress.done, progress.percent, progress.next_lesson_id) == (2, 66, 102)


def test_a_course_without_lessons_is_never_complete() -> None:
    empty = CourseOutline(course_id=2, modules=(ModuleRef(30, ()),))
    assert not course_complete(empty, set(), set())
    assert course_progress(empty, set(), set()).percent == 0


def test_a_new_lesson_must_be_done_by_those_in_progress() -> None:
    grown = CourseOutline(course_id=1, modules=(*OUTLINE.modules, ModuleRef(30, (LessonRef(301),))))
    done = {101, 102, 201}
    assert course_complete(OUTLINE, done, {7})
    assert not course_complete(grown, done, {7})
    assert course_progress(grown, done, {7}).next_lesson_id == 301
