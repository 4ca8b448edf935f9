"""Authoring scenarios in the admin: drafts with problems, publishing refused, import/export,
the map, analytics, and the demo scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from wagtail.test.utils.form_data import nested_form_data, streamfield

from officers.models import Role
from scenarios import engine
from scenarios.models import Attempt, Scenario
from scenarios.services import attempt_choose, attempt_start, scenario_import
from tests.factories import make_officer
from tests.scenarios.conftest import DOC, document

NS = "/admin/snippets/scenarios/scenario"
DEMO = Path(__file__).resolve().parents[2] / "scenarios" / "demo"


@pytest.fixture
def author_client(org, no_staff_mfa) -> Client:  # noqa: ANN001
    author = make_officer(unit=org.east, role=Role.AUTHOR, email="author@police.scot")
    client = Client()
    client.force_login(author)
    return client


def form_data(doc: dict, action: str | None = None) -> dict:
    steps = []
    for step in doc["steps"]:
        choices = step.get("choices", [])
        steps.append(
            (
                "step",
                {
                    "key": step["key"],
                    "text": step["text"],
                    "choices": streamfield(
                        [
                            (
                                "item",
                                {
                                    "text": c["text"],
                                    "next": c["next"],
                                    "points": c.get("points", 0),
                                    "feedback": c.get("feedback", ""),
                                    "critical": "on" if c.get("critical") else "",
                                    "pinned": "on" if c.get("pinned") else "",
                                    "sets": " ".join(c.get("sets", [])),
                                },
                            )
                            for c in choices
                        ]
                    ),
                    "outcome": step.get("outcome", ""),
                    "debrief": step.get("debrief", ""),
                    "debriefs": streamfield(
                        [
                            (
                                "item",
                                {
                                    "condition": "unless" if "unless" in d else "if",
                                    "flag": d.get("unless", d.get("if")),
                                    "text": d["text"],
                                },
                            )
                            for d in step.get("debriefs", [])
                        ]
                    ),
                },
            )
        )
    data = nested_form_data(
        {
            "title": doc["title"],
            "summary": doc.get("summary", ""),
            "pass_mark": doc["pass_mark"],
            "start": doc["start"],
            "steps": streamfield(steps),
        }
    )
    if action:
        data[action] = "1"
    return data


def broken_doc() -> dict:
    doc = document(start="nowhere")
    doc["steps"][1]["choices"][0]["next"] = "missing"
    return doc


def test_saving_a_draft_with_problems_is_allowed_and_shows_them(author_client) -> None:
    response = author_client.post(f"{NS}/add/", form_data(broken_doc()), follow=True)
    assert response.status_code == 200
    scenario = Scenario.objects.get()
    assert not scenario.live and scenario.latest_revision is not None
    body = response.content.decode()
    assert "cannot be published until they are fixed" in body
    edit = author_client.get(f"{NS}/edit/{scenario.pk}/").content.decode()
    assert "Problems to fix before publishing" in edit
    assert "nowhere" in edit and "missing" in edit


def test_publishing_is_refused_until_the_scenario_is_valid(author_client) -> None:
    author_client.post(f"{NS}/add/", form_data(broken_doc()))
    scenario = Scenario.objects.get()
    response = author_client.post(
        f"{NS}/edit/{scenario.pk}/", form_data(broken_doc(), action="action-publish")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "cannot be published until these problems are fixed" in body
    assert "nowhere" in body and "missing" in body
    scenario.refresh_from_db()
    assert not scenario.live
    # Fixed, it publishes.
    response = author_client.post(
        f"{NS}/edit/{scenario.pk}/", form_data(DOC, action="action-publish")
    )
    assert response.status_code == 302
    scenario.refresh_from_db()
    assert scenario.live and scenario.live_revision_id is not None


def test_publishing_an_invalid_revision_is_refused_by_the_model(db) -> None:
    scenario = scenario_import(raw=json.dumps(DOC))
    scenario.start = "nowhere"
    revision = scenario.save_revision()
    with pytest.raises(engine.ScenarioInvalid):
        revision.publish()
    scenario.refresh_from_db()
    assert not scenario.live


def test_map_shows_steps_choices_endings_and_problems(author_client) -> None:
    author_client.post(f"{NS}/add/", form_data(broken_doc()))
    scenario = Scenario.objects.get()
    body = author_client.get(f"{NS}/map/{scenario.pk}/").content.decode()
    assert "<svg" in body
    for key in ("arrive", "call", "good-end", "bad-end"):
        assert key in body
    assert "✓ pass" in body and "✗ fail" in body
    assert "box--problem" in body
    assert "nowhere" in body


def test_preview_as_a_learner_and_as_a_map(author_client, scenario) -> None:
    url = f"{NS}/preview/{scenario.pk}/"
    data = form_data(DOC)
    assert author_client.post(url, data).status_code == 200
    body = author_client.get(url).content.decode()
    assert "You find a man slumped" in body
    body = author_client.get(url + "?mode=map").content.decode()
    assert "<svg" in body


# ------------------------------------------------------------------ import and export


def upload(client: Client, raw: bytes, name: str = "scenario.json"):  # noqa: ANN201
    return client.post(f"{NS}/import/", {"file": SimpleUploadedFile(name, raw, "application/json")})


def test_import_in_the_admin_creates_a_draft(author_client) -> None:
    response = upload(author_client, json.dumps(DOC).encode())
    scenario = Scenario.objects.get()
    assert response["Location"] == f"{NS}/edit/{scenario.pk}/"
    assert not scenario.live
    assert scenario.to_engine() == engine.parse_document(DOC)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps(document(format="pathways-scenario/3")).encode(), "format"),
        (json.dumps(document(colour="blue")).encode(), "colour"),
        (json.dumps(broken_doc()).encode(), "nowhere"),
        (b" " * (engine.MAX_BYTES + 1), "1 MB"),
    ],
)
def test_bad_documents_are_refused_whole(author_client, raw: bytes, message: str) -> None:
    response = upload(author_client, raw)
    assert response.status_code in (200, 400)
    assert message in response.content.decode()
    assert not Scenario.objects.exists()


def test_too_many_steps_is_refused(author_client) -> None:
    steps = [
        {"key": f"s{i}", "text": "x", "choices": [{"text": "on", "next": f"s{i + 1}"}]}
        for i in range(501)
    ]
    steps.append({"key": "s501", "text": "end", "outcome": "pass"})
    response = upload(author_client, json.dumps(document(start="s0", steps=steps)).encode())
    assert "500" in response.content.decode()
    assert not Scenario.objects.exists()


def test_import_refuses_other_file_types(author_client) -> None:
    response = upload(author_client, b"a,b,c", name="scenario.csv")
    assert "Choose a .json file" in response.content.decode()


def test_export_then_import_gives_back_the_same_scenario(author_client, scenario) -> None:
    response = author_client.get(f"{NS}/export/{scenario.pk}/")
    assert response["Content-Type"].startswith("application/json")
    exported = json.loads(response.content)
    assert engine.parse_document(exported) == engine.parse_document(DOC)
    again = scenario_import(raw=response.content)
    assert again.to_engine() == scenario.to_engine()


def test_learners_cannot_use_the_authoring_views(client, learner, scenario) -> None:
    client.force_login(learner)
    for url in (f"{NS}/import/", f"{NS}/export/{scenario.pk}/", f"{NS}/map/{scenario.pk}/"):
        assert client.get(url).status_code in (302, 403)


def test_management_commands(db, tmp_path, capsys) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(DOC))
    call_command("import_scenario", str(path), "--publish")
    scenario = Scenario.objects.get()
    assert scenario.live
    out = tmp_path / "out.json"
    call_command("export_scenario", str(scenario.pk), "-o", str(out))
    assert engine.parse_document(json.loads(out.read_text())) == engine.parse_document(DOC)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken_doc()))
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_scenario", str(bad))
    assert "nowhere" in capsys.readouterr().err
    assert Scenario.objects.count() == 1
    with pytest.raises(CommandError, match="no scenario"):
        call_command("export_scenario", "999999")


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.json")), ids=lambda p: p.name)
def test_demo_scenarios_are_valid_and_rich(path: Path) -> None:
    scenario = engine.parse_json(path.read_bytes())
    report = engine.analyse(scenario)
    assert report.valid, report.problems
    assert len(scenario.steps) >= 8
    assert sum(1 for s in scenario.steps if s.is_ending) >= 2
    assert any(c.critical for s in scenario.steps for c in s.choices)
    assert {s.outcome for s in scenario.steps if s.is_ending} >= {"pass", "fail"}


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.json")), ids=lambda p: p.name)
def test_demo_scenarios_are_version_2_and_export_as_they_are(path: Path) -> None:
    raw = path.read_bytes()
    document = json.loads(raw)
    assert document["format"] == "pathways-scenario/2"
    assert all("id" in c for step in document["steps"] for c in step.get("choices", []))
    scenario = engine.parse_json(raw)
    exported = json.dumps(engine.to_document(scenario), indent=2, ensure_ascii=False) + "\n"
    assert exported == raw.decode("utf-8")
    # The place of the best choice gives nothing away (the length still does: the texts are
    # for the curriculum rewrite to change).
    assert not [w for w in engine.analyse(scenario).warnings if " choice in " in w.message]


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.json")), ids=lambda p: p.name)
def test_demo_debriefs_praise_only_what_the_route_did(path: Path) -> None:
    """A pass ending's general debrief holds for every route to it, so praise for one step is
    conditional, on a flag that only the best choice at that step sets."""
    scenario = engine.parse_json(path.read_bytes())
    setters: dict[str, list[tuple[engine.Step, engine.Choice]]] = {}
    for step in scenario.steps:
        for choice in step.choices:
            for flag in choice.sets:
                setters.setdefault(flag, []).append((step, choice))
    for ending in (s for s in scenario.steps if s.outcome == "pass"):
        assert ending.debriefs, ending.key
        for debrief in ending.debriefs:
            assert not debrief.unless
            for step, choice in setters[debrief.flag]:
                assert choice.points == max(c.points for c in step.choices), (step.key, choice.id)
                assert not choice.critical


UNSAFE = {  # unlawful or dangerous: critical in the demo content
    "overdose-stairwell.json": [
        "search-first", "hands-on-first", "recovery-position-first", "benzos-no-naloxone",
        "test-then-give", "keep-recovery-position", "cpr-no-second-dose", "flag-down-ambulance",
        "threaten-arrest", "let-him-go", "block-the-stairs", "check-without-moving",
        "carry-on-cpr",
    ],
    "person-in-distress.json": [
        "threaten-arrest", "restrain", "steer-by-arm", "could-be-worse", "force-to-ae",
        "helpline-only", "vague-question", "refer-and-leave", "arrest-for-safety",
        "leave-and-label",
    ],
    "handover-language.json": [
        "leave-unchecked", "threaten-arrest", "submit-as-is", "swap-junkie-for-addict",
        "heroin-addict", "the-addict", "regular-junkie",
    ],
    "possession-stop.json": [
        "grab-both", "arrest-supply-by-association", "accept-or-arrest", "rpw-for-supply",
        "word-of-advice", "accept-explanation", "education-referral", "what-they-all-say",
        "stoner-label", "scumbag-label",
    ],
    "possession-stop-england-wales.json": [
        "grab-both", "arrest-supply-by-association", "accept-or-cell", "prosecution-if-miss",
        "cr-for-supply", "cannabis-warning-for-supply", "accept-explanation",
        "education-referral", "stoner-label", "what-they-all-say", "scumbag-label",
    ],
    "young-person-found-with-drugs.json": [
        "grab-arm", "simple-possession", "threaten-names", "let-go-cousin", "label-record",
        "verdict-record",
    ],
}  # fmt: skip


def test_every_demo_scenario_lists_its_critical_choices() -> None:
    assert set(UNSAFE) == {path.name for path in DEMO.glob("*.json")}


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_demo_unsafe_choices_are_critical(name: str) -> None:
    scenario = engine.parse_json((DEMO / name).read_bytes())
    critical = {c.id for step in scenario.steps for c in step.choices if c.critical}
    assert critical == set(UNSAFE[name])


def test_demo_scenarios_load_through_the_command(db, capsys) -> None:
    for path in sorted(DEMO.glob("*.json")):
        call_command("import_scenario", str(path), "--publish")
    assert Scenario.objects.filter(live=True).count() == len(list(DEMO.glob("*.json"))) == 6


# ------------------------------------------------------------------------ analytics


def play(user, scenario, choices: list[tuple[str, str]]) -> Attempt:  # noqa: ANN001
    attempt = attempt_start(user=user, scenario_id=scenario.pk)
    for step, choice_id in choices:
        attempt_choose(user=user, attempt_id=attempt.pk, step=step, choice=choice_id)
    attempt.refresh_from_db()
    return attempt


def test_analytics_counts_steps_and_choices_scoped_to_the_leads_units(
    org, scenario, north_lead, east_lead, administrator, no_staff_mfa
) -> None:
    dundee = [make_officer(unit=org.dundee) for _ in range(3)]
    leith = make_officer(unit=org.leith)
    play(dundee[0], scenario, [("arrive", "c1"), ("call", "c1")])
    play(dundee[1], scenario, [("arrive", "c1"), ("call", "c2")])
    play(dundee[2], scenario, [("arrive", "c2")])
    play(leith, scenario, [("arrive", "c3"), ("call", "c1")])

    client = Client()
    client.force_login(administrator)
    body = client.get(f"{NS}/analytics/{scenario.pk}/").content.decode()
    assert "4 attempts" in body
    assert "reached by 3 attempts" in body  # "call"

    client.force_login(north_lead)
    body = client.get(f"{NS}/analytics/{scenario.pk}/").content.decode()
    assert "3 attempts" in body
    assert "Leith" not in body  # units outside the lead's scope are not offered

    client.force_login(east_lead)
    body = client.get(f"{NS}/analytics/{scenario.pk}/").content.decode()
    assert "1 attempt" in body
    response = client.get(f"{NS}/analytics/{scenario.pk}/?unit={org.dundee.pk}")
    assert "Select a valid choice" in response.content.decode()


def test_analytics_filters_by_unit_date_and_revision(org, scenario, administrator, no_staff_mfa):
    officer = make_officer(unit=org.dundee)
    first = play(officer, scenario, [("arrive", "c1"), ("call", "c1")])
    client = Client()
    client.force_login(administrator)
    url = f"{NS}/analytics/{scenario.pk}/"
    assert "1 attempt" in client.get(f"{url}?unit={org.tayside.pk}").content.decode()
    assert "0 attempts" in client.get(f"{url}?unit={org.east.pk}").content.decode()
    assert "0 attempts" in client.get(f"{url}?start=2999-01-01").content.decode()
    body = client.get(f"{url}?revision={first.revision_id}").content.decode()
    assert "1 attempt" in body and f"#{first.revision_id}" in body
    body = client.get(f"{url}?start=2026-02-01&end=2026-01-01").content.decode()
    assert "must be on or before" in body


def test_a_draft_needs_a_title_and_a_scenario_always_has_a_name(author_client) -> None:
    response = author_client.post(f"{NS}/add/", {**form_data({**DOC, "title": ""}), "title": ""})
    assert response.status_code == 200 and not Scenario.objects.exists()
    assert "This field is required" in response.content.decode()
    assert str(Scenario(title="")) == "Untitled scenario"


def test_the_preview_panel_may_frame_its_preview_and_nothing_else_may(
    author_client, scenario
) -> None:
    url = f"{NS}/preview/{scenario.pk}/"
    author_client.post(url, form_data(DOC))
    preview = author_client.get(url)
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    editor = author_client.get(f"{NS}/edit/{scenario.pk}/")
    assert "frame-ancestors 'none'" in editor["Content-Security-Policy"]
    assert editor["X-Frame-Options"] == "DENY"


# ---------------------------------------------------- version 2 in the editor and the map


def test_the_editor_authors_flags_pinned_choices_and_conditional_debriefs(author_client) -> None:
    doc = document()
    doc["steps"][0]["choices"][0]["sets"] = ["called", "safe"]
    doc["steps"][0]["choices"].append(
        {"text": "None of these", "next": "call", "points": 0, "pinned": True}
    )
    doc["steps"][2]["debriefs"] = [
        {"if": "called", "text": "You called early."},
        {"unless": "called", "text": "Call first."},
    ]
    response = author_client.post(f"{NS}/add/", form_data(doc, action="action-publish"))
    assert response.status_code == 302, response.content.decode()[:2000]
    built = Scenario.objects.get().to_engine()
    first = built.step("arrive").choices
    assert first[0].sets == ("called", "safe") and first[-1].pinned
    assert len({c.id for c in first}) == 4  # Wagtail's item ids, kept as the choice ids
    assert built.step("good-end").debriefs == (
        engine.Debrief("called", "You called early."),
        engine.Debrief("called", "Call first.", unless=True),
    )
    # Saved again, the ids stay: they are what attempts record.
    scenario = Scenario.objects.get()
    again = scenario.latest_revision.as_object().to_engine()
    assert [c.id for c in again.step("arrive").choices] == [c.id for c in first]


def test_a_debrief_on_a_flag_nobody_sets_blocks_publishing(author_client) -> None:
    doc = document()
    doc["steps"][2]["debriefs"] = [{"if": "praised", "text": "Well done."}]
    response = author_client.post(f"{NS}/add/", form_data(doc, action="action-publish"))
    assert response.status_code == 200
    assert "no choice sets the flag" in response.content.decode()
    assert not Scenario.objects.filter(live=True).exists()


def test_warnings_show_in_the_editor_and_on_the_map_but_do_not_block(author_client) -> None:
    # A demo scenario (which draws no warning) with every best choice made the longest.
    doc = json.loads((DEMO / "possession-stop.json").read_text(encoding="utf-8"))
    decisions = 0
    for step in doc["steps"]:
        if step.get("choices"):
            best = max(step["choices"], key=lambda choice: choice["points"])
            best["text"] += " " + "and explain it all carefully " * 8
            decisions += 1
    scenario = scenario_import(raw=json.dumps(doc))
    edit = author_client.get(f"{NS}/edit/{scenario.pk}/").content.decode()
    assert "Warnings (they do not stop publishing)" in edit
    longest = f"longest in {decisions} of {decisions} decisions"
    assert f"The best choice is also the {longest}" in edit
    assert "No problems: this scenario can be published." in edit
    page = author_client.get(f"{NS}/map/{scenario.pk}/").content.decode()
    assert "1 warning" in page and longest in page
    assert "not passed, try again" in page  # the legend says what a neutral ending means
    assert "Most decisions on a path" in page


def test_a_long_scenario_keeps_every_step_when_saved(author_client) -> None:
    """No size limit in the forged-POST guard: 120 steps posted by the editor are 120 saved."""
    steps = [
        {
            "key": f"s{i}",
            "text": f"Step {i}.",
            "choices": [
                {"id": f"go-{i}", "text": "Go on", "next": f"s{i + 1}", "points": 1},
                {"id": f"stop-{i}", "text": "Stop", "next": "end", "points": 0},
            ],
        }
        for i in range(119)
    ]
    steps[-1]["choices"][0]["next"] = "end"
    doc = {
        "format": "pathways-scenario/2",
        "title": "Long",
        "pass_mark": 50,
        "start": "s0",
        "steps": [*steps, {"key": "end", "text": "The end.", "outcome": "pass"}],
    }
    response = author_client.post(f"{NS}/add/", form_data(doc))
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Scenario.objects.get(title="Long")
    assert len(saved.get_latest_revision_as_object().steps) == 120


@pytest.mark.parametrize("nested", [None, "x", "99"])
def test_a_forged_nested_count_is_a_message_not_a_500(author_client, nested) -> None:  # noqa: ANN001
    data = form_data(document(), action="action-publish")
    key = next(k for k in data if k.endswith("-value-choices-count"))
    if nested is None:
        del data[key]
    else:
        data[key] = nested
    response = author_client.post(f"{NS}/add/", data)
    assert response.status_code == 200
    assert not Scenario.objects.filter(live=True).exists()
