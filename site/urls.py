from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    # The Wagtail admin signs in through allauth, so MFA and rate limits apply there too.
    path(
        "admin/login/",
        RedirectView.as_view(url="/accounts/login/", query_string=True),
        name="wagtailadmin_login",
    ),
    path("accounts/", include("allauth.urls")),
    path("learning/", include("training.urls")),
    path("learning/", include("courses.urls")),
    path("scenarios/", include("scenarios.urls")),
    path("certificates/", include("certificates.urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
