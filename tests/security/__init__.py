"""Security tests for Pathways, gathered in one place.

What lives here:

- ``test_access.py``: three intruders (another learner, the training lead of another unit, an
  anonymous visitor) against every learner-facing and admin view that shows an officer's data.
- ``test_csrf.py``: every state-changing endpoint refuses a POST without a CSRF token and
  changes nothing; state-changing learner endpoints answer GET with 405; resolver walks make a
  new POST view without a test fail.
- ``test_enumeration.py``: certificate codes and numbers cannot be guessed or looked up alone.
- ``test_rate_limits.py``: sign-in, sign-up, password reset and certificate checks.
- ``test_headers.py``: CSP, X-Frame-Options, Referrer-Policy, nosniff across responses.
- ``test_uploads.py``: officer CSV, scenario JSON and image uploads are size- and type-checked.
- ``test_references.py``: security tests that live beside the code they test (tampering,
  replay, enumeration, WeasyPrint fetching and escaping, HSTS, check --deploy), checked to
  still exist so that this package stays the index of them all.

A test that exposes a real bug is marked ``xfail(strict=True, reason="BUG: ...")``: it fails
loudly (XPASS) once the bug is fixed, so the mark is removed with the fix.
"""
