from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from .roles import has_permission
from .selectors import membership_get


def tenant_member_required(permission: str = ""):
    """Lets through members of the request's tenant whose role grants `permission`.

    Anonymous visitors go to the log-in page; a logged-in non-member, or a member whose role
    lacks the permission, gets a 403 page. Sets request.membership.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            tenant = getattr(request, "tenant", None)
            if tenant is None or tenant.is_public:
                raise Http404
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_get(user=request.user, tenant=tenant)
            if membership is None:
                return render(request, "identity/forbidden.html", {"reason": "not_member"}, status=403)
            if not has_permission(membership.role, permission):
                return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
            request.membership = membership
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
