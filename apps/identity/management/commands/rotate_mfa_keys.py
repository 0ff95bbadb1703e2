from django.db import transaction

from apps.core.management import HubCommand
from apps.identity.models import TOTPDevice


class Command(HubCommand):
    help = (
        "Re-encrypts every stored authenticator-app key with the newest key of HUB_FIELD_ENCRYPTION_KEYS. "
        "Rotate by putting a new key first, running this, then removing the old key."
    )

    def handle(self, *args, **options):
        count = 0
        try:
            with transaction.atomic():
                for device in TOTPDevice.objects.select_for_update().only("pk", "key"):
                    device.save(update_fields=["key"])  # decrypted with any key, encrypted with the first
                    count += 1
        except ValueError as exc:
            raise self.fail(exc) from None
        self.stdout.write(f"Re-encrypted {count} authenticator key{'s' if count != 1 else ''} with the newest key.")
