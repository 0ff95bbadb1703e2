"""The tenant URLconf with two test-only pages (tests/e2e/test_pgbouncer.py, test_db_connections.py):
which schema, server connection and tenant-schema rows a request sees, and one that holds its
database connection for a while."""

from auditlog.models import LogEntry
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from config.urls_tenant import handler403, handler404, handler500  # noqa: F401
from config.urls_tenant import urlpatterns as tenant_urlpatterns

MARKER = "pgbouncer-marker-"


def probe(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema(), pg_backend_pid()")
        schema, pid = cursor.fetchone()
    # Rows of a table that exists in every tenant schema: each holds its own tenant's marker.
    markers = sorted(LogEntry.objects.filter(object_repr__startswith=MARKER).values_list("object_repr", flat=True))
    return JsonResponse({"tenant": request.tenant.slug, "schema": schema, "pid": pid, "markers": markers})


def hold(request):
    """Keeps a database connection busy for ?seconds= (at most 10)."""
    seconds = min(float(request.GET.get("seconds", "1")), 10.0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
    return JsonResponse({"held": seconds})


urlpatterns = [path("_pgbouncer-probe/", probe), path("_probe/hold/", hold), *tenant_urlpatterns]
