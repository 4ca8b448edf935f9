"""factory_boy factories for the organisation."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from officers.models import OfficerProfile, Role, Unit, User
from officers.roles import user_set_role

PASSWORD = "correct-horse-battery-staple"


def make_unit(name: str, parent: Unit | None = None, kind: str | None = None) -> Unit:
    if parent is None:
        return Unit.add_root(name=name, kind=kind or Unit.Kind.FORCE)
    return parent.add_child(name=name, kind=kind or Unit.Kind.TEAM)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"officer{n}@test.police.uk")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


def make_officer(
    *,
    unit: Unit,
    role: Role = Role.LEARNER,
    service_number: str | None = None,
    leads: list[Unit] | None = None,
    **user_fields: object,
) -> User:
    user = UserFactory(**user_fields)
    OfficerProfile.objects.create(
        user=user,
        force=unit.get_force(),
        unit=unit,
        service_number=service_number or f"SN{user.pk:05d}",
        rank="Constable",
    )
    user_set_role(user=user, role=role)
    if leads:
        user.officer.led_units.add(*leads)
    return user


def make_course(
    home,  # noqa: ANN001
    *,
    title: str = "Test course",
    modules: int = 2,
    lessons: int = 2,
    publish: bool = True,
    **fields: object,
):  # noqa: ANN201
    """A published course with `modules` modules of `lessons` lessons each."""
    from django.utils.text import slugify

    from courses.demo import course_index
    from courses.models import CoursePage, ModulePage

    index = course_index(home)
    course = CoursePage(
        title=title,
        slug=slugify(title),
        summary=f"About {title}.",
        audience="Frontline officers",
        **fields,
    )
    index.add_child(instance=course)
    course.save_revision().publish()
    for m in range(1, modules + 1):
        module = ModulePage(title=f"{title} module {m}", slug=f"module-{m}")
        course.add_child(instance=module)
        module.save_revision().publish()
        for n in range(1, lessons + 1):
            add_lesson(module, f"{title} lesson {m}.{n}", slug=f"lesson-{m}-{n}")
    return course


def add_lesson(  # noqa: ANN201
    module,  # noqa: ANN001
    title: str,
    *,
    slug: str,
    body: list | None = None,
    audience: list[str] | None = None,
):
    """A published lesson; `audience`: the jurisdiction codes it is for (None: all)."""
    from courses.models import LessonPage

    lesson = LessonPage(
        title=title,
        slug=slug,
        body=body or [{"type": "text", "value": f"<p>Teaching text for {title}.</p>"}],
        audience=list(audience or []),
    )
    module.add_child(instance=lesson)
    lesson.save_revision().publish()
    return lesson


def set_jurisdiction(force: Unit, code: str) -> Unit:
    """Give a force (and so every unit and officer under it) a jurisdiction."""
    force.jurisdiction = code
    force.save(update_fields=["jurisdiction"])
    return force
