from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import posthog


@csrf_exempt  # a POST here is PostHog's /flags/ (its project key is the credential, no session)
def index(request):
    if request.method == "POST":
        return posthog.remote(request)
    return HttpResponse("")
