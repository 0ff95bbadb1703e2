"""The OpenAPI description of the two ways to call the API (drf-spectacular extensions, imported
by ApiConfig.ready()): an API key as a bearer token, and the dashboards' session cookie. The rest
of what the document says about every operation comes from apps.core.api.schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hub_<prefix>_<secret>",
            "description": "An API key of this organisation, created on the API keys page.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
