"""Prints a new VAPID key pair for Web Push, as the settings want them."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_key_pair() -> tuple[str, str]:
    """(public, private): the public key as the browser's applicationServerKey (uncompressed P-256
    point), the private key as the raw 32-byte scalar, both base64url without padding."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(public), _b64url(private)


class Command(BaseCommand):
    help = "Generate a VAPID key pair for Web Push (set HUB_VAPID_PUBLIC_KEY and HUB_VAPID_PRIVATE_KEY)."

    def handle(self, *args, **options):
        public, private = vapid_key_pair()
        self.stdout.write(f"HUB_VAPID_PUBLIC_KEY={public}\nHUB_VAPID_PRIVATE_KEY={private}\n")
