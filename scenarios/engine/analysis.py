"""Validation, analysis and scoring of a Scenario's step graph.

`validate` lists every problem with a scenario's structure and graph; `analyse` adds what an
author needs to know (best and worst scores, pass threshold, number of paths, the most decisions
on a path, and warnings). Both come from one examination of the graph, done once per Scenario.
`author_warnings` gives advice that never blocks publishing: a best choice that gives itself
away by being the longest, or by always standing at the same place.

Scoring rules, fixed here once for the whole platform:

- The score of an attempt is the sum of the points of the choices taken.
- `max_score` is the best score over all paths from the start to an ending.
- `score_percent(score, max_score)` is `floor(100 * score / max_score)` clamped to 0-100 when
  `max_score > 0`; when `max_score <= 0` it is 100 if `score >= max_score`, else 0.
- `threshold_for(pass_mark, max_score)` is the fewest points that reach the pass mark:
  `ceil(pass_mark * max_score / 100)` in exact integer arithmetic when `max_score > 0`;
  `max_score` itself when `max_score <= 0` (a percentage of it means nothing, so the attempt
  must do as well as possible); None when `pass_mark` is 0 (any score will do, even one below
  zero, which shows as 0%).
- The two agree: `score >= threshold` (or threshold None) exactly when
  `score_percent(score, max_score) >= pass_mark`, so what a learner sees matches the verdict.
- An attempt passes when it ends on a `pass` ending, reaches the threshold, and took no
  critical choice (`play.result` applies this rule). A `neutral` ending never passes: nothing
  went wrong, but the officer did not reach the outcome the training is after.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scenarios.engine.model import (
    _KEY,
    MAX_STEPS,
    OUTCOMES,
    PASSING_OUTCOMES,
    PATH_LIMIT,
    POINTS_MAX,
    POINTS_MIN,
    Problem,
    Report,
    Scenario,
    ScenarioInvalid,
    Step,
)


@dataclass(frozen=True)
class _Facts:
    problems: tuple[Problem, ...]
    max_score: int | None
    min_score: int | None
    pass_threshold: int | None
    path_count: int
    path_count_capped: bool
    max_decisions: int | None = None


# An edge of the step graph: (from step, to step, points, critical).
_Edge = tuple[str, str, int, bool]


def _facts(s: Scenario) -> _Facts:
    """What `_examine` finds about `s`, worked out once per Scenario.

    The cache lives in the instance `__dict__`, as `functools.cached_property` would keep it: a
    frozen dataclass allows that, and the cache is not a field, so equality and hashing ignore
    it. It is not a cached_property on Scenario because `model` does not import this module.
    """
    facts: _Facts | None = s.__dict__.get("_facts")
    if facts is None:
        facts = s.__dict__["_facts"] = _examine(s)
    return facts


def validate(s: Scenario) -> list[Problem]:
    """Every problem with the scenario's structure and graph; empty when it is valid."""
    return list(_facts(s).problems)


def analyse(s: Scenario) -> Report:
    facts = _facts(s)
    return Report(
        problems=facts.problems,
        max_score=facts.max_score,
        min_score=facts.min_score,
        pass_threshold=facts.pass_threshold,
        path_count=facts.path_count,
        path_count_capped=facts.path_count_capped,
        max_decisions=facts.max_decisions,
        warnings=tuple(author_warnings(s)),
    )


def max_decisions(s: Scenario) -> int | None:
    """The most decisions on any path from the start to an ending ("Decision 3 of up to 7");
    None when a loop on the way makes the number unbounded, or the graph is broken."""
    return _facts(s).max_decisions


def max_score(s: Scenario) -> int:
    """The best score over all paths from the start to an ending."""
    facts = _facts(s)
    value = facts.max_score
    if value is None:
        raise ScenarioInvalid(facts.problems or [Problem(None, "There is no maximum score.")])
    return value


def pass_threshold(s: Scenario) -> int | None:
    """The points an attempt needs to pass; None when any score will do (`threshold_for`)."""
    return threshold_for(s.pass_mark, max_score(s))


