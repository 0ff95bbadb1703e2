"""The public site at the bare base domain: landing page, sign-up, log-in, the platform admin."""

from django.contrib import admin
from django.urls import include, path

from apps.identity import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("switch/<slug:slug>/", views.switch_tenant, name="switch_tenant"),
    # The second-factor step, the Security and Sessions pages, passkeys: before allauth's URLs.
    path("", include("apps.identity.urls_accounts")),
    path("accounts/signup/finish/<str:token>/", views.signup_finish, name="signup_finish"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "apps.core.views.not_found"
handler403 = "apps.core.views.forbidden"
handler500 = "apps.core.views.server_error"
