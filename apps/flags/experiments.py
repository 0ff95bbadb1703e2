"""Experiments: writes (create, change, start, stop, ship a variant, delete) and their results.

An experiment runs on a multivariate flag whose variants include "control". Its metrics read
analytics events through analytics' selector (the persons exposed to the flag, by their
`$feature_flag_called` events, and their goal events after the first exposure):

- "funnel": the share of exposed persons who did the goal event (exposure → goal),
- "count":  the goal events per exposed person (a trend count, persons without any count 0),
- "mean":   the sum of the goal event's numeric `property` per exposed person (0 without any).

A flag bucketed by organisation makes the organisation the unit instead of the person: an
organisation is exposed by the `$feature_flag_called` events sent with it in `$groups` (as the
evaluate endpoint and PostHog's SDKs send them), and its goal events are those sent with it.

A metric's `filters` (an insight's event filters: `[{"type": "event", "key": "plan", "op": "eq",
"value": "pro"}]`) narrow its goal events to those whose properties match. The events are read
from the tenant's event store, PostgreSQL or ClickHouse alike.

Shipping a variant sets the flag to serve that variant to everyone its conditions match (a new
flag version, audited and on the event spine like any change) and stops the experiment.
"""

import copy
from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.analytics import selectors as analytics_selectors
from apps.analytics.builder import filter_words
from apps.core.events import publish

from . import services, stats
from .models import Experiment, Flag

CONTROL = "control"
KINDS = {
    "funnel": "Conversion (exposure → goal event)",
    "count": "Goal events per exposed person",
    "mean": "Mean of a property per exposed person",
}
EDITABLE = ("name", "description", "primary_metric", "secondary_metrics", "baseline_rate", "mde", "alpha", "power")
MAX_SECONDARY = 10
EXAMPLES = {"baseline_rate": 0.1, "alpha": 0.05, "power": 0.8}


def experiment_list():
    return Experiment.objects.select_related("flag").order_by("-id")


def variants_of(flag: Flag) -> list[dict]:
    return list(((flag.filters or {}).get("multivariate") or {}).get("variants") or [])


def _weights(flag: Flag) -> list[list]:
    return [[v["key"], v.get("rollout_percentage") or 0] for v in variants_of(flag)]


def _metric_errors(metric, path: str, errors: dict) -> None:
    if not isinstance(metric, dict):
        errors[path] = ['Give a metric: {"kind": "funnel" | "count" | "mean", "event": "…", "property": "…"}.']
        return
    kind, event, prop = metric.get("kind"), metric.get("event"), metric.get("property")
    if kind not in KINDS:
        errors[f"{path}.kind"] = [f"“{kind}” is not a metric kind: use {', '.join(KINDS)}."]
    if not isinstance(event, str) or not event.strip() or len(event) > 200:
        errors[f"{path}.event"] = ["Name the goal event (at most 200 characters)."]
    if kind == "mean" and (not isinstance(prop, str) or not prop.strip() or len(prop) > 200):
        errors[f"{path}.property"] = ["Name the numeric event property whose mean is measured."]
    try:
        analytics_selectors.goal_filters_parse(metric.get("filters") or [], f"{path}.filters")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    unknown = set(metric) - {"kind", "event", "property", "name", "filters"}
    if unknown:
        errors[path] = [f"Unknown metric fields: {', '.join(sorted(unknown))}."]


def _metric(metric: dict) -> dict:
    cleaned = {"kind": metric["kind"], "event": metric["event"].strip()}
    if metric["kind"] == "mean":
        cleaned["property"] = metric["property"].strip()
    if metric.get("filters"):
        cleaned["filters"] = metric["filters"]
    if str(metric.get("name") or "").strip():
        cleaned["name"] = str(metric["name"]).strip()[:100]
    return cleaned


