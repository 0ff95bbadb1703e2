"""The public site at the bare base domain: landing page, sign-up, log-in, the platform admin.

Each hub app's `urls_public.py`, if it has one, is mounted under the app's url_prefix
(apps.core.mounts); then allauth's account pages and the admin.
"""

from django.contrib import admin
from django.urls import include, path

from apps.core.mounts import public_urlpatterns
from config import admin as operator_admin

urlpatterns = [
    *public_urlpatterns(),
    path("accounts/", include("allauth.urls")),
    path("admin/", include(operator_admin.urlpatterns)),
    path("admin/", admin.site.urls),
]

handler404 = "apps.core.views.not_found"
handler403 = "apps.core.views.forbidden"
handler500 = "apps.core.views.server_error"
