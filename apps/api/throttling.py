"""The rate limit and usage metering of every API call, as a DRF throttle (the setting
DEFAULT_THROTTLE_CLASSES): apps.core.api's base view checks it after authentication and before the
permission check, and puts its response_headers() on every answer of the call, the 429 included.

DRF imports this module while it defines APIView (its class attributes read the settings), so it
must not import rest_framework.views, nor apps.core.api.views or .schema, at module level."""

from rest_framework.throttling import BaseThrottle

from apps.core.api.authentication import principal_of
from apps.core.limits import limit_check

from .authentication import KeyPrincipal
from .metering import POLICY, WINDOW, meter


class MeteringThrottle(BaseThrottle):
    """Counts the call (apps.api.metering): refused past the plan's limit; an API key's calls are
    also counted as its usage. No limit while Redis is down; anonymous calls are not counted
    (they are refused with a 401)."""

    state = None  # the call's RateLimit, once counted

    def allow_request(self, request, view):
        return self.charge(request, 1)

    def charge(self, request, cost: int) -> bool:
        """Counts a call that costs `cost` of the window's calls (a GraphQL query's price)."""
        user = request.user
        if user is None or not user.is_authenticated:
            return True
        key = request.auth if isinstance(request.auth, KeyPrincipal) else None
        tenant = request._request.tenant
        self.state = meter.hit(tenant=tenant, principal=principal_of(request), key_id=key and key.id, cost=cost)
        if self.state is not None and self.state.exceeded:
            return False
        if key is not None:  # an integrator's call: the plan's API calls a month (LimitReached: a 402)
            limit_check(tenant=tenant, quantity="api_calls", adding=cost)
        return True

    def wait(self):
        return self.state.reset

    def response_headers(self) -> dict:
        return self.state.headers() if self.state is not None else {}

    @classmethod
    def schema_headers(cls) -> dict:
        """The headers of its answers, for the OpenAPI document (apps.core.api.schema)."""
        from apps.core.api.schema import response_header

        return {
            "RateLimit-Policy": response_header(
                {"type": "string", "pattern": f'^"{POLICY}";q=[0-9]+;w={WINDOW}$'},
                f'The quota (draft-ietf-httpapi-ratelimit-headers): `"{POLICY}";q=<calls>;w={WINDOW}`, the calls '
                f"the organisation's plan allows per {WINDOW}-second window.",
            ),
            "RateLimit": response_header(
                {"type": "string", "pattern": f'^"{POLICY}";r=[0-9]+;t=[0-9]+$'},
                f'What is left: `"{POLICY}";r=<calls left>;t=<seconds until the window ends>`.',
            ),
            "RateLimit-Limit": response_header(
                {"type": "integer"}, "Deprecated: the `q` of RateLimit-Policy.", deprecated=True
            ),
            "RateLimit-Remaining": response_header(
                {"type": "integer"}, "Deprecated: the `r` of RateLimit.", deprecated=True
            ),
            "RateLimit-Reset": response_header(
                {"type": "integer"}, "Deprecated: the `t` of RateLimit.", deprecated=True
            ),
        }
