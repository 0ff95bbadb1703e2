"""The IdP's metadata: fetched from the URL an admin gives, through core's SSRF guard, and parsed."""

import http.client
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from saml2.config import SPConfig

from apps.core import ssrf

from .config import XMLSEC_BINARY

FETCH_TIMEOUT = 10  # seconds
MAX_BYTES = 1 << 20


def idp_entity_id_from_metadata(xml: str) -> str:
    """The entity ID of the (single) IdP in `xml`; ValidationError naming the field if unusable."""
    from saml2.mdstore import InMemoryMetaData
    from saml2.sigver import security_context

    try:
        conf = SPConfig()
        conf.load({"entityid": "urn:hub:check", "xmlsec_binary": XMLSEC_BINARY})
        md = InMemoryMetaData(conf.attribute_converters, security_context(conf), entity_id="x")
        md.parse(xml)
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds on bad XML
        raise ValidationError(
            {"idp_metadata_xml": [f"This is not SAML metadata ({exc.__class__.__name__})."]}
        ) from None
    idps = [eid for eid, ent in md.items() if "idpsso_descriptor" in ent]
    if len(idps) != 1:
        raise ValidationError({"idp_metadata_xml": ["The metadata must describe exactly one identity provider."]})
    return idps[0]


def _policy() -> ssrf.Policy:
    """https to public addresses; HUB_SSO_METADATA_ALLOW_PRIVATE (an IdP inside the company's
    network, the tests' local IdP) allows http, loopback and private networks too."""
    inside = settings.HUB_SSO_METADATA_ALLOW_PRIVATE
    return ssrf.Policy(http=inside, loopback=inside, private=inside)


def _refused(message: str) -> ValidationError:
    return ValidationError({"idp_metadata_url": [message]})


def metadata_fetch(url: str) -> str:
    """The metadata XML at `url`. Fetched by the server, so through the SSRF guard: the host is
    resolved once, every address checked, and the connection made to the address checked (a
    second lookup could be answered with an internal address). ValidationError naming the field."""
    policy = _policy()
    scheme = url.partition(":")[0].lower()
    if scheme not in ("https", "http") or not urlsplit(url).hostname:
        raise _refused("Give an http(s) address.")
    if scheme == "http" and not policy.http:
        raise _refused("The metadata address must use https.")
    try:
        with ssrf.Session(policy) as session:
            response = session.get(url, timeout=FETCH_TIMEOUT, max_body=MAX_BYTES + 1)
    except ssrf.InternalAddress as exc:
        raise _refused(f"This address points inside a private network: {str(exc).rstrip('.')}.") from None
    except ssrf.BlockedDestination as exc:
        raise _refused(str(exc)) from None
    except ssrf.Unresolvable:
        raise _refused(f"{urlsplit(url).hostname} cannot be resolved.") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise _refused(f"The metadata could not be fetched ({exc.__class__.__name__}).") from None
    if response.status != 200:
        raise _refused(f"The metadata could not be fetched (the server answered {response.status}).")
    if len(response.body) > MAX_BYTES:
        raise _refused("The metadata is larger than 1 MB.")
    return response.body.decode("utf-8", "replace")
