from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "pathways"
    label = "pathways"
    verbose_name = "Pathways site"
    default_auto_field = "django.db.models.BigAutoField"
