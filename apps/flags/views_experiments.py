"""The experiments pages: the list (a data table), a new experiment, one experiment (its form
while a draft, its running results with a chart, start/stop/ship/delete). Thin: validate, call
apps/flags/experiments.py, render. Viewers see them; members change them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required

from . import experiments
from .forms import EXPERIMENT_ERROR_FIELDS, ExperimentForm, experiment_initial
from .models import Experiment, Flag
from .tables import ExperimentsTable, experiment_status
from .views import EDIT, _can_edit


def _flags():
    return Flag.objects.filter(filters__multivariate__isnull=False).exclude(filters__multivariate=None).order_by("key")


@tenant_member_required("flags.view")
def experiment_list(request):
    can_edit = _can_edit(request)
    empty = ("New experiment", reverse("flags:experiment-new")) if can_edit else None
    table = data_table(request, ExperimentsTable, experiments.experiment_list(), empty_action=empty)
    return table.response or render(request, "flags/experiments.html", {"table": table, "can_edit": can_edit})


def _errors_on_form(exc: ValidationError, form) -> None:
    for field, errors in exc.message_dict.items():
        target = EXPERIMENT_ERROR_FIELDS.get(field, field)
        if target.startswith("secondary_metrics."):
            target = "secondary"
        form.add_error(target if target in form.fields else None, errors)


@tenant_member_required(EDIT)
def experiment_new(request):
    form = ExperimentForm(request.POST or None, flags=_flags(), initial={"flag": request.GET.get("flag")})
    if request.method == "POST" and form.is_valid():
        try:
            experiment = experiments.experiment_create(
                tenant=request.tenant, actor=request.user, flag=form.cleaned_data["flag"], **form.fields_for_service()
            )
        except ValidationError as exc:
            _errors_on_form(exc, form)
        else:
            messages.success(request, f"Experiment “{experiment.name}” created. Start it when the code is ready.")
            return redirect("flags:experiment", pk=experiment.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "flags/experiment_form.html", {"form": form, "experiment": None}, status=status)


def _experiment(pk) -> Experiment:
    # Looked up in the tenant's own schema: another tenant's experiments do not exist here.
    return get_object_or_404(Experiment.objects.select_related("flag"), pk=pk)


def _chart(results: dict) -> dict:
    primary = results["metrics"][0]
    return {
        "type": "bar",
        "labels": [v["key"] for v in primary["variants"]],
        "datasets": [
            {
                "label": "Probability of being best (%)",
                "data": [round(v["probability_best"] * 100, 1) for v in primary["variants"]],
            }
        ],
    }


def _percent(value: float) -> str:
    return f"{value * 100:.1f} %"


def _texts(results: dict) -> None:
    """Each variant's figures as people read them (percentages for rates and uplifts)."""
    for metric in results.get("metrics", []):
        rate = metric["kind"] == "funnel"
        shown = _percent if rate else (lambda x: f"{x:,.3f}")
        for v in metric["variants"]:
            low, high = v["interval"]
            uplift = "—"
            if v["uplift"] is not None:
                uplift = f"{v['uplift'] * 100:+.1f} %"
                if v["uplift_interval"]:
                    uplift += f" ({v['uplift_interval'][0] * 100:+.1f} to {v['uplift_interval'][1] * 100:+.1f} %)"
            v["text"] = {
                "value": f"{shown(v['value'])} ({shown(low)} – {shown(high)})",
                "uplift": uplift,
                "best": _percent(v["probability_best"]),
                "p": "—" if v["p_value"] is None else f"{v['p_value']:.3g}",
            }


@tenant_member_required("flags.view")
def experiment_detail(request, pk):
    experiment = _experiment(pk)
    can_edit = _can_edit(request)
    form = None
    if experiment.status == Experiment.DRAFT or request.method == "POST":
        form = ExperimentForm(
            request.POST or None, flags=_flags(), fixed_flag=True, initial=experiment_initial(experiment)
        )
    status = 200
    if request.method == "POST":
        if not can_edit:
            return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
        if form.is_valid():
            try:
                experiments.experiment_update(
                    tenant=request.tenant,
                    actor=request.user,
                    experiment=experiment,
                    **form.fields_for_service(current=experiment),
                )
            except ValidationError as exc:
                _errors_on_form(exc, form)
            else:
                messages.success(request, "Experiment saved.")
                return redirect("flags:experiment", pk=experiment.pk)
        status = 400
    results = experiments.experiment_results(experiment=experiment)
    _texts(results)
    unit = experiments.unit_of(experiment.flag)
    context = {
        "experiment": experiment,
        "form": form,
        "can_edit": can_edit,
        "status": experiment_status(experiment),
        "results": results,
        "chart": _chart(results) if results["started"] else None,
        "variants": [v["key"] for v in experiments.variants_of(experiment.flag)],
        "baseline": _percent(experiment.baseline_rate),
        "mde": _percent(experiment.mde),
        "progress": _percent(results.get("progress", 0)),
        "unit": unit,
        "units": f"{unit}s" if unit == "organisation" else "persons",
    }
    return render(request, "flags/experiment.html", context, status=status)


def _acted(request, pk, service, done: str, **kwargs):
    experiment = _experiment(pk)
    try:
        service(tenant=request.tenant, actor=request.user, experiment=experiment, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, done.format(name=experiment.name, **kwargs))
    return redirect("flags:experiment", pk=experiment.pk)


@require_POST
@tenant_member_required(EDIT)
def experiment_start(request, pk):
    return _acted(request, pk, experiments.experiment_start, "“{name}” is running: exposures count from now.")


@require_POST
@tenant_member_required(EDIT)
def experiment_stop(request, pk):
    return _acted(request, pk, experiments.experiment_stop, "“{name}” stopped. The flag serves as before.")


@require_POST
@tenant_member_required(EDIT)
def experiment_ship(request, pk):
    variant = request.POST.get("variant", "")
    return _acted(
        request,
        pk,
        experiments.experiment_ship,
        "Shipped “{variant}”: the flag serves it to everyone.",
        variant=variant,
    )


@require_POST
@tenant_member_required(EDIT)
def experiment_delete(request, pk):
    experiment = _experiment(pk)
    experiments.experiment_delete(tenant=request.tenant, actor=request.user, experiment=experiment)
    messages.success(request, f"Experiment “{experiment.name}” deleted.")
    return redirect("flags:experiments")
