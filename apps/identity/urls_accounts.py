"""Account pages that exist on every host (tenant and public): the MFA check at log-in, the
Security page with its factors, and the Sessions page."""

from django.urls import include, path

from . import views_security as views

urlpatterns = [
    path("accounts/2fa/", views.mfa_verify, name="mfa_verify"),
    path("accounts/passkeys/", include("apps.identity.urls_passkeys")),
    path("security/", views.security, name="security"),
    path("security/authenticator/", views.totp_enrol, name="totp_enrol"),
    path("security/codes/<str:kind>/", views.message_factor_enrol, name="message_factor_enrol"),
    path("security/factors/<str:kind>/<int:pk>/remove/", views.factor_remove, name="factor_remove"),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("security/recovery-codes/download/", views.recovery_codes_download, name="recovery_codes_download"),
    path("security/recovery-codes/done/", views.recovery_codes_done, name="recovery_codes_done"),
    path("security/sessions/", views.session_list, name="session_list"),
    path("security/sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("security/sessions/end-others/", views.session_end_others, name="session_end_others"),
]
