"""Signed links of one tenant: a token carries its data and the schema it was made in, and is read
back only in that schema and while fresh (another tenant's token, or a forged one, reads as None)."""

from django.core import signing
from django.db import connection


class LinkExpired(Exception):
    pass


def tenant_link_token(data: dict, *, salt: str) -> str:
    return signing.dumps({**data, "s": connection.schema_name}, salt=salt, compress=True)


def tenant_link_read(token: str, *, salt: str, max_age) -> dict | None:
    """The token's data when it is ours, of the schema being served and fresh; None when it is not;
    LinkExpired when it is older than `max_age` (seconds or a timedelta)."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != connection.schema_name:
        return None
    return data
