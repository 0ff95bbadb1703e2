"""The API keys dashboard page (admins): create a key (the secret is shown once, on the page that
answers the form), revoke one, see each key's calls of the last 14 days."""

from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateformat import format as format_date
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required

from .forms import ApiKeyForm
from .selectors import api_key_last_used, api_key_list, api_usage_list
from .services import api_key_create, api_key_revoke
from .tables import ApiKeysTable

USAGE_DAYS = 14
CHART_KEYS = 5  # keys drawn on their own in the usage chart; the others are added up as one


def usage_chart(keys, per_key: dict, days: list) -> dict:
    """Calls per day (oldest first) stacked by key: the busiest keys each, the rest together.
    The same numbers feed the chart (hub/charts.js) and the table under it."""
    totals = {k.pk: sum(per_key.get(k.pk, {}).values()) for k in keys}
    used = sorted((k for k in keys if totals[k.pk]), key=lambda k: -totals[k.pk])
    oldest_first = list(reversed(days))

    def calls(some_keys, day):
        return sum(per_key.get(k.pk, {}).get(day, 0) for k in some_keys)

    series = [(key.name, [key]) for key in used[:CHART_KEYS]]
    if used[CHART_KEYS:]:
        series.append(("Other keys", used[CHART_KEYS:]))
    return {
        "type": "bar",
        "stacked": True,
        "labels": [format_date(day, "D j M") for day in oldest_first],
        "datasets": [{"label": label, "data": [calls(ks, day) for day in oldest_first]} for label, ks in series],
    }


def _page(request, form=None, created=None, raw=None, status=200):
    keys = list(api_key_list())
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=i) for i in range(USAGE_DAYS)]
    per_key = {}
    for row in api_usage_list(since=days[-1], until=today):
        per_key.setdefault(row["key_id"], {})[row["day"]] = row["calls"]
    table = data_table(
        request,
        ApiKeysTable,
        api_key_list(),
        empty_action=("Create a key", "#create-key"),
        last_used=api_key_last_used(keys=keys),
        usage={pk: (calls.get(today, 0), sum(calls.values())) for pk, calls in per_key.items()},
        usage_days=USAGE_DAYS,
    )
    if table.response and not created:
        return table.response
    chart = usage_chart(keys, per_key, days)
    # The table under the chart: newest day first, its total and each of the chart's series.
    daily = [
        {
            "day": day,
            "calls": sum(per_key.get(k.pk, {}).get(day, 0) for k in keys),
            "by_series": [series["data"][-1 - i] for series in chart["datasets"]],
        }
        for i, day in enumerate(days)
    ]
    context = {
        "form": form or ApiKeyForm(),
        "table": table,
        "created": created,
        "raw_key": raw,
        "daily": daily,
        "usage_days": USAGE_DAYS,
        "usage_chart": chart,
        "usage_total": sum(d["calls"] for d in daily),
    }
    return render(request, "api/keys.html", context, status=status)


@never_cache
@tenant_member_required("api_keys.manage")
def api_keys(request):
    if request.method != "POST":
        return _page(request)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, raw = api_key_create(
                actor=request.membership,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(
                    field if field in form.fields else ("expires_on" if field == "expires_at" else None), errors
                )
        else:
            # Rendered, not redirected: the secret never goes into a session or a URL.
            response = _page(request, created=key, raw=raw)
            response["Cache-Control"] = "no-store"
            return response
    return _page(request, form=form, status=400)


@require_POST
@tenant_member_required("api_keys.manage")
def api_key_revoke_page(request, pk):
    key = get_object_or_404(api_key_list(), pk=pk)
    try:
        api_key_revoke(actor=request.membership, key=key)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The key “{key.name}” ({key.prefix}…) was revoked. It stops working at once.")
    return redirect("api_keys")
