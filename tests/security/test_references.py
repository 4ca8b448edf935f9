"""Security tests kept beside the code they test, gathered here by name.

Nothing is imported from those modules (importing would run their module-level setup and
collect nothing new); the test only checks they still exist and still hold these tests, so a
rename or a deletion is noticed here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

GATHERED: dict[str, list[str]] = {
    # Tampering, replay and someone else's attempt: the server is the only judge.
    "scenarios/test_play.py": [
        "test_replayed_or_double_submitted_choice_changes_nothing",
        "test_choice_not_on_the_current_step_is_refused",
        "test_bad_choice_values_are_refused",
        "test_choice_on_a_finished_attempt_is_refused",
        "test_another_officers_attempt_is_not_found",
        "test_anonymous_and_csrf_and_get",
        "test_unpublished_scenario_cannot_be_started",
    ],
    # Certificates: enumeration, scoping, public verification, rate limit.
    "certificates/test_issue.py": [
        "test_unknown_codes_get_the_same_shape",
        "test_another_learner_gets_404",
        "test_leads_see_their_units_certificates_only",
        "test_learner_cannot_revoke",
        "test_public_verification_shows_only_what_it_should",
        "test_verification_is_rate_limited",
    ],
    # WeasyPrint: no network or file access, officer data printed as text.
    "certificates/test_pdf.py": [
        "test_fetcher_refuses_anything_but_static_files",
        "test_fetcher_serves_files_from_staticfiles_dirs_but_not_through_symlinks",
        "test_html_with_remote_and_local_references_renders_without_touching_them",
        "test_officer_name_is_printed_as_text_not_markup",
        "test_every_text_field_is_escaped",
        "test_anything_but_png_or_jpeg_signature_is_left_out",
        "test_signature_data_uri_checks_the_magic_number",
    ],
    # Production settings: HSTS, secure cookies, check --deploy, no default secret key.
    "site/test_settings.py": [
        "test_check_deploy_is_clean_under_production_settings",
        "test_hsts_header_in_production",
        "test_production_refuses_to_start_without_a_secret_key",
        "test_security_headers_on_responses",
    ],
    # Accounts: lockout, enumeration-safe reset, MFA for staff, sessions, CSRF on logout.
    "officers/test_accounts.py": [
        "test_failed_sign_ins_are_rate_limited",
        "test_reset_for_an_unknown_address_does_not_reveal_it",
        "test_signup_outside_the_allowed_domains_is_refused_clearly",
        "test_staff_must_set_up_mfa_when_required",
        "test_signing_out_ends_every_session",
        "test_absolute_session_lifetime",
        "test_logout_needs_post_with_csrf",
    ],
    # Officer import and roles: scoping of training leads.
    "officers/test_import.py": [
        "test_oversized_file_is_refused",
        "test_admin_upload_refuses_non_csv_files",
        "test_training_lead_imports_learners_into_their_units_only",
        "test_learner_cannot_reach_the_import",
    ],
    "officers/test_roles.py": [
        "test_lead_sees_only_their_officers_in_the_admin",
        "test_lead_of_another_unit_gets_nothing",
        "test_learner_cannot_enter_the_admin",
    ],
}


@pytest.mark.parametrize("module", sorted(GATHERED))
def test_gathered_security_tests_still_exist(module: str) -> None:
    path = TESTS / module
    assert path.is_file(), f"{module} is gone: move its security tests here"
    defined = set(re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M))
    missing = [name for name in GATHERED[module] if name not in defined]
    assert not missing, f"{module} no longer has {missing}: update tests/security"
