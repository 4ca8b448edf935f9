from django.urls import path

from training import views

# "My learning" is the learner's home in the site's navigation: its name has no namespace so
# that every app's pages can link to it.
urlpatterns = [
    path("", views.my_learning_view, name="my_learning"),
]
