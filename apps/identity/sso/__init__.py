"""SAML 2.0 single sign-on per tenant (djangosaml2 + pysaml2).

Each tenant is its own service provider: entity ID and metadata at
`<tenant address>/saml2/metadata/`, assertions received at `<tenant address>/saml2/acs/`. The
SP configuration is built per request from the tenant's TenantSecurity row
(settings.SAML_CONFIG_LOADER = "apps.identity.sso.saml_config_for_request").

- config.py: the SP configuration of a tenant;
- metadata.py: the IdP's metadata, fetched from its URL through core's SSRF guard and parsed;
- services.py: saving a tenant's SSO settings;
- assertions.py: receiving assertions (the authentication backend, the refusal page).

Accepted: a response whose assertion is signed by the IdP of the tenant's metadata, for this
tenant's audience, within its validity window, not seen before (assertion IDs are remembered
until they expire), naming an email of one of the tenant's SSO domains. The user is created on
first log-in ("just in time") and joins the tenant with its default role; an account that already
exists must already be a member (the hub does not verify who owns an email domain, so an IdP may
not take over an account made elsewhere).

Settings name the backend, the config loader and the refusal page by their paths in this package
(a session remembers the path of the backend that logged it in), so they are exported here.
"""

from .assertions import SSOError, TenantSAMLBackend, acs_failure, sso_user_for_assertion
from .config import saml_config_for_request, sp_base_url, sp_config_dict
from .metadata import idp_entity_id_from_metadata, metadata_fetch
from .services import sso_settings_update

__all__ = [
    "SSOError",
    "TenantSAMLBackend",
    "acs_failure",
    "idp_entity_id_from_metadata",
    "metadata_fetch",
    "saml_config_for_request",
    "sp_base_url",
    "sp_config_dict",
    "sso_settings_update",
    "sso_user_for_assertion",
]
