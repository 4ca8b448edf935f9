from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("verify/", views.verify_form_view, name="verify_form"),
    path("verify/<str:code>/", views.verify_code_view, name="verify"),
    path("<int:pk>/download/", views.download_view, name="download"),
]
