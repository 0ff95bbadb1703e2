from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from .handover import handover_url
from .services import organisation_provision


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up happens on the public site only, and creates the user's organisation with it."""

    def is_open_for_signup(self, request):
        tenant = getattr(request, "tenant", None)
        return tenant is None or tenant.is_public

    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=True)
            tenant, _ = organisation_provision(
                name=form.cleaned_data["organisation_name"], slug=form.cleaned_data["organisation_slug"], owner=user
            )
        request.hub_new_tenant = tenant
        return user

    def get_signup_redirect_url(self, request):
        tenant = getattr(request, "hub_new_tenant", None)
        if tenant is not None and request.user.is_authenticated:
            return handover_url(user=request.user, tenant=tenant)
        return super().get_signup_redirect_url(request)
