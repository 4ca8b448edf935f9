from django.urls import path

from scenarios import views

app_name = "scenarios"

urlpatterns = [
    path("<int:scenario_id>/start/", views.start_view, name="start"),
    path("attempts/<int:attempt_id>/", views.attempt_view, name="attempt"),
    path("attempts/<int:attempt_id>/choose/", views.choose_view, name="choose"),
    path("attempts/<int:attempt_id>/feedback/", views.feedback_view, name="feedback"),
]
