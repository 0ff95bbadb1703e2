"""The event types Flags publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType

_FLAG = payload_schema(
    {
        "flag_id": {"type": "integer"},
        "key": {"type": "string"},
        "version": {"type": "integer"},
        "note": {"type": "string"},
    },
    ["flag_id", "key", "version", "note"],
)


def _flags_page(event) -> str:
    return reverse("flags:index")


EVENT_TYPES = [
    EventType(
        "flags.flag_created",
        "Feature flag created",
        "A feature flag was added.",
        _FLAG,
        summary="{actor} created the feature flag “{key}”",
        link=_flags_page,
    ),
    EventType(
        "flags.flag_changed",
        "Feature flag changed",
        "A feature flag's rules, rollout, schedule or kill switch changed (a new version).",
        _FLAG,
        summary="{actor} changed the feature flag “{key}” ({note})",
        link=_flags_page,
    ),
    EventType(
        "flags.flag_deleted",
        "Feature flag deleted",
        "A feature flag was deleted.",
        _FLAG,
        summary="{actor} deleted the feature flag “{key}”",
        link=_flags_page,
    ),
]

_EXPERIMENT = payload_schema(
    {
        "experiment_id": {"type": "integer"},
        "name": {"type": "string"},
        "flag_key": {"type": "string"},
        "status": {"type": "string"},
        "variant": {"type": "string"},
    },
    ["experiment_id", "name", "flag_key", "status", "variant"],
)


def _experiment_page(event) -> str:
    if event.type == "flags.experiment_deleted":
        return reverse("flags:experiments")
    return reverse("flags:experiment", args=[event.payload["experiment_id"]])


def _experiment(what: str, label: str, description: str, sentence: str) -> EventType:
    return EventType(
        f"flags.experiment_{what}",
        label,
        description,
        _EXPERIMENT,
        summary="{actor} " + sentence,
        link=_experiment_page,
    )


EVENT_TYPES += [
    _experiment("created", "Experiment created", "An experiment was added.", "created the experiment “{name}”"),
    _experiment(
        "changed",
        "Experiment changed",
        "An experiment's metrics or power inputs changed.",
        "changed the experiment “{name}”",
    ),
    _experiment(
        "started", "Experiment started", "An experiment started counting exposures.", "started the experiment “{name}”"
    ),
    _experiment("stopped", "Experiment stopped", "An experiment stopped.", "stopped the experiment “{name}”"),
    _experiment(
        "shipped",
        "Experiment variant shipped",
        "An experiment's variant was shipped: its flag serves it to everyone it matches.",
        "shipped “{variant}” of the experiment “{name}” to everyone on “{flag_key}”",
    ),
    _experiment("deleted", "Experiment deleted", "An experiment was deleted.", "deleted the experiment “{name}”"),
]
