"""Layout of a scenario map: steps as boxes in columns by distance from the start, choices
as arrows. Plain data for the SVG template; no Django."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from scenarios import engine

BOX_W, BOX_H = 190, 74
COL_GAP, ROW_GAP, MARGIN = 90, 28, 20


@dataclass(frozen=True)
class Box:
    key: str
    label: str
    x: int
    y: int
    kind: str  # "start", "decision", "pass", "fail", "neutral", "ending"
    problem: bool
    reachable: bool


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    path: str
    label: str
    label_x: int
    label_y: int
    critical: bool


@dataclass(frozen=True)
class ScenarioMap:
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    width: int
    height: int
    problems: tuple[engine.Problem, ...]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scenario_map(scenario: engine.Scenario) -> ScenarioMap:
    problems = tuple(engine.validate(scenario))
    flagged = {p.step for p in problems if p.step}
    keys = [s.key for s in scenario.steps]
    column: dict[str, int] = {}
    if scenario.has_step(scenario.start):
        column[scenario.start] = 0
        queue = deque([scenario.start])
        while queue:
            key = queue.popleft()
            for choice in scenario.step(key).choices:
                if scenario.has_step(choice.next) and choice.next not in column:
                    column[choice.next] = column[key] + 1
                    queue.append(choice.next)
    last = max(column.values(), default=-1) + 1
    for key in keys:  # unreachable steps stand in a column of their own, at the end
        column.setdefault(key, last)
    rows: dict[int, int] = {}
    boxes: dict[str, Box] = {}
    for step in scenario.steps:
        if step.key in boxes:
            continue
        col = column[step.key]
        row = rows.get(col, 0)
        rows[col] = row + 1
        if step.key == scenario.start:
            kind = "start"
        elif step.is_ending:
            kind = step.outcome or "ending"
        else:
            kind = "decision"
        boxes[step.key] = Box(
            key=step.key,
            label=_short(step.text),
            x=MARGIN + col * (BOX_W + COL_GAP),
            y=MARGIN + row * (BOX_H + ROW_GAP),
            kind=kind,
            problem=step.key in flagged,
            reachable=col < last or step.key == scenario.start,
        )
    arrows = []
    for step in scenario.steps:
        source = boxes[step.key]
        for number, choice in enumerate(step.choices):
            target = boxes.get(choice.next)
            if target is None:
                continue
            x1, y1 = source.x + BOX_W, source.y + BOX_H // 2
            x2, y2 = target.x, target.y + BOX_H // 2
            if x2 <= x1:  # a loop back: go round underneath
                drop = max(source.y, target.y) + BOX_H + ROW_GAP // 2
                path = f"M{x1},{y1} C{x1 + 60},{drop} {x2 - 60},{drop} {x2},{y2}"
                lx, ly = (x1 + x2) // 2, drop
            else:
                mid = (x1 + x2) // 2
                path = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
                lx, ly = mid, (y1 + y2) // 2
            sign = "+" if choice.points > 0 else ""
            arrows.append(
                Arrow(
                    source=step.key,
                    target=choice.next,
                    path=path,
                    label=f"{sign}{choice.points}" + (" !" if choice.critical else ""),
                    label_x=lx,
                    label_y=ly - 4 - 13 * number,  # parallel arrows: labels stacked
                    critical=choice.critical,
                )
            )
    width = MARGIN * 2 + (max(column.values(), default=0) + 1) * (BOX_W + COL_GAP)
    height = MARGIN * 2 + max(rows.values(), default=1) * (BOX_H + ROW_GAP) + ROW_GAP
    return ScenarioMap(tuple(boxes.values()), tuple(arrows), width, height, problems)
