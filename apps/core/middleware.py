from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy of settings.HUB_CSP on every response that lacks one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.HUB_CSP)
        return response
