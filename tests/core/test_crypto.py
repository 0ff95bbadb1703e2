import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from apps.core import crypto


@pytest.fixture(autouse=True)
def _fresh_keys():
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def test_round_trip_and_ciphertext_is_not_plaintext():
    token = crypto.encrypt("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in token
    assert crypto.decrypt(token) == "JBSWY3DPEHPK3PXP"


def test_key_rotation_keeps_old_values_readable():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(HUB_FIELD_ENCRYPTION_KEYS=[old]):
        token = crypto.encrypt("secret")
    crypto._fernet.cache_clear()
    with override_settings(HUB_FIELD_ENCRYPTION_KEYS=[new, old]):
        assert crypto.decrypt(token) == "secret"
        rotated = crypto.rotate(token)
    crypto._fernet.cache_clear()
    with override_settings(HUB_FIELD_ENCRYPTION_KEYS=[new]):
        assert crypto.decrypt(rotated) == "secret"
        with pytest.raises(ValueError, match="no longer configured"):
            crypto.decrypt(token)
