"""The tenant URLconf with one test-only page: which schema, server connection and tenant-schema
rows a request sees (tests/e2e/test_pgbouncer.py)."""

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


urlpatterns = [path("_pgbouncer-probe/", probe), *tenant_urlpatterns]
