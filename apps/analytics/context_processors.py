"""The dashboards' own page views: what the layout's snippet needs (analytics/_page_views.html)."""

from django.utils.functional import SimpleLazyObject

from . import keys, services


def page_views(request):
    """For a member's page of a tenant: the built-in key and their distinct id (their user id,
    as the platform's own events have), read only when the layout draws the snippet, and not
    when the browser sends Do-Not-Track or Global Privacy Control, or the organisation switched
    page views off."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    if request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1":
        return {}

    def snippet():
        raw = keys.page_view_key(
            tenant.schema_name,
            f"{request.scheme}://{request.get_host()}",
            load=services.page_view_key_ensure,
            tenant_id=tenant.pk,
        )
        return {"key": raw, "distinct_id": str(user.pk)} if raw else {}

    return {"page_views": SimpleLazyObject(snippet)}