def _checked(fields: dict, flag: Flag | None, *, exclude_pk=None) -> dict:
    """The fields cleaned, with the target sample size; a ValidationError naming each field."""
    errors: dict[str, list[str]] = {}
    name = str(fields.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["Name the experiment (at most 200 characters)."]
    if flag is None:
        errors["flag"] = ["Choose the feature flag the experiment runs on."]
    else:
        keys = [v.get("key") for v in variants_of(flag)]
        if CONTROL not in keys or len(keys) < 2:
            errors["flag"] = [
                f"“{flag.key}” needs variants: one named “{CONTROL}” and at least one other (it has "
                f"{', '.join(keys) or 'none'})."
            ]
        elif Experiment.objects.filter(flag=flag).exclude(status=Experiment.STOPPED).exclude(pk=exclude_pk).exists():
            errors["flag"] = [f"Another experiment not stopped yet runs on “{flag.key}”."]
    _metric_errors(fields.get("primary_metric"), "primary_metric", errors)
    secondary = fields.get("secondary_metrics") or []
    if not isinstance(secondary, list) or len(secondary) > MAX_SECONDARY:
        errors["secondary_metrics"] = [f"Give a list of at most {MAX_SECONDARY} metrics."]
        secondary = []
    for i, metric in enumerate(secondary):
        _metric_errors(metric, f"secondary_metrics.{i}", errors)
    numbers = {}
    for field in ("baseline_rate", "mde", "alpha", "power"):
        value = fields.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[field] = ["Give a number."]
        else:
            numbers[field] = float(value)
    ranges = {"baseline_rate": "the baseline conversion rate", "alpha": "alpha", "power": "the power"}
    for field, words in ranges.items():
        if field in numbers and not 0 < numbers[field] < 1:
            errors[field] = [f"Give {words} between 0 and 1, e.g. {EXAMPLES[field]}."]
    target = 0
    if len(numbers) == 4 and not errors:
        try:
            target = stats.sample_size(
                baseline=numbers["baseline_rate"], mde=numbers["mde"], alpha=numbers["alpha"], power=numbers["power"]
            )
        except ValueError as exc:
            errors["mde"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "description": str(fields.get("description") or "").strip(),
        "primary_metric": _metric(fields["primary_metric"]),
        "secondary_metrics": [_metric(m) for m in secondary],
        **numbers,
        "target_per_variant": target,
    }


def _published(what: str, experiment: Experiment, actor, tenant) -> None:
    payload = {
        "experiment_id": experiment.pk,
        "name": experiment.name,
        "flag_key": experiment.flag.key,
        "status": experiment.status,
        "variant": experiment.shipped_variant,
    }
    publish(
        f"flags.experiment_{what}",
        payload,
        tenant=tenant,
        actor=actor,
    )


def experiment_create(*, tenant, actor, flag: Flag | None, **fields) -> Experiment:
    """A draft experiment on `flag` (see _checked for what is refused)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["This field is not known."] for name in sorted(unknown)})
    defaults = {"baseline_rate": 0.1, "mde": 0.1, "alpha": 0.05, "power": 0.8, "secondary_metrics": []}
    with transaction.atomic():
        cleaned = _checked({**defaults, **fields}, flag)
        experiment = Experiment.objects.create(
            flag=flag, created_by=actor if getattr(actor, "pk", None) else None, **cleaned
        )
        _published("created", experiment, actor, tenant)
    return experiment


def experiment_update(*, tenant, actor, experiment: Experiment, **changes) -> Experiment:
    """Changes names, metrics and power inputs (any time: results are read afresh)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().select_related("flag").get(pk=experiment.pk)
        current = {name: getattr(experiment, name) for name in EDITABLE}
        cleaned = _checked({**current, **changes}, experiment.flag, exclude_pk=experiment.pk)
        for name, value in cleaned.items():
            setattr(experiment, name, value)
        experiment.save()
        _published("changed", experiment, actor, tenant)
    return experiment


def experiment_start(*, tenant, actor, experiment: Experiment) -> Experiment:
    """Draft → running: results count exposures from now on. The flag must be switched on."""
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().select_related("flag").get(pk=experiment.pk)
        if experiment.status != Experiment.DRAFT:
            raise ValidationError({"status": [f"The experiment is {experiment.get_status_display().lower()}."]})
        if not experiment.flag.active:
            raise ValidationError({"flag": [f"Switch the flag “{experiment.flag.key}” on first."]})
        experiment.status, experiment.started_at = Experiment.RUNNING, timezone.now()
        # the split the sample-ratio check expects, even after a ship changes the flag's weights
        experiment.weights = _weights(experiment.flag)
        experiment.save(update_fields=["status", "started_at", "weights", "updated"])
        _published("started", experiment, actor, tenant)
    return experiment


def experiment_stop(*, tenant, actor, experiment: Experiment, shipped: str = "") -> Experiment:
    """Running → stopped: results keep the window they had. The flag keeps serving as it was."""
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().select_related("flag").get(pk=experiment.pk)
        if experiment.status == Experiment.DRAFT:
            raise ValidationError({"status": ["The experiment has not started."]})
        if experiment.status == Experiment.RUNNING:
            experiment.status, experiment.ended_at = Experiment.STOPPED, timezone.now()
        elif not shipped:
            raise ValidationError({"status": ["The experiment is stopped already."]})
        experiment.shipped_variant = shipped or experiment.shipped_variant
        experiment.save(update_fields=["status", "ended_at", "shipped_variant", "updated"])
        _published("shipped" if shipped else "stopped", experiment, actor, tenant)
    return experiment


def experiment_ship(*, tenant, actor, experiment: Experiment, variant: str) -> Experiment:
    """Serves `variant` to everyone the flag's conditions match (weights 100/0, each group at
    100 %): a new flag version noted "shipped …"; the experiment stops."""
    if experiment.status == Experiment.DRAFT:
        raise ValidationError({"status": ["The experiment has not started."]})
    flag = experiment.flag
    if variant not in [v.get("key") for v in variants_of(flag)]:
        raise ValidationError({"variant": [f"“{variant}” is not a variant of “{flag.key}”."]})
    filters = copy.deepcopy(flag.filters)
    for v in filters["multivariate"]["variants"]:
        v["rollout_percentage"] = 100 if v["key"] == variant else 0
    for group in filters.get("groups") or []:
        group["rollout_percentage"] = 100
        group.pop("variant", None)
    with transaction.atomic():
        services.flag_update(
            tenant=tenant,
            actor=actor,
            flag=flag,
            filters=filters,
            active=True,
            note=f"shipped “{variant}” (experiment “{experiment.name}”)"[:200],
        )
        return experiment_stop(tenant=tenant, actor=actor, experiment=experiment, shipped=variant)


def experiment_delete(*, tenant, actor, experiment: Experiment) -> None:
    """Removes the experiment (its flag and the analytics events stay)."""
    with transaction.atomic():
        _published("deleted", experiment, actor, tenant)
        experiment.delete()


# --- Results -------------------------------------------------------------------------------------


def metric_label(metric: dict) -> str:
    if metric.get("name"):
        return metric["name"]
    where = " and ".join(filter_words(f) for f in metric.get("filters") or [])
    goal = f"“{metric['event']}”" + (f" where {where}" if where else "")
    if metric["kind"] == "funnel":
        return f"Conversion to {goal}"
    if metric["kind"] == "count":
        return f"{goal} per person"
    return f"Mean “{metric['property']}” of {goal} per person"


def unit_of(flag: Flag) -> str:
    """What the experiment counts: persons, or organisations when the flag buckets by them."""
    return "person" if (flag.filters or {}).get("aggregation_group_type_index") is None else "organisation"


def _arms(metric: dict, variants: list[str], outcomes: dict) -> list:
    arms = []
    for key in variants:
        exposed, converted, n, n2, value, value2 = outcomes.get(key, (0, 0, 0.0, 0.0, 0.0, 0.0))
        if metric["kind"] == "funnel":
            arms.append(stats.Rate(key, int(exposed), int(converted)))
        elif metric["kind"] == "count":
            arms.append(stats.Mean(key, int(exposed), float(n), float(n2)))
        else:
            arms.append(stats.Mean(key, int(exposed), float(value), float(value2)))
    return arms


def experiment_results(*, experiment: Experiment, now=None) -> dict:
    """Everything the results page and API show: per metric and variant the exposed persons,
    the value (rate or mean) with a credible interval, probability of being best, uplift against
    control with its interval, the always-valid p-value; exposures against the target; the sample
    ratio check. Before the start: {"started": False}."""
    if experiment.started_at is None:
        return {"started": False, "target_per_variant": experiment.target_per_variant}
    flag = experiment.flag
    weights = dict(experiment.weights or _weights(flag))  # in the flag's order (a list: jsonb keeps no order)
    keys = [key for key, _ in (experiment.weights or _weights(flag))]
    end = experiment.ended_at or now or timezone.now()
    unit = unit_of(flag)
    metrics = []
    exposures = None
    for i, metric in enumerate([experiment.primary_metric, *experiment.secondary_metrics]):
        outcomes = analytics_selectors.experiment_outcomes(
            flag_key=flag.key,
            goal_event=metric["event"],
            prop=metric.get("property", ""),
            start=experiment.started_at,
            end=end,
            goal_filters=metric.get("filters"),
            unit=unit,
        )
        arms = _arms(metric, keys, outcomes["variants"])
        if exposures is None:
            exposures = {"per_variant": {a.key: a.exposed for a in arms}, "mixed": outcomes["mixed"]}
        tau = experiment.baseline_rate * abs(experiment.mde) if metric["kind"] == "funnel" and i == 0 else None
        compared = stats.compare(arms, control=CONTROL, alpha=experiment.alpha, tau=tau)
        metrics.append(
            {
                "primary": i == 0,
                "kind": metric["kind"],
                "label": metric_label(metric),
                "metric": metric,
                "variants": [{**asdict(r), **_counts(arm)} for r, arm in zip(compared, arms, strict=True)],
            }
        )
    observed = [exposures["per_variant"][k] for k in keys]
    statistic, p = stats.sample_ratio(observed, [float(weights[k]) for k in keys])
    total = sum(observed)
    least = min(observed) if observed else 0
    return {
        "started": True,
        "unit": unit,
        "from": experiment.started_at,
        "to": end,
        "exposures": exposures["per_variant"],
        "exposed": total,
        "mixed": exposures["mixed"],
        "target_per_variant": experiment.target_per_variant,
        "progress": min(1.0, least / experiment.target_per_variant) if experiment.target_per_variant else 1.0,
        "sample_ratio": {"statistic": statistic, "p_value": p, "mismatch": p < stats.SRM_P and total > 0},
        "metrics": metrics,
    }


def _counts(arm) -> dict:
    if isinstance(arm, stats.Rate):
        return {"converted": arm.converted}
    return {"total": arm.total}
