from django.http import HttpResponse


def ping(request):
    """The smallest page: no session, no database. Says which schema routing picked ("-": none),
    so the benchmark can check each server routes as intended."""
    tenant = getattr(request, "tenant", None)
    return HttpResponse(tenant.schema_name if tenant else "-", content_type="text/plain")
