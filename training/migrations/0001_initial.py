# The training-lead models arrive from the `courses` app (courses.0006 let go of them). The
# state is taken over as it was, on the same tables, so an existing database keeps every row;
# their content types (and so the roles' permissions and the admin's history) move with them.
# training.0002 then gives the tables, constraints and indexes their own names.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ("assignmentrule", "assignment", "reminder", "exportlog")


def content_types_to(app_label):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        source = "courses" if app_label == "training" else "training"
        for model in MOVED:
            if ContentType.objects.filter(app_label=app_label, model=model).exists():
                continue  # already there (a database that ran post_migrate for both)
            ContentType.objects.filter(app_label=source, model=model).update(app_label=app_label)

    return move


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("certificates", "0002_certificate_refresher_from"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("courses", "0006_training_models_move_to_training"),
        ("officers", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AssignmentRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('due_date', models.DateField(blank=True, null=True, verbose_name='due on')),
                        ('due_days', models.PositiveIntegerField(blank=True, help_text='Days after the officer is assigned (for officers who join later, too).', null=True, verbose_name='due after (days)')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                        ('course', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='assignment_rules', to='courses.coursepage', verbose_name='course')),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('officers', models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='named officers')),
                        ('unit', models.ForeignKey(blank=True, help_text='Everyone in this unit and the units under it, now and later.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='assignment_rules', to='officers.unit', verbose_name='unit or intake')),
                    ],
                    options={
                        'db_table': 'courses_assignmentrule',
                        'verbose_name': 'assignment rule',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Assignment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('assigned', 'Assigned'), ('refresher', 'Refresher')], default='assigned', max_length=16)),
                        ('assigned_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='assigned at')),
                        ('due_on', models.DateField(verbose_name='due on')),
                        ('unit_path', models.CharField(blank=True, db_index=True, max_length=255)),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                        ('completed_at', models.DateTimeField(blank=True, null=True, verbose_name='completed at')),
                        ('current', models.BooleanField(default=True)),
                        ('course', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='courses.coursepage')),
                        ('source_certificate', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='refresher_assignments', to='certificates.certificate')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to=settings.AUTH_USER_MODEL)),
                        ('rule', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='training.assignmentrule')),
                    ],
                    options={
                        'db_table': 'courses_assignment',
                        'verbose_name': 'assignment',
                        'ordering': ['due_on'],
                    },
                ),
                migrations.CreateModel(
                    name='ExportLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('what', models.CharField(max_length=100)),
                        ('format', models.CharField(max_length=8)),
                        ('filters', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'courses_exportlog',
                        'verbose_name': 'export',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Reminder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('assigned', 'Course assigned'), ('due_soon', 'Due in 7 days'), ('overdue', 'Overdue'), ('expiring', 'Certificate expiring')], max_length=16)),
                        ('subject', models.CharField(max_length=255)),
                        ('sent_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='sent at')),
                        ('assignment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='training.assignment')),
                        ('certificate', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='certificates.certificate')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'courses_reminder',
                        'verbose_name': 'reminder',
                        'ordering': ['-sent_at'],
                    },
                ),
                migrations.AddIndex(
                    model_name='assignment',
                    index=models.Index(fields=['current', 'course', 'unit_path'], name='courses_ass_current_a53fc7_idx'),
                ),
                migrations.AddIndex(
                    model_name='assignment',
                    index=models.Index(fields=['current', 'due_on'], name='courses_ass_current_8c49d1_idx'),
                ),
                migrations.AddIndex(
                    model_name='assignment',
                    index=models.Index(fields=['user', 'course'], name='courses_ass_user_id_5dbd43_idx'),
                ),
                migrations.AddConstraint(
                    model_name='assignment',
                    constraint=models.UniqueConstraint(condition=models.Q(('rule__isnull', False)), fields=('user', 'rule'), name='courses_assigned_once_per_rule'),
                ),
                migrations.AddConstraint(
                    model_name='assignment',
                    constraint=models.UniqueConstraint(condition=models.Q(('source_certificate__isnull', False)), fields=('user', 'source_certificate'), name='courses_one_refresher_per_certificate'),
                ),
                migrations.AddConstraint(
                    model_name='reminder',
                    constraint=models.UniqueConstraint(condition=models.Q(('assignment__isnull', False)), fields=('assignment', 'kind'), name='courses_reminder_once_per_assignment'),
                ),
                migrations.AddConstraint(
                    model_name='reminder',
                    constraint=models.UniqueConstraint(condition=models.Q(('certificate__isnull', False)), fields=('certificate', 'kind'), name='courses_reminder_once_per_certificate'),
                ),
                migrations.AddConstraint(
                    model_name='assignment',
                    constraint=models.UniqueConstraint(condition=models.Q(('current', True)), fields=('user', 'course'), name='courses_one_current_assignment'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to("training"), content_types_to("courses")),
    ]
