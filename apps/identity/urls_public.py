"""Identity's pages on the public site: the landing page, the tenant switcher, and the account
pages every host has (before allauth's URLs, which config/urls_public.py mounts after the apps)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("switch/<slug:slug>/", views.switch_tenant, name="switch_tenant"),
    # The second-factor step, the Security and Sessions pages, passkeys.
    path("", include("apps.identity.urls_accounts")),
    path("accounts/signup/finish/<str:token>/", views.signup_finish, name="signup_finish"),
]
