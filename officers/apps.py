from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficersConfig(AppConfig):
    name = "officers"
    label = "officers"
    verbose_name = _("Officers and units")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from officers import receivers  # noqa: F401  (connects signal receivers)
