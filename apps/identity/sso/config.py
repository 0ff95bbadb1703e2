"""The SP configuration of a tenant: each tenant is its own service provider."""

import saml2
from django.conf import settings
from django.http import Http404
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

from apps.tenancy.models import Tenant

from ..mfa import tenant_security_get

XMLSEC_BINARY = "/usr/bin/xmlsec1"


def sp_base_url(request) -> str:
    return f"{settings.HUB_SCHEME}://{request.get_host()}"


def tenant_of(request) -> Tenant:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        raise Http404
    return tenant


def sp_config_dict(*, base_url: str, tenant: Tenant, idp_metadata_xml: str) -> dict:
    config = {
        "entityid": f"{base_url}/saml2/metadata/",
        "xmlsec_binary": getattr(settings, "SAML_XMLSEC_BINARY", XMLSEC_BINARY),
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": tenant.name,
                "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
                "endpoints": {
                    "assertion_consumer_service": [(f"{base_url}/saml2/acs/", saml2.BINDING_HTTP_POST)],
                },
                # Responses are also accepted without a matching request in this browser's saml
                # cookie (IdP-initiated log-in, and SameSite rules drop that cookie on plain
                # HTTP); replay is stopped by the assertion-ID check instead.
                "allow_unsolicited": True,
                "authn_requests_signed": False,
                "want_assertions_signed": True,
                "want_response_signed": False,
            }
        },
        "accepted_time_diff": 60,
    }
    if idp_metadata_xml:
        config["metadata"] = {"inline": [idp_metadata_xml]}
    return config


def saml_config_for_request(request) -> SPConfig:
    tenant = tenant_of(request)
    policy = tenant_security_get(tenant=tenant)
    if not policy.sso_enabled or not policy.idp_metadata_xml:
        # The SP metadata is served either way, so an admin can register the SP before enabling it.
        if not request.path_info.startswith("/saml2/metadata/"):
            raise Http404("Single sign-on is not set up for this organisation.")
    conf = SPConfig()
    conf.load(sp_config_dict(base_url=sp_base_url(request), tenant=tenant, idp_metadata_xml=policy.idp_metadata_xml))
    return conf
