"""The flag form and its rule builder: condition rows (rows with the same group number must all
hold; any group may match), a row per group for its rollout and fixed variant, variants with
weights, payloads, overrides. Rows turn into the PostHog-shaped definition the engine reads."""

import json

from django import forms

from apps.analytics.builder import OP_WORDS, filter_value, shown_value

from .engine import OPERATORS

KINDS = [
    ("person", "Person property"),
    ("group", "Organisation property"),
    ("cohort", "In cohort"),
    ("flag", "Other flag is"),
]
BLANK_ROWS = 2


def typed(text: str):
    """A value typed in a form: a number or true/false when it reads as one, else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, bool | int | float) else text


def untyped(value) -> str:
    if isinstance(value, list):
        return ", ".join(untyped(v) for v in value)
    return value if isinstance(value, str) else json.dumps(value)


class FlagForm(forms.Form):
    key = forms.CharField(max_length=100, help_text="What code asks for, e.g. new-checkout.")
    name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    active = forms.BooleanField(required=False, initial=True, label="On (off is the kill switch)")
    starts_at = forms.DateTimeField(
        required=False, label="Switch on at (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        required=False, label="Switch off at (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    bucket_by = forms.ChoiceField(
        choices=[("person", "Person"), ("organisation", "Organisation")], initial="person", label="Roll out by"
    )
    variants = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a multivariate flag, one variant a line: name and weight, e.g. “control 50”. "
        "The weights add up to 100. Leave empty for on/off.",
    )
    payloads = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='JSON by value, e.g. {"true": {"colour": "green"}} or {"test": {...}}.',
    )
    overrides = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One a line: a person's distinct id (for a flag by organisation: the organisation's key) "
        "= true, false or a variant, e.g. “qa@acme.test = test”.",
    )

    def clean_variants(self):
        variants = []
        for n, line in enumerate(self.cleaned_data["variants"].splitlines(), 1):
            if not line.strip():
                continue
            name, _, weight = line.strip().rpartition(" ")
            try:
                variants.append({"key": name.strip(), "rollout_percentage": float(weight)})
            except ValueError:
                raise forms.ValidationError(f"Line {n}: give a name and a weight, e.g. “control 50”.") from None
            if not name.strip():
                raise forms.ValidationError(f"Line {n}: give the variant a name.")
        for v in variants:
            if v["rollout_percentage"].is_integer():
                v["rollout_percentage"] = int(v["rollout_percentage"])
        return variants

    def clean_payloads(self):
        text = self.cleaned_data["payloads"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}.") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Give an object, e.g. {"true": {"colour": "green"}}.')
        return value

    def clean_overrides(self):
        overrides = {}
        for n, line in enumerate(self.cleaned_data["overrides"].splitlines(), 1):
            if not line.strip():
                continue
            distinct_id, sep, value = line.partition("=")
            if not sep or not distinct_id.strip() or not value.strip():
                raise forms.ValidationError(f"Line {n}: write “distinct id = true”, “= false” or “= a variant”.")
            value = value.strip()
            overrides[distinct_id.strip()] = {"true": True, "false": False}.get(value.lower(), value)
        return overrides


class ConditionForm(forms.Form):
    group = forms.IntegerField(min_value=1, max_value=20, initial=1, label="Group")
    type = forms.ChoiceField(choices=KINDS, label="Kind")
    key = forms.CharField(max_length=200, required=False, label="Property, cohort id or flag")
    operator = forms.ChoiceField(choices=list(OPERATORS.items()), required=False, label="Is")
    value = forms.CharField(max_length=500, required=False, label="Value")

    def rule(self) -> dict | None:
        data = self.cleaned_data
        key = (data.get("key") or "").strip()
        if not key:
            return None
        kind = data["type"]
        if kind == "cohort":
            return {"type": "cohort", "key": "id", "value": typed(key)}
        if kind == "flag":
            return {
                "type": "flag",
                "key": key,
                "operator": "flag_evaluates_to",
                "value": typed(data.get("value") or "true"),
            }
        operator = data.get("operator") or "exact"
        text = data.get("value") or ""
        if operator in ("exact", "is_not") and "," in text:
            value = [typed(v.strip()) for v in text.split(",") if v.strip()]
        else:
            value = typed(text)
        return {"type": kind, "key": key, "operator": operator, "value": value}


class GroupForm(forms.Form):
    rollout_percentage = forms.FloatField(min_value=0, max_value=100, initial=100, required=False, label="Rollout %")
    variant = forms.CharField(max_length=100, required=False, label="Fixed variant (optional)")


Conditions = forms.formset_factory(ConditionForm, extra=0, max_num=100)
Groups = forms.formset_factory(GroupForm, extra=0, max_num=20, can_delete=True)


def initial_of(definition: dict | None) -> tuple[dict, list, list]:
    """(form initial, condition rows, group rows) of a stored definition."""
    if definition is None:
        return {}, [], [{"rollout_percentage": 100}]
    filters = definition.get("filters") or {}
    rows, groups = [], []
    for number, group in enumerate(filters.get("groups") or [], 1):
        rollout = group.get("rollout_percentage")
        groups.append(
            {"rollout_percentage": 100 if rollout is None else rollout, "variant": group.get("variant") or ""}
        )
        for prop in group.get("properties") or []:
            kind = prop.get("type") or "person"
            row = {
                "group": number,
                "type": kind,
                "key": prop.get("key"),
                "operator": prop.get("operator") or "exact",
                "value": untyped(prop.get("value")),
            }
            if kind == "cohort":
                row.update(key=untyped(prop.get("value")), value="")
            rows.append(row)
    variants = (filters.get("multivariate") or {}).get("variants") or []
    initial = {
        "key": definition.get("key", ""),
        "name": definition.get("name", ""),
        "description": definition.get("description", ""),
        "active": definition.get("active", True),
        "starts_at": definition.get("starts_at"),
        "ends_at": definition.get("ends_at"),
        "bucket_by": "person" if filters.get("aggregation_group_type_index") is None else "organisation",
        "variants": "\n".join(f"{v['key']} {v['rollout_percentage']}" for v in variants),
        "payloads": json.dumps(filters["payloads"], indent=1) if filters.get("payloads") else "",
        "overrides": "\n".join(f"{k} = {untyped(v)}" for k, v in (definition.get("overrides") or {}).items()),
    }
    return initial, rows, groups


def formsets(data=None, *, rows=(), groups=(), more: int = 0):
    """The rule builder's two formsets: bound to `data`, or showing `rows` and `groups` and
    `more` (at least BLANK_ROWS) blank condition rows and one blank group."""
    if data is not None:
        return Conditions(data, prefix="c"), Groups(data, prefix="g")
    blank_group = max([r.get("group", 1) for r in rows] + [len(groups), 1])
    conditions = [*rows, *({"group": blank_group, "operator": "exact"} for _ in range(max(more, BLANK_ROWS)))]
    return Conditions(initial=conditions, prefix="c"), Groups(
        initial=[*groups, {"rollout_percentage": 100}], prefix="g"
    )


def definition_fields(form, conditions, groups) -> dict:
    """The service's fields from the three valid parts. Group N holds the condition rows numbered
    N; a group row is kept when it has conditions or was there before (the last row is the blank
    one, kept only when filled in), unless it is ticked for removal."""
    data = form.cleaned_data
    group_rows = [g.cleaned_data or {} for g in groups.forms]
    rules = [(c.cleaned_data["group"], rule) for c in conditions.forms if c.cleaned_data and (rule := c.rule())]
    built = []
    for number in sorted({n for n, _ in rules} | set(range(1, len(group_rows) + 1))):
        settings = group_rows[number - 1] if number <= len(group_rows) else {}
        properties = [rule for n, rule in rules if n == number]
        rollout = settings.get("rollout_percentage")
        rollout = 100 if rollout is None else (int(rollout) if float(rollout).is_integer() else rollout)
        filled = properties or number < len(group_rows) or rollout != 100 or settings.get("variant")
        if settings.get("DELETE") or not filled:
            continue
        group = {"properties": properties, "rollout_percentage": rollout}
        if settings.get("variant"):
            group["variant"] = settings["variant"].strip()
        built.append(group)
    filters = {"groups": built, "payloads": data["payloads"]}
    if data["variants"]:
        filters["multivariate"] = {"variants": data["variants"]}
    if data["bucket_by"] == "organisation":
        filters["aggregation_group_type_index"] = 0
    return {
        "key": data["key"],
        "name": data["name"],
        "description": data["description"],
        "active": data["active"],
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "filters": filters,
        "overrides": data["overrides"],
    }


class PropertyForm(forms.Form):
    kind = forms.ChoiceField(choices=[("person", "Person"), ("group", "Organisation")], label="Of")
    key = forms.CharField(max_length=200, label="Property", help_text="As your code sends it, e.g. plan.")


# --- Experiments ---------------------------------------------------------------------------------

METRIC_KINDS = [("funnel", "Conversion"), ("count", "Events per person"), ("mean", "Mean of a property")]
GOAL_OPS = list(OP_WORDS.items())


def metric_lines(metrics: list[dict]) -> str:
    return "\n".join(" ".join(filter(None, [m["kind"], m["event"], m.get("property")])) for m in metrics)


class ExperimentForm(forms.Form):
    """Percentages on the page, fractions in the service."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    flag = forms.ModelChoiceField(
        queryset=None,
        label="Feature flag",
        help_text="A flag with variants: one named “control” and at least one other.",
        empty_label="Choose a flag",
    )
    kind = forms.ChoiceField(choices=METRIC_KINDS, label="Primary metric")
    event = forms.CharField(max_length=200, label="Goal event", help_text="e.g. purchase, signed_up, $pageview.")
    property = forms.CharField(
        max_length=200, required=False, label="Property", help_text="For a mean: the goal event's numeric property."
    )
    where_key = forms.CharField(
        max_length=200,
        required=False,
        label="Only goal events whose property",
        help_text="Optional, e.g. plan: count only the goal events that match.",
    )
    where_op = forms.ChoiceField(choices=GOAL_OPS, required=False, label="Condition", initial="eq")
    where_value = forms.CharField(
        max_length=1000, required=False, label="Value", help_text="true, false and numbers are read as such."
    )
    secondary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Secondary metrics",
        help_text="One a line: the kind (funnel, count or mean), the event and, for a mean, the property, "
        "e.g. “count $pageview” or “mean purchase amount”.",
    )
    baseline_rate = forms.FloatField(
        label="Baseline conversion rate (%)", initial=10, help_text="Control's expected rate, from your analytics."
    )
    mde = forms.FloatField(
        label="Minimum detectable effect (%)", initial=10, help_text="The relative change worth finding: 10 = ±10 %."
    )
    alpha = forms.FloatField(label="Significance level α", initial=0.05)
    power = forms.FloatField(label="Power", initial=0.8)

    def __init__(self, *args, flags=None, fixed_flag: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flag"].queryset = flags
        if fixed_flag:
            self.fields["flag"].disabled = True

    def clean_secondary(self) -> list[dict]:
        metrics = []
        for number, line in enumerate(self.cleaned_data["secondary"].splitlines(), start=1):
            words = line.split()
            if not words:
                continue
            if len(words) not in (2, 3) or words[0] not in dict(METRIC_KINDS):
                raise forms.ValidationError(
                    f"Line {number}: write the kind (funnel, count or mean), the event and, for a mean, the property."
                )
            metric = {"kind": words[0], "event": words[1]}
            if len(words) == 3:
                metric["property"] = words[2]
            metrics.append(metric)
        return metrics

    def fields_for_service(self, current=None) -> dict:
        """The service's fields. Editing `current` (an experiment), what the page does not show
        is kept: its primary metric's further goal filters, and a metric's name and filters (set
        through the API) where the page's metric is the same kind, event and property."""
        data = self.cleaned_data
        primary = {"kind": data["kind"], "event": data["event"]}
        if data["kind"] == "mean":
            primary["property"] = data["property"]
        shown = []
        if data["where_key"].strip():
            op = data["where_op"] or "eq"
            shown = [{"type": "event", "key": data["where_key"].strip(), "op": op}]
            if op not in ("is_set", "is_not_set"):
                shown[0]["value"] = filter_value(data["where_value"], op)
        secondary = data["secondary"]
        if current is not None:
            [primary] = _kept([primary], [current.primary_metric])
            secondary = _kept(secondary, current.secondary_metrics)
        shown += (primary.pop("filters", None) or [])[1:]  # the page shows the first only
        if shown:
            primary["filters"] = shown
        return {
            "name": data["name"],
            "description": data["description"],
            "primary_metric": primary,
            "secondary_metrics": secondary,
            "baseline_rate": data["baseline_rate"] / 100,
            "mde": data["mde"] / 100,
            "alpha": data["alpha"],
            "power": data["power"],
        }


def experiment_initial(experiment) -> dict:
    metric = experiment.primary_metric
    return {
        "name": experiment.name,
        "description": experiment.description,
        "flag": experiment.flag_id,
        "kind": metric.get("kind"),
        "event": metric.get("event"),
        "property": metric.get("property", ""),
        **_where_initial((metric.get("filters") or [{}])[0]),
        "secondary": metric_lines(experiment.secondary_metrics),
        "baseline_rate": round(experiment.baseline_rate * 100, 6),
        "mde": round(experiment.mde * 100, 6),
        "alpha": experiment.alpha,
        "power": experiment.power,
    }


def _kept(metrics: list[dict], before: list[dict]) -> list[dict]:
    """`metrics` with the name and filters of the metric of `before` that is the same kind, event
    and property (each used once)."""
    left = list(before)
    out = []
    for metric in metrics:
        same = next((m for m in left if all(m.get(k) == metric.get(k) for k in ("kind", "event", "property"))), None)
        if same is not None:
            left.remove(same)
            metric = {**metric, **{k: same[k] for k in ("name", "filters") if k in same}}
        out.append(metric)
    return out


def _where_initial(goal: dict) -> dict:
    return {
        "where_key": goal.get("key", ""),
        "where_op": goal.get("op", "eq"),
        "where_value": shown_value(goal.get("value")),
    }


# service field → form field, for the service's errors
EXPERIMENT_ERROR_FIELDS = {
    "primary_metric.filters.0.key": "where_key",
    "primary_metric.filters.0.op": "where_op",
    "primary_metric.filters.0.value": "where_value",
    "primary_metric.filters": "where_key",
    "primary_metric.kind": "kind",
    "primary_metric.event": "event",
    "primary_metric.property": "property",
    "primary_metric": "event",
    "secondary_metrics": "secondary",
}
