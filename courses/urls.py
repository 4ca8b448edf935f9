from django.urls import path

from courses import views

app_name = "courses"

urlpatterns = [
    path("search/", views.search_view, name="search"),
    path("lessons/<int:lesson_id>/complete/", views.lesson_complete_view, name="lesson_complete"),
    path("courses/<int:course_id>/continue/", views.course_continue_view, name="continue"),
    path("courses/<int:course_id>/start/", views.course_start_view, name="start"),
]
