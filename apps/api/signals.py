"""Cached API keys act with their creator's membership: when a membership or a user changes,
the key cache of that tenant (or of every tenant) is dropped in every process.

`api_key_used` is sent after a call authenticates with a key (sender: the tenant; `key`: its
cached entry, `ip`: the caller's address), for the apps above that watch keys (apps.security's
threat detection). Its receivers must be cheap: it runs on every keyed call."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from apps.identity.models import Membership, User

from .keycache import keys_changed

api_key_used = Signal()


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="api_keys_membership_changed")
def _membership_changed(sender, instance, **kwargs):
    tenant = getattr(instance, "tenant", None)
    keys_changed(tenant.schema_name if tenant is not None else None)


@receiver([post_save, post_delete], sender=User, dispatch_uid="api_keys_user_changed")
def _user_changed(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return  # logging in changes nothing a key depends on
    keys_changed(None)
