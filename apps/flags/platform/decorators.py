import functools

from django.http import Http404

from .services import platform_flag_enabled


def flag_required(key: str):
    """A view of a feature the platform rolls out: a tenant for which the platform flag `key` is
    off gets a 404, as if the page did not exist yet."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not platform_flag_enabled(key, getattr(request, "tenant", None)):
                raise Http404("This feature is not available to this organisation yet.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
