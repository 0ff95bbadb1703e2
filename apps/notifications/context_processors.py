def bell(request):
    """The unread count the top bar's bell shows, and the newest notification the page knows of
    (the live connection asks for anything newer after each reconnect)."""
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    if membership is None or tenant is None or tenant.is_public:
        return {}
    from .selectors import latest_notification_id, unread_count

    return {
        "notifications_unread": unread_count(user_id=request.user.pk),
        "notifications_last_id": latest_notification_id(user=request.user),
    }
