"""The Plan and usage page (owners and admins): the plan, each quantity used against its limit
this month, usage per day, and the plan change. Thin: validate, call a service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required

from . import selectors, services
from .forms import PlanChangeForm
from .tables import UsageTable

MANAGE = "billing.manage"


def _page(request, form=None, status=200):
    tenant = request.tenant
    plans = list(selectors.plan_list())
    table = data_table(request, UsageTable, selectors.usage_daily(tenant=tenant))
    if table.response:
        return table.response
    current = selectors.plan_get(key=tenant.plan)
    context = {
        "plan": current,
        "subscription": services.subscription_ensure(tenant=tenant),
        "usage": selectors.usage_summary(tenant=tenant),
        "plans": plans,
        "form": form or PlanChangeForm(plans=plans, initial={"plan": tenant.plan}),
        "table": table,
    }
    return render(request, "billing/index.html", context, status=status)


@tenant_member_required(MANAGE)
def index(request):
    return _page(request)


@require_POST
@tenant_member_required(MANAGE)
def plan_change(request):
    plans = list(selectors.plan_list())
    form = PlanChangeForm(request.POST, plans=plans)
    if form.is_valid():
        plan = next(p for p in plans if p.key == form.cleaned_data["plan"])
        try:
            services.plan_change(tenant=request.tenant, actor=request.membership, plan=plan)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"You are now on the {plan.name} plan.")
            return redirect("billing:index")
    return _page(request, form=form, status=400)
