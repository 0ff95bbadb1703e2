"""Secrets encrypted at rest (authenticator-app keys, webhook signing secrets).

Keys come from settings.HUB_FIELD_ENCRYPTION_KEYS: a list of Fernet keys, newest first.
Encryption always uses the first; decryption tries each. To rotate, put a new key in front, run
`manage.py rotate_mfa_keys` and `manage.py rotate_webhook_keys` (they re-encrypt every row with
the newest key), then remove the old key.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = settings.HUB_FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("HUB_FIELD_ENCRYPTION_KEYS must hold at least one Fernet key.")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("cannot decrypt: the value was encrypted with a key that is no longer configured") from None


def rotate(token: str) -> str:
    """Re-encrypts a token with the newest key."""
    return _fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plaintext."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
