"""The base of every app's API: the same rules for every endpoint, whichever app owns it.

An app's `api/` package builds on these modules and imports nothing from apps.api:

- views: HubAPIView, HubGenericAPIView, HubGenericViewSet (scope and role permission, ETag,
  If-Match, deprecation headers, the audit actor, and the slots below);
- permissions: HubPermission (the key's scope and the caller's role); scopes: what a scope allows;
- authentication: Credential (what a scoped credential such as an API key gives request.auth);
- serializers, filters, pagination: strict fields, filters and cursors (a 400 naming the field);
- exceptions: problem+json errors (the DRF exception handler), versioning: URL versions and their
  deprecation headers, schema: the OpenAPI details (errors, headers, parameters) of every operation.

What the integrator API adds plugs in through settings, so this package never imports it:
DEFAULT_AUTHENTICATION_CLASSES (API keys, the session), DEFAULT_THROTTLE_CLASSES (rate limits
and usage metering) and HUB_API_IDEMPOTENCY_CLASS (Idempotency-Key on POST).
"""
