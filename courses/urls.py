from django.urls import path

from courses import assessment_views, views

app_name = "courses"

urlpatterns = [
    path("search/", views.search_view, name="search"),
    path("lessons/<int:lesson_id>/complete/", views.lesson_complete_view, name="lesson_complete"),
    path("lessons/<int:lesson_id>/check/", views.lesson_check_view, name="lesson_check"),
    path(
        "lessons/<int:lesson_id>/as/<slug:mode>/", views.lesson_view_as_view, name="lesson_view_as"
    ),
    path("courses/<int:course_id>/continue/", views.course_continue_view, name="continue"),
    path("courses/<int:course_id>/start/", views.course_start_view, name="start"),
    path(
        "courses/<int:course_id>/assessment/start/",
        assessment_views.start_view,
        name="assessment_start",
    ),
    path("assessments/<int:assessment_id>/", assessment_views.attempt_view, name="assessment"),
    path(
        "assessments/<int:assessment_id>/questions/<int:position>/",
        assessment_views.question_view,
        name="assessment_question",
    ),
    path(
        "assessments/<int:assessment_id>/check/",
        assessment_views.check_view,
        name="assessment_check",
    ),
    path(
        "assessments/<int:assessment_id>/submit/",
        assessment_views.submit_view,
        name="assessment_submit",
    ),
]
