"""Roles are Django groups; this module is the one place that knows their names and rights."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from officers.models import Role, User

GROUP_NAMES: dict[Role, str] = {
    Role.LEARNER: "Learners",
    Role.TRAINING_LEAD: "Training leads",
    Role.AUTHOR: "Authors",
    Role.ADMINISTRATOR: "Administrators",
}
STAFF_ROLES = frozenset({Role.TRAINING_LEAD, Role.AUTHOR, Role.ADMINISTRATOR})
STAFF_GROUP_NAMES = sorted(GROUP_NAMES[role] for role in STAFF_ROLES)

# "app_label.codename" of the model permissions each role's group holds. Authors also get
# page permissions on the course tree (granted by the courses app).
GROUP_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.LEARNER: (),
    Role.TRAINING_LEAD: (
        "wagtailadmin.access_admin",
        "officers.view_officerprofile",
        "officers.import_officers",
        "scenarios.view_scenario",
        "certificates.view_certificate",
        "certificates.revoke_certificate",
        "training.view_assignment",
        "training.add_assignmentrule",
        "training.view_reminder",
        # Force-local information, for the units they lead only (courses.wagtail_hooks).
        "courses.add_localinformation",
        "courses.change_localinformation",
        "courses.delete_localinformation",
        "courses.publish_localinformation",
        "courses.view_localinformation",
    ),
    Role.AUTHOR: (
        "wagtailadmin.access_admin",
        "wagtailimages.add_image",
        "wagtailimages.change_image",
        "wagtailimages.choose_image",
        "wagtaildocs.add_document",
        "wagtaildocs.change_document",
        "wagtaildocs.choose_document",
        "scenarios.add_scenario",
        "scenarios.change_scenario",
        "scenarios.publish_scenario",
        "scenarios.lock_scenario",
        "scenarios.unlock_scenario",
        "scenarios.view_scenario",
        "courses.add_bankquestion",
        "courses.change_bankquestion",
        "courses.delete_bankquestion",
        "courses.publish_bankquestion",
        "courses.view_bankquestion",
    ),
    Role.ADMINISTRATOR: ("wagtailadmin.access_admin",),
}

ROLE_ALIASES: dict[str, Role] = {
    **{role.value: role for role in Role},
    "lead": Role.TRAINING_LEAD,
    "admin": Role.ADMINISTRATOR,
}


def parse_role(text: str) -> Role | None:
    """Read a role as written in a CSV file: 'training_lead', 'Training lead', 'admin'..."""
    normalised = "_".join(text.lower().replace("-", " ").replace("_", " ").split())
    return ROLE_ALIASES.get(normalised)


def ensure_role_groups() -> dict[Role, Group]:
    """Create the four role groups with their permissions; safe to run any number of times."""
    groups: dict[Role, Group] = {}
    for role, name in GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in GROUP_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.add(*wanted)
        groups[role] = group
    _grant_root_collection(groups[Role.AUTHOR])
    return groups


def _grant_root_collection(group: Group) -> None:
    """Images and documents are permitted per collection: authors use the root collection."""
    from wagtail.models import Collection, GroupCollectionPermission

    root = Collection.get_first_root_node()
    if root is None:
        return
    for app_label, codenames in (
        ("wagtailimages", ("add_image", "change_image", "choose_image")),
        ("wagtaildocs", ("add_document", "change_document", "choose_document")),
    ):
        for permission in Permission.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        ):
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root, permission=permission
            )


def user_roles(user: User) -> set[Role]:
    names = {name: role for role, name in GROUP_NAMES.items()}
    roles = {names[g.name] for g in user.groups.all() if g.name in names}
    if user.is_superuser:
        roles.add(Role.ADMINISTRATOR)
    return roles


def primary_role(user: User) -> Role:
    """The highest role a user holds, for display and for CSV round trips."""
    return highest_role(user_roles(user))


def highest_role(roles: set[Role]) -> Role:
    """The highest of these roles (a learner's when none is higher)."""
    for role in (Role.ADMINISTRATOR, Role.TRAINING_LEAD, Role.AUTHOR):
        if role in roles:
            return role
    return Role.LEARNER


# has_staff_role keeps its answer on the user object under this name, for the request.
STAFF_ROLE_ATTR = "_pathways_staff_role"


def has_staff_role(user: User) -> bool:
    """Training leads, authors and administrators: the people who must use MFA."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    # Asked by more than one middleware and by pages in one request: one query per user object.
    cached = getattr(user, STAFF_ROLE_ATTR, None)
    if cached is None:
        cached = user.groups.filter(name__in=STAFF_GROUP_NAMES).exists()
        staff_role_remember(user, cached)
    return cached


def staff_role_remember(user: User, held: bool) -> None:
    """Keep on this user object whether they hold a staff role, for has_staff_role to answer
    from (officers.middleware.profile_of reads it with the profile, in the same query)."""
    setattr(user, STAFF_ROLE_ATTR, held)


@transaction.atomic
def user_set_role(*, user: User, role: Role) -> None:
    """Give the user exactly this role (one role group); administrators are superusers."""
    groups = ensure_role_groups()
    user.__dict__.pop(STAFF_ROLE_ATTR, None)  # has_staff_role asks again
    user.groups.remove(*[g for r, g in groups.items() if r != role])
    user.groups.add(groups[role])
    is_admin = role == Role.ADMINISTRATOR
    if user.is_superuser != is_admin or user.is_staff != is_admin:
        user.is_superuser = is_admin
        user.is_staff = is_admin
        user.save(update_fields=["is_superuser", "is_staff"])
