from django.http import HttpResponse


def ping(request):
    """The smallest page: no session, no database. Says which schema routing picked ("-": none),
    so the benchmark can check each server routes as intended."""
    tenant = getattr(request, "tenant", None)
    return HttpResponse(tenant.schema_name if tenant else "-", content_type="text/plain")


def work(request):
    """A small page that does what most pages do a little of: one cache read, one query."""
    from django.core.cache import cache
    from django.db import connection

    cache.get("bench:work")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse(request.tenant.schema_name, content_type="text/plain")
