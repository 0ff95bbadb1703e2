from django.db.models import QuerySet

from .models import Greeting


def greeting_list() -> QuerySet[Greeting]:
    """The tenant's greetings, newest first."""
    return Greeting.objects.order_by("-id")
