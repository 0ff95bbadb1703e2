"""The consent page (admins): the purposes people are asked to consent to, the banner's snippet for
the organisation's own site, and one person's consent with its history. Thin: validate, call
consent.py, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required
from apps.tenancy.services import tenant_url

from . import consent, selectors
from .forms import ConsentLookupForm, PurposeForm
from .tables import ConsentHistoryTable, PurposesTable

MANAGE = consent.MANAGE


@tenant_member_required(MANAGE)
def consent_page(request):
    form = PurposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            purpose = consent.purpose_save(tenant=request.tenant, actor=request.membership, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"“{purpose.name}” saved (version {purpose.version}).")
            return redirect("compliance:consent")
    purposes = data_table(request, PurposesTable, selectors.consent_purposes_with_counts())
    if purposes.response:
        return purposes.response
    lookup = ConsentLookupForm(request.GET if "subject" in request.GET else None)
    history = state = None
    if lookup.is_bound and lookup.is_valid():
        subject = lookup.cleaned_data["subject"].strip()
        state = consent.consent_state(subject=subject)
        history = data_table(request, ConsentHistoryTable, consent.consent_history(subject=subject), prefix="h-")
        if history.response:
            return history.response
    context = {
        "purposes": purposes,
        "form": form,
        "lookup": lookup,
        "state": state,
        "history": history,
        "script_url": tenant_url(request.tenant, "/static/hub/consent-banner.js"),
    }
    return render(request, "compliance/consent.html", context, status=400 if form.errors else 200)
