"""Check course content files against the content style guide (courses.content_checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.content_checks import course_problems


class Command(BaseCommand):
    help = "Check course folders (course.json and modules/) for structural problems."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folders", nargs="+", help="Course folders, each with a course.json.")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = []
        for folder in options["folders"]:
            path = Path(folder)
            if not (path / "course.json").is_file():
                raise CommandError(f"{folder} has no course.json.")
            problems += course_problems(path)
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s).")
        self.stdout.write("No problems.")
