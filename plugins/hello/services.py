from django.conf import settings

from .models import Greeting


def greeting_create(*, user_id: int, email: str) -> Greeting:
    return Greeting.objects.create(user_id=user_id, message=f"{settings.HELLO_GREETING}, {email}!")


def greet_new_member(event) -> None:
    """Event handler (member.joined): runs in the tenant's schema, in the dispatcher's transaction."""
    greeting_create(user_id=event.payload["user_id"], email=event.payload["email"])
