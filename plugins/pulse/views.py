from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required

from . import selectors, services
from .forms import CheckinForm
from .tables import CheckinsTable


@tenant_member_required("pulse.use")
def index(request):
    config = selectors.pulse_settings()
    form = CheckinForm(request.POST or None, scale=int(config["scale"]), question=config["question"])
    if request.method == "POST" and form.is_valid():
        try:
            services.checkin_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Thanks for checking in.")
            return redirect("pulse:index")
    table = data_table(request, CheckinsTable, selectors.checkin_list())
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "table": table, "mood": selectors.mood_this_week()}
    return table.response or render(request, "pulse/index.html", context, status=status)
