from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
HUB_FIELD_ENCRYPTION_KEYS = env.list("HUB_FIELD_ENCRYPTION_KEYS")  # required: secrets at rest
HUB_SCHEME = "https"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
HUB_CSP = HUB_CSP.replace("http://", "https://")  # noqa: F405
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
# Webhooks and push endpoints: https only, never a loopback/private/link-local/metadata address.
HUB_WEBHOOK_REQUIRE_HTTPS = True
HUB_WEBHOOK_ALLOW_LOOPBACK = False
# The integration hub's connectors: the same rules for the services tenants connect.
HUB_INTEGRATIONS_REQUIRE_HTTPS = True
HUB_INTEGRATIONS_ALLOW_LOOPBACK = False
HUB_SIEM_ALLOW_LOOPBACK = False
# Identity: passkey origins and djangosaml2's cookie (sent on the IdP's cross-site POST) follow https.
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"https://{HUB_BASE_DOMAIN}"]  # noqa: F405
SAML_SESSION_COOKIE_SAMESITE = env("SAML_SESSION_COOKIE_SAMESITE", default="None")
# Logs: one JSON object per line, for the log shipper.
HUB_LOG_FORMAT = env("HUB_LOG_FORMAT", default="json")
LOGGING["formatters"]["hub"]["fmt"] = HUB_LOG_FORMAT  # noqa: F405
# Traces: one request in ten starts a kept trace (when tracing is on and OTEL_TRACES_SAMPLER is
# not set), which keeps tracing within the 5 % the hub aims at (docs/operations/observability.md).
HUB_TRACING_SAMPLE_RATIO = env.float("HUB_TRACING_SAMPLE_RATIO", default=0.1)
