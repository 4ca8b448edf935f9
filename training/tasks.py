"""Background work (Django's Tasks API; run by `python manage.py db_worker`)."""

from django_tasks import task

from training.admin_views import export_file_write
from training.export_files import export_file_build


@task()
def build_export_file(export_id: int) -> str | None:
    """Write one export file (training.export_files.export_file_build); returns its status."""
    export = export_file_build(export_id, write=export_file_write)
    return export.status if export is not None else None
