"""A software passkey: an ES256 key pair that answers WebAuthn assertions as a platform
authenticator would (user present and verified), so tests can run the real ceremony views
(/accounts/passkeys/authentication/begin/ and /complete/) with Django's test client."""

import base64
import hashlib
import json
import secrets

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftPasskey:
    def __init__(self, user, host: str):
        from django_otp_webauthn.models import WebAuthnCredential

        self.host = host
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(16)
        self.sign_count = 0
        numbers = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        self.device = WebAuthnCredential.objects.create(
            user=user,
            name="Soft passkey",
            confirmed=True,
            credential_id=self.credential_id,
            public_key=cbor2.dumps(cose),
            sign_count=0,
            aaguid="00000000-0000-0000-0000-000000000000",
            discoverable=True,
        )

    def assertion(self, challenge: str) -> dict:
        """The browser's PublicKeyCredential (as JSON) answering `challenge` on this host."""
        self.sign_count += 1
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": challenge, "origin": f"{settings.HUB_SCHEME}://{self.host}"}
        ).encode()
        flags = bytes([0x01 | 0x04])  # user present, user verified
        auth_data = hashlib.sha256(self.host.encode()).digest() + flags + self.sign_count.to_bytes(4, "big")
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64url(auth_data),
                "clientDataJSON": b64url(client_data),
                "signature": b64url(signature),
            },
            "clientExtensionResults": {},
        }

    def log_in(self, client):
        """Runs the passkey log-in ceremony in `client` (a client on this host); the completion's response."""
        options = client.post("/accounts/passkeys/authentication/begin/", content_type="application/json")
        assert options.status_code == 200, options.content
        body = json.dumps(self.assertion(options.json()["challenge"]))
        return client.post("/accounts/passkeys/authentication/complete/", body, content_type="application/json")
