"""A real SAML 2.0 identity provider for the tests, built with pysaml2.

It signs its assertions with a self-signed certificate made here (cryptography); `response()`
builds an HTTP-POST SAMLResponse for the hub's ACS, with knobs for the refusals the tests check
(unsigned, wrong audience, expired). `wsgi_app` serves it over HTTP for the browser test: GET
/sso answers an AuthnRequest (HTTP-Redirect binding) with an auto-posting form.
"""

import base64
import datetime
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

import saml2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server

XMLSEC = "/usr/bin/xmlsec1"


def self_signed_cert(common_name: str) -> tuple[str, str]:
    """(key PEM, certificate PEM) of a fresh self-signed RSA certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


class TestIdP:
    __test__ = False  # not a pytest class

    def __init__(self, base_url: str = "http://127.0.0.1:9", sp_metadata: list[str] = (), lifetime_minutes: int = 5):
        self.base_url = base_url.rstrip("/")
        self.entity_id = f"{self.base_url}/metadata"
        self.dir = Path(tempfile.mkdtemp(prefix="hub-idp-"))
        key, cert = self_signed_cert("hub test idp")
        (self.dir / "idp.key").write_text(key)
        (self.dir / "idp.crt").write_text(cert)
        self.sp_metadata = list(sp_metadata)
        self.lifetime_minutes = lifetime_minutes
        self.server = self._server()

    def _config(self) -> dict:
        conf = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": str(self.dir / "idp.key"),
            "cert_file": str(self.dir / "idp.crt"),
            "service": {
                "idp": {
                    "name": "Hub test IdP",
                    "endpoints": {"single_sign_on_service": [(f"{self.base_url}/sso", saml2.BINDING_HTTP_REDIRECT)]},
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "policy": {
                        "default": {"lifetime": {"minutes": self.lifetime_minutes}, "attribute_restrictions": None}
                    },
                    "want_authn_requests_signed": False,
                }
            },
        }
        if self.sp_metadata:
            conf["metadata"] = {"inline": self.sp_metadata}
        return conf

    def _server(self) -> Server:
        config = IdPConfig()
        config.load(self._config())
        return Server(config=config)

    def trust_sp(self, metadata_xml: str) -> None:
        self.sp_metadata.append(metadata_xml)
        self.server = self._server()

    def metadata_xml(self) -> str:
        config = IdPConfig()
        config.load({k: v for k, v in self._config().items() if k != "metadata"})
        return str(entity_descriptor(config))

    def response(
        self,
        *,
        email: str,
        acs_url: str,
        sp_entity_id: str,
        in_response_to: str | None = None,
        sign: bool = True,
        lifetime_minutes: int | None = None,
    ) -> str:
        """A base64 SAMLResponse as the HTTP-POST binding carries it."""
        server = self.server
        if lifetime_minutes is not None:
            self.lifetime_minutes, saved = lifetime_minutes, self.lifetime_minutes
            server = self._server()
            self.lifetime_minutes = saved
        response = server.create_authn_response(
            identity={"email": [email]},
            in_response_to=in_response_to,
            destination=acs_url,
            sp_entity_id=sp_entity_id,
            userid=email,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=email),
            authn={"class_ref": saml2.saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
            sign_assertion=sign,
            sign_response=False,
        )
        return base64.b64encode(str(response).encode()).decode()

    # --- served over HTTP (browser test) -------------------------------------------------------

    def wsgi_app(self, email: str):
        def app(environ, start_response):
            if environ["PATH_INFO"] != "/sso":
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"not found"]
            query = parse_qs(environ.get("QUERY_STRING", ""))
            request = self.server.parse_authn_request(query["SAMLRequest"][0], saml2.BINDING_HTTP_REDIRECT)
            message = request.message
            saml_response = self.response(
                email=email,
                acs_url=message.assertion_consumer_service_url,
                sp_entity_id=message.issuer.text,
                in_response_to=message.id,
            )
            relay = query.get("RelayState", [""])[0]
            page = f"""<!doctype html><html><body><h1>Hub test IdP</h1>
<p>Signed in as {email}.</p>
<form method="post" action="{message.assertion_consumer_service_url}">
<input type="hidden" name="SAMLResponse" value="{saml_response}">
<input type="hidden" name="RelayState" value="{relay}">
<button type="submit">Continue to the service</button></form></body></html>"""
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [page.encode()]

        return app
