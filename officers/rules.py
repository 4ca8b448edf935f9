"""Plain domain rules for accounts, tested without a database."""

from __future__ import annotations

from collections.abc import Iterable


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def domain_allowed(email: str, patterns: Iterable[str]) -> bool:
    """Whether an address's domain matches one of the patterns.

    `police.scot` matches exactly that domain; `*.police.uk` matches any subdomain of
    police.uk (`met.police.uk`, `a.b.police.uk`) but not `police.uk` itself nor
    `evilpolice.uk`.
    """
    domain = email_domain(email)
    if not domain:
        return False
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if pattern.startswith("*."):
            if domain.endswith("." + pattern[2:]):
                return True
        elif pattern and domain == pattern:
            return True
    return False
