"""What an authentication class (DEFAULT_AUTHENTICATION_CLASSES) gives the rest of the API.

On success it returns (user, auth) as DRF has it, and it sets `request.membership`: the caller's
membership in the tenant being served (an object with `role` and `allows(permission)`), or None
when the user is not a member. A credential that carries scopes (an API key) is a Credential in
`request.auth`; the session's auth is None.
"""


class Credential:
    """request.auth for a call made with a scoped credential: `scopes` limit what it may reach
    (apps.core.api.scopes), `principal` is who is counted and remembered (rate limits,
    idempotency), e.g. "key:<id>"."""

    scopes: tuple[str, ...] = ()
    principal: str = ""


def principal_of(request) -> str:
    """Who is calling: the credential's principal, else "user:<id>" (a session)."""
    auth = request.auth
    if isinstance(auth, Credential):
        return auth.principal
    return f"user:{request.user.pk}"
