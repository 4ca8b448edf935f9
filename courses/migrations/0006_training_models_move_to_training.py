# The training-lead models (assignment rules, assignments, reminders, the export log) move to
# the `training` app. Only Django's idea of which app owns them changes here: their tables stay
# as they are (no row is touched), and training.0001 takes them over.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("courses", "0005_one_current_assignment"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Reminder"),
                migrations.DeleteModel(name="Assignment"),
                migrations.DeleteModel(name="AssignmentRule"),
                migrations.DeleteModel(name="ExportLog"),
            ],
            database_operations=[],
        ),
    ]
