from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Domain, Tenant
from .routing import routing_changed


@receiver([post_save, post_delete], sender=Tenant)
@receiver([post_save, post_delete], sender=Domain)
def drop_routing_cache(**kwargs):
    routing_changed()