def threshold_for(pass_mark: int, max_score: int) -> int | None:
    """ceil(pass_mark% of max_score); max_score itself when it is 0 or less; None (any score)
    when the pass mark is 0."""
    if pass_mark <= 0:
        return None
    if max_score <= 0:
        return max_score
    return -(-(pass_mark * max_score) // 100)


def score_percent(score: int, max_score: int) -> int:
    """The score as a whole percentage of the maximum, rounded down, from 0 to 100."""
    if max_score <= 0:
        return 100 if score >= max_score else 0
    return max(0, min(100, (score * 100) // max_score))


def _examine(s: Scenario) -> _Facts:
    problems: list[Problem] = []

    index: dict[str, Step] = {}
    duplicated: dict[str, None] = {}
    for step in s.steps:
        if step.key in index:
            duplicated[step.key] = None
        else:
            index[step.key] = step
    for key in duplicated:
        problems.append(Problem(key, f'The key "{key}" is used by more than one step.'))

    if len(s.steps) > MAX_STEPS:
        problems.append(
            Problem(None, f"The scenario has {len(s.steps)} steps; the limit is {MAX_STEPS}.")
        )
    pass_mark_ok = (
        isinstance(s.pass_mark, int)
        and not isinstance(s.pass_mark, bool)
        and 0 <= s.pass_mark <= 100
    )
    if not pass_mark_ok:
        problems.append(Problem(None, f"The pass mark must be from 0 to 100, not {s.pass_mark!r}."))
    start_ok = s.start in index
    if not start_ok:
        problems.append(Problem(None, f'The start step "{s.start}" does not exist.'))

    flags_set = {flag for step in s.steps for choice in step.choices for flag in choice.sets}
    edges: list[_Edge] = []
    for key, step in index.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            problems.append(Problem(key, 'The key must be 1 to 64 letters, digits, "-" or "_".'))
        if step.is_ending:
            if step.outcome not in OUTCOMES:
                problems.append(
                    Problem(key, 'This ending needs an outcome of "pass", "fail" or "neutral".')
                )
            problems += _debrief_problems(key, step, flags_set)
            continue
        if step.outcome is not None:
            problems.append(Problem(key, "Only endings have an outcome; this step has choices."))
        if step.debrief:
            problems.append(Problem(key, "Only endings have a debrief; this step has choices."))
        if step.debriefs:
            problems.append(Problem(key, "Only endings have debriefs; this step has choices."))
        problems += _choice_identity_problems(key, step)
        for number, choice in enumerate(step.choices, 1):
            points_ok = (
                isinstance(choice.points, int)
                and not isinstance(choice.points, bool)
                and POINTS_MIN <= choice.points <= POINTS_MAX
            )
            if not points_ok:
                problems.append(
                    Problem(
                        key,
                        f"Choice {number}: points must be from {POINTS_MIN} to {POINTS_MAX}, "
                        f"not {choice.points!r}.",
                    )
                )
            if choice.next in index:
                edges.append((key, choice.next, int(choice.points), bool(choice.critical)))
            else:
                problems.append(
                    Problem(key, f'Choice {number} leads to "{choice.next}", which is not a step.')
                )

    forward: dict[str, list[str]] = {key: [] for key in index}
    backward: dict[str, list[str]] = {key: [] for key in index}
    for source, target, _points, _critical in edges:
        forward[source].append(target)
        backward[target].append(source)

    reached = _reach([s.start], forward) if start_ok else {}
    if start_ok:
        for key in index:
            if key not in reached:
                problems.append(
                    Problem(key, f'This step cannot be reached from the start step "{s.start}".')
                )
    endings = [key for key, step in index.items() if step.is_ending]
    finishing = _reach(endings, backward)
    for key in index:
        if key not in finishing:
            problems.append(Problem(key, "No ending can be reached from this step."))

    components = _components(list(index), forward)
    cyclic = [c for c in components if len(c) > 1 or c[0] in forward[c[0]]]
    order = {key: position for position, key in enumerate(index)}
    unbounded: set[str] = set()  # steps on a loop that gains points
    for component in cyclic:
        members = set(component)
        inside = [(u, v, w) for u, v, w, _c in edges if u in members and v in members]
        loop = _gaining_loop(members, inside)
        if loop is None:
            continue
        unbounded |= members
        problems.append(_loop_problem(loop, order))

    # From here on, only what lies on some path from the start to an ending matters.
    useful = [key for key in index if key in reached and key in finishing]
    useful_set = set(useful)
    if not start_ok or s.start not in finishing:
        return _Facts(tuple(problems), None, None, None, 0, False)

    capped = any(component[0] in useful_set for component in cyclic)
    path_count = PATH_LIMIT if capped else _count_paths(s.start, components, index, edges)
    if path_count > PATH_LIMIT:
        path_count, capped = PATH_LIMIT, True

    # Sort edges in breadth-first order so that Bellman-Ford settles in few passes.
    rank = {key: position for position, key in enumerate(reached)}
    live = sorted(
        (e for e in edges if e[0] in useful_set and e[1] in useful_set), key=lambda e: rank[e[0]]
    )
    useful_endings = [key for key in useful if index[key].is_ending]

    if unbounded & useful_set:
        return _Facts(tuple(problems), None, None, None, path_count, capped)

    decisions = None
    if not capped:  # no loop on the way: the useful steps form a DAG
        steps_taken = _longest(s.start, [(u, v, 1) for u, v, _w, _c in live], len(useful))
        assert steps_taken is not None
        decisions = max(steps_taken[key] for key in useful_endings)

    longest = _longest(s.start, [(u, v, w) for u, v, w, _c in live], len(useful))
    assert longest is not None  # no gaining loop among the useful steps
    best = max(longest[key] for key in useful_endings)
    shortest = _longest(s.start, [(u, v, -w) for u, v, w, _c in live], len(useful))
    worst = None if shortest is None else -max(shortest[key] for key in useful_endings)

    threshold = threshold_for(s.pass_mark, best) if pass_mark_ok else None
    if pass_mark_ok:
        problem = _pass_problem(s, index, live, len(useful), best, threshold)
        if problem is not None:
            problems.append(problem)
    return _Facts(tuple(problems), best, worst, threshold, path_count, capped, decisions)


def _pass_problem(
    s: Scenario,
    index: Mapping[str, Step],
    live: list[_Edge],
    size: int,
    best: int,
    threshold: int | None,
) -> Problem | None:
    """The 'no path can pass' problem, if there is one."""
    if not any(step.outcome in PASSING_OUTCOMES for step in index.values() if step.is_ending):
        return Problem(None, 'No path can pass: no ending has the outcome "pass".')
    safe = [(u, v, w) for u, v, w, critical in live if not critical]
    scores = _longest(s.start, safe, size)
    assert scores is not None  # a subgraph of a graph without gaining loops
    passing = [
        scores[key]
        for key in scores
        if index[key].is_ending and index[key].outcome in PASSING_OUTCOMES
    ]
    if not passing:
        return Problem(
            None,
            "No path can pass: every route to a pass ending takes a critical choice.",
        )
    if threshold is not None and max(passing) < threshold:
        return Problem(
            None,
            f"No path can pass: the best score on a route to a pass ending without a critical "
            f"choice is {max(passing)}, but the pass mark needs {threshold} "
            f"({s.pass_mark}% of the maximum score, {best}).",
        )
    return None


_ID_RULE = '1 to 64 letters, digits, "-" or "_"'


def _choice_identity_problems(key: str, step: Step) -> list[Problem]:
    """Choice ids (unique within the step) and the names of the flags choices set."""
    problems = []
    first_with: dict[str, int] = {}
    for number, choice in enumerate(step.choices, 1):
        if not isinstance(choice.id, str) or not _KEY.fullmatch(choice.id):
            problems.append(
                Problem(key, f"Choice {number}: the id must be {_ID_RULE}, not {choice.id!r}.")
            )
        elif choice.id in first_with:
            problems.append(
                Problem(
                    key,
                    f'Choice {number}: the id "{choice.id}" is already used by choice '
                    f"{first_with[choice.id]} of this step; ids must be unique within a step.",
                )
            )
        else:
            first_with[choice.id] = number
        for flag in choice.sets:
            if not isinstance(flag, str) or not _KEY.fullmatch(flag):
                problems.append(
                    Problem(key, f"Choice {number}: a flag must be {_ID_RULE}, not {flag!r}.")
                )
    return problems


def _debrief_problems(key: str, step: Step, flags_set: set[str]) -> list[Problem]:
    """An ending's conditional debriefs: each names a flag that some choice sets."""
    problems = []
    for number, debrief in enumerate(step.debriefs, 1):
        if not isinstance(debrief.flag, str) or not _KEY.fullmatch(debrief.flag):
            message = f"Debrief {number}: the flag must be {_ID_RULE}, not {debrief.flag!r}."
            problems.append(Problem(key, message))
        elif debrief.flag not in flags_set:
            problems.append(
                Problem(
                    key,
                    f'Debrief {number}: no choice sets the flag "{debrief.flag}", so this debrief '
                    f"{'would always show' if debrief.unless else 'could never show'}.",
                )
            )
    return problems


# --- Author warnings ----------------------------------------------------------------------------

# A habit shows once it holds in more than half of the decisions that can show it, and there are
# at least this many of them.
WARN_MIN_DECISIONS = 3
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def author_warnings(s: Scenario) -> list[Problem]:
    """Advice for the author; never a reason to refuse a scenario.

    Looks at the decisions with at least two choices and one best choice (the only one with
    the most points). Warns when, in more than half of them (and at least three), the best choice
    has the longest text, or stands at the same place in the authored order (always first, or
    always last): an officer could then pass by the length or the place of an answer instead of
    by judgement. Options are shuffled for officers, but previews, exports, pinned choices and
    authors' habits still show.
    """
    eligible: list[tuple[Step, int]] = []  # (decision, position of its best choice)
    for step in s.steps:
        if len(step.choices) < 2:
            continue
        points = [choice.points for choice in step.choices]
        top = max(points)
        if points.count(top) == 1:
            eligible.append((step, points.index(top)))
    if len(eligible) < WARN_MIN_DECISIONS:
        return []
    warnings = []
    total = len(eligible)

    longest = 0
    for step, best in eligible:
        lengths = [len(" ".join(choice.text.split())) for choice in step.choices]
        if all(lengths[best] > length for i, length in enumerate(lengths) if i != best):
            longest += 1
    if 2 * longest > total:
        warnings.append(
            Problem(
                None,
                f"The best choice is also the longest in {longest} of {total} decisions: an "
                f"officer could pass by picking the longest answer. Make the other choices as "
                f"full, or the best one shorter.",
            )
        )

    places: Counter[str] = Counter()  # "first", "second", ... and "last" (counted as well)
    for step, best in eligible:
        places[_ORDINALS[best] if best < len(_ORDINALS) else f"{best + 1}th"] += 1
        if best == len(step.choices) - 1:
            places["last"] += 1
    place, count = places.most_common(1)[0]
    if 2 * count > total:
        warnings.append(
            Problem(
                None,
                f"The best choice is the {place} choice in {count} of {total} decisions. "
                f"Officers see the choices shuffled, but vary where you write the best one so "
                f"that the order gives nothing away.",
            )
        )
    return warnings


def _reach(sources: Iterable[str], neighbours: Mapping[str, list[str]]) -> dict[str, None]:
    """Steps reachable from `sources`, in breadth-first order (a dict used as an ordered set)."""
    seen: dict[str, None] = dict.fromkeys(sources)
    queue = deque(seen)
    while queue:
        for target in neighbours[queue.popleft()]:
            if target not in seen:
                seen[target] = None
                queue.append(target)
    return seen


def _components(nodes: list[str], forward: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative), in reverse topological order:
    every component comes after all the components it leads to."""
    number: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in nodes:
        if root in number:
            continue
        number[root] = low[root] = len(number)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(forward[root]))]
        while work:
            node, targets = work[-1]
            descended = False
            for target in targets:
                if target not in number:
                    number[target] = low[target] = len(number)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(forward[target])))
                    descended = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], number[target])
            if descended:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == number[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found


def _longest(source: str, edges: list[tuple[str, str, int]], size: int) -> dict[str, int] | None:
    """Best score from `source` to each step it reaches (Bellman-Ford for longest paths);
    None if a loop that gains points can be reached. `size` bounds the number of steps."""
    best = {source: 0}
    for _ in range(max(size, 1)):
        changed = False
        for u, v, w in edges:
            if u in best and (v not in best or best[u] + w > best[v]):
                best[v] = best[u] + w
                changed = True
        if not changed:
            return best
    return None


def _gaining_loop(members: set[str], edges: list[tuple[str, str, int]]) -> list[str] | None:
    """A loop whose points add up to more than 0 inside one component, in order, or None."""
    best = dict.fromkeys(members, 0)
    before: dict[str, str] = {}
    last: str | None = None
    for _ in range(len(members)):
        last = None
        for u, v, w in edges:
            if best[u] + w > best[v]:
                best[v] = best[u] + w
                before[v] = u
                last = v
        if last is None:
            return None
    # Still improving after |members| passes: walking back |members| times from the last step
    # improved lands on a loop of the predecessor graph, and such a loop gains points.
    node = last
    assert node is not None
    for _ in range(len(members)):
        node = before.get(node, node)
    loop = [node]
    previous = before.get(node, node)
    while previous != node and len(loop) <= len(members):
        loop.append(previous)
        previous = before.get(previous, node)
    loop.reverse()
    return loop


def _loop_problem(loop: list[str], order: Mapping[str, int]) -> Problem:
    first = min(range(len(loop)), key=lambda i: order[loop[i]])
    loop = loop[first:] + loop[:first]
    shown = loop if len(loop) <= 8 else [*loop[:7], "..."]
    route = " → ".join(f'"{key}"' if key != "..." else key for key in shown)
    return Problem(
        loop[0],
        f'This step is on a loop that gains points ({route} → "{loop[0]}"); '
        f"a loop's points must add up to 0 or less.",
    )


def _count_paths(
    start_key: str,
    components: list[list[str]],
    index: Mapping[str, Step],
    edges: list[_Edge],
) -> int:
    """Paths from the start to an ending, counted up to PATH_LIMIT + 1, when none of the steps
    between them is on a loop. Components arrive with every successor before its predecessor."""
    targets: dict[str, list[str]] = {key: [] for key in index}
    for source, target, _points, _critical in edges:
        targets[source].append(target)  # one entry per choice: two choices are two paths
    ways: dict[str, int] = {}
    for component in components:
        for key in component:
            if index[key].is_ending:
                ways[key] = 1
            else:
                ways[key] = min(PATH_LIMIT + 1, sum(ways.get(t, 0) for t in targets[key]))
    return ways.get(start_key, 0)
