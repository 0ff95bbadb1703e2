"""django-otp-webauthn's JSON endpoints (its "otp_webauthn" namespace, which its template tags
reverse), with the hub's registration and authentication completion (apps/identity/passkeys.py)."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn.views import BeginCredentialRegistrationView

from .passkeys import AuthenticationBeginView, AuthenticationCompleteView, RegistrationCompleteView

app_name = "otp_webauthn"

urlpatterns = [
    path("registration/begin/", BeginCredentialRegistrationView.as_view(), name="credential-registration-begin"),
    path("registration/complete/", RegistrationCompleteView.as_view(), name="credential-registration-complete"),
    path("authentication/begin/", AuthenticationBeginView.as_view(), name="credential-authentication-begin"),
    path("authentication/complete/", AuthenticationCompleteView.as_view(), name="credential-authentication-complete"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]
