"""Reads that depend on who is asking: the unit scope of training leads."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from officers.models import OfficerProfile, Unit, User


def subtree_q(paths: list[str], field: str = "path") -> Q:
    """Rows whose `field` (a unit path) lies under any of these paths; none if no paths."""
    query = Q(pk__in=[])
    for path in paths:
        query |= Q(**{f"{field}__startswith": path})
    return query


def led_unit_paths(user: User) -> list[str] | None:
    """Tree paths of the units a user leads; None means every unit (administrators)."""
    if user.is_superuser:
        return None
    paths = sorted(Unit.objects.filter(leads__user=user).values_list("path", flat=True))
    # Drop paths already covered by an ancestor in the list.
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


def units_visible_to(user: User) -> QuerySet[Unit]:
    """The units a user may see: for a lead, the units they lead and everything under them."""
    paths = led_unit_paths(user)
    if paths is None:
        return Unit.objects.all()
    return Unit.objects.filter(subtree_q(paths))


def officers_visible_to(user: User) -> QuerySet[OfficerProfile]:
    """Officer profiles a user may see as a training lead or administrator."""
    profiles = OfficerProfile.objects.select_related("user", "unit", "force")
    paths = led_unit_paths(user)
    if paths is None:
        return profiles
    return profiles.filter(subtree_q(paths, field="unit__path"))


def user_can_manage_unit(user: User, unit: Unit) -> bool:
    paths = led_unit_paths(user)
    return paths is None or any(unit.path.startswith(p) for p in paths)


def officer_jurisdiction(user: User) -> str | None:
    """The officer's jurisdiction: their force's (`Unit.jurisdiction` on the root of their
    unit, or their profile's force). None when they have no force or it has none set."""
    officer = getattr(user, "officer", None) if user.is_authenticated else None
    if officer is None:
        return None
    force = officer.force
    if force is None and officer.unit is not None:
        force = officer.unit.get_force()
    return (force.jurisdiction or None) if force is not None else None


def force_jurisdictions() -> set[str]:
    """The jurisdictions the forces have ("" for a force with none set), in one query."""
    forces = Unit.objects.filter(depth=1).order_by()
    return set(forces.values_list("jurisdiction", flat=True).distinct())
