from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from pathways import views
from training.history import site_history_results_view, site_history_view

urlpatterns = [
    # One sign-in path, allauth's: Wagtail's admin and front-end sign-in routes lead there, so
    # MFA, rate limits and email verification apply everywhere. These come before Wagtail's
    # own URLs, which would otherwise answer them.
    path("admin/login/", views.sign_in_redirect_view, name="wagtailadmin_login"),
    path("_util/login/", views.sign_in_redirect_view, name="wagtailcore_login"),
    re_path(
        r"^admin/password_reset/",
        views.password_reset_redirect_view,
        name="wagtailadmin_password_reset",
    ),
    path("admin/failwhale/", views.not_found_view, name="wagtailadmin_error_test"),
    path("admin/test404/", views.not_found_view, name="pathways_admin_test404"),
    path("health/", views.health_view, name="health"),
    path("health/worker/", views.worker_health_view, name="health_worker"),
    path("accounts/", include("allauth.urls")),
    path("account/", include("officers.urls")),
    path("learning/", include("training.urls")),
    path("learning/", include("courses.urls")),
    path("scenarios/", include("scenarios.urls")),
    path("certificates/", include("certificates.urls")),
    # Wagtail's Reports > Site history, scoped to a lead's units (training.history). These paths
    # come before Wagtail's, so its URL names (wagtailadmin_reports:site_history, ..._results)
    # reverse to the same paths and resolve here.
    path("admin/reports/site-history/", site_history_view),
    path("admin/reports/site-history/results/", site_history_results_view),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
