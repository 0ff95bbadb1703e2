def bell(request):
    """The unread count the top bar's bell shows, and the newest notification the page knows of:
    the live connection toasts only what is newer (it asks for that after each reconnect).

    Read for every logged-in page of a tenant, whatever decorator its view has (the base layout
    draws the bell for members on every page, /security/ included)."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    from .selectors import latest_notification_id, unread_count

    return {
        "notifications_unread": unread_count(user_id=user.pk),
        "notifications_last_id": latest_notification_id(user=user),
    }
