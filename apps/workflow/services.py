"""Writes: workflows (create, edit the draft, publish a version, pause, delete), the four triggers
(events, schedules, a person's manual run, the incoming webhook) and what people do with runs and
approvals (cancel, re-run from the failed step, decide). Execution itself is apps/workflow/engine.py."""

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.core.events import publish
from apps.core.limits import LimitReached
from apps.core.links import LinkExpired, tenant_link_read, tenant_link_token
from apps.identity.models import Membership
from apps.identity.roles import RANK, has_permission

from . import conditions, engine
from .graph import cron_matches, graph_problems, inputs_missing
from .models import Approval, Workflow, WorkflowRun, WorkflowVersion, new_token

logger = logging.getLogger(__name__)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the workflow a name."]})
    return name[:200]


def _limits(fields: dict) -> dict:
    out = {}
    for name, top in (("max_concurrent_runs", 1000), ("step_limit", 100_000)):
        if name in fields and fields[name] is not None:
            value = fields[name]
            if not isinstance(value, int) or not 1 <= value <= top:
                raise ValidationError({name: [f"A whole number from 1 to {top}."]})
            out[name] = value
    return out


def workflow_create(
    *,
    tenant,
    name: str,
    graph: dict | None = None,
    description: str = "",
    actor=None,
    publish_now: bool = False,
    template: str = "",
    **limits,
) -> Workflow:
    """A new workflow with `graph` as its draft (published at once with `publish_now`)."""
    with transaction.atomic():
        workflow = Workflow.objects.create(
            name=_clean_name(name),
            description=description or "",
            draft=graph or {"trigger": {"type": "manual"}, "nodes": [], "edges": []},
            template=template,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **_limits(limits),
        )
        if publish_now:
            workflow_publish(tenant=tenant, workflow=workflow, actor=actor, note="created")
    return workflow


def workflow_update(
    *, tenant, workflow: Workflow, actor=None, name=None, description=None, graph=None, enabled=None, **limits
) -> Workflow:
    """Changes the draft (the graph being edited) and the workflow's settings; runs keep using the
    published version until the draft is published."""
    fields = _limits(limits)
    if name is not None:
        fields["name"] = _clean_name(name)
    if description is not None:
        fields["description"] = description
    if graph is not None:
        if not isinstance(graph, dict):
            raise ValidationError({"graph": ["A graph is an object: trigger, nodes, edges."]})
        fields["draft"] = graph
    if enabled is not None:
        fields["enabled"] = bool(enabled)
    for key, value in fields.items():
        setattr(workflow, key, value)
    workflow.save()
    return workflow


def workflow_publish(*, tenant, workflow: Workflow, actor=None, note: str = "") -> WorkflowVersion:
    """The draft becomes a new, immutable version, checked first (ValidationError naming each
    problem: graph.nodes.2.type, graph.edges.0.to…)."""
    problems = graph_problems(workflow.draft)
    if problems:
        errors = {}
        for where, why in problems:
            errors.setdefault(f"graph.{where}", []).append(why)
        raise ValidationError(errors)
    graph, given = workflow.draft, workflow
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        last = workflow.versions.order_by("-number").values_list("number", flat=True).first() or 0
        version = WorkflowVersion.objects.create(
            workflow=workflow,
            number=last + 1,
            graph=graph,
            note=note[:200],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        trigger = graph["trigger"]
        workflow.published = version
        workflow.trigger_type = trigger["type"]
        workflow.event_type = trigger.get("event_type", "") if trigger["type"] == "event" else ""
        workflow.cron = trigger.get("cron", "") if trigger["type"] == "schedule" else ""
        workflow.save(update_fields=["published", "trigger_type", "event_type", "cron", "updated"])
        for name in ("published", "trigger_type", "event_type", "cron", "updated"):
            setattr(given, name, getattr(workflow, name))
        publish(
            "workflow.published",
            {"workflow_id": workflow.pk, "workflow": workflow.name, "version": version.number},
            tenant=tenant,
            actor=actor,
        )
    return version


def workflow_delete(*, tenant, workflow: Workflow, actor=None) -> None:
    if workflow.runs.filter(status__in=WorkflowRun.ACTIVE).exists():
        raise ValidationError("This workflow has runs going: cancel them first.")
    with transaction.atomic():
        WorkflowRun.objects.filter(workflow=workflow).delete()  # their versions are protected by them
        workflow.delete()


def workflow_hook_rotate(*, workflow: Workflow) -> Workflow:
    workflow.hook_token, workflow.hook_secret = new_token(), new_token()
    workflow.save(update_fields=["hook_token", "hook_secret", "updated"])
    return workflow


# --- triggers ------------------------------------------------------------------------------------


def _startable(workflow: Workflow) -> None:
    if workflow.published_id is None:
        raise ValidationError("Publish the workflow before running it.")
    if not workflow.enabled:
        raise ValidationError("This workflow is paused: switch it on to run it.")


def run_manual(*, tenant, workflow: Workflow, inputs: dict | None = None, actor=None) -> WorkflowRun:
    """A person starts the workflow with `inputs` (checked against its manual trigger's inputs)."""
    _startable(workflow)
    inputs = inputs or {}
    if not isinstance(inputs, dict):
        raise ValidationError({"inputs": ["Inputs are an object: name → value."]})
    missing = inputs_missing(workflow.published.graph.get("trigger", {}), inputs)
    if missing:
        raise ValidationError({f"inputs.{name}": ["This input is required."] for name in missing})
    return engine.run_create(workflow=workflow, trigger="manual", data=inputs, actor=actor)


TEST_RUNS_KEPT = 10  # a workflow's newest finished test runs kept (with their snapshots); older ones go


def workflow_test_run(*, tenant, workflow: Workflow, graph: dict, sample: dict, actor=None) -> WorkflowRun:
    """A test run from the builder: `graph` (the canvas, saved or not) checked as publishing checks
    it, copied into a test snapshot (a WorkflowVersion marked `test`, never published) and run by
    the engine like any run, with `sample` as its trigger data; the same limits hold (it may wait
    its turn, queued). Its steps' actions happen for real; it stops at the first step that would
    wait (a wait, an approval, a sub-workflow: engine.test_stop) and publishes no run events.
    ValidationError says what is wrong with the graph or the sample, in words."""
    if not isinstance(graph, dict):
        raise ValidationError({"graph": ["A graph is an object: trigger, nodes, edges."]})
    if not isinstance(sample, dict):
        raise ValidationError({"sample": ["The sample is a JSON object: {…}."]})
    problems = graph_problems(graph)
    if problems:
        raise ValidationError(
            {"graph": [f"The draft has {len(problems)} problem{'s' if len(problems) > 1 else ''} to mend first."]}
        )
    missing = inputs_missing(graph["trigger"], sample)
    if missing:
        raise ValidationError({"sample": [f"Fill in the required input “{name}”." for name in missing]})
    with transaction.atomic():
        _test_runs_prune(workflow)
        version = WorkflowVersion.objects.create(
            workflow=workflow,
            number=0,
            graph=graph,
            test=True,
            note="test run",
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        run = engine.run_create(workflow=workflow, trigger=WorkflowRun.TEST, data=sample, actor=actor, version=version)
    run.refresh_from_db(fields=["status"])  # started, or queued behind the limits
    return run


def _test_runs_prune(workflow: Workflow) -> None:
    finished = WorkflowRun.objects.filter(workflow=workflow, trigger=WorkflowRun.TEST).exclude(
        status__in=WorkflowRun.ACTIVE
    )
    old = list(finished.order_by("-created", "-pk").values_list("pk", flat=True)[TEST_RUNS_KEPT - 1 :])
    if old:
        WorkflowRun.objects.filter(pk__in=old).delete()
        WorkflowVersion.objects.filter(workflow=workflow, test=True, runs__isnull=True).delete()


_TRIGGER_CONDITIONS: dict = {}


def _trigger_condition(workflow: Workflow):
    """The published version's condition set, compiled once per version (versions never change)."""
    key = (connection.schema_name, workflow.published_id)
    test = _TRIGGER_CONDITIONS.get(key)
    if test is None:
        if len(_TRIGGER_CONDITIONS) > 10_000:
            _TRIGGER_CONDITIONS.clear()
        test = _TRIGGER_CONDITIONS[key] = conditions.compile_condition(
            workflow.published.graph["trigger"].get("conditions")
        )
    return test


def workflows_for_events(events) -> None:
    """The event spine's handler (every event type, in batches): each enabled workflow whose
    published trigger is the event's type, and whose condition set holds for its payload, starts
    a run (one per event and workflow, however often the event is dispatched); and the runs
    waiting for such an event go on (engine.waits_resume)."""
    try:
        engine.waits_resume(events)
    except Exception:  # noqa: BLE001 - a run's trouble never holds the tenant's events back
        logger.exception("workflow waits could not hear events %s", [str(event.pk) for event in events])
    types = {event.type for event in events}
    workflows = list(
        Workflow.objects.filter(
            enabled=True, trigger_type="event", event_type__in=types, published__isnull=False
        ).select_related("published")
    )
    if not workflows:
        return
    for event in events:
        for workflow in workflows:
            if workflow.event_type != event.type:
                continue
            if (event.payload or {}).get("workflow_id") == workflow.pk:
                continue  # its own run's events never start it again
            if not _trigger_condition(workflow)(event.payload or {}):
                continue
            data = {
                **(event.payload or {}),
                "event": {"id": str(event.pk), "type": event.type, "actor_id": event.actor_id},
            }
            try:
                with transaction.atomic():  # one workflow's trouble never holds the tenant's events back
                    engine.run_create(workflow=workflow, trigger="event", data=data, dedupe_key=f"event:{event.pk}")
            except LimitReached as exc:
                logger.warning("workflow %s not started for event %s: %s", workflow.pk, event.pk, exc.message)
            except Exception:  # noqa: BLE001
                logger.exception("workflow %s could not start for event %s", workflow.pk, event.pk)


def _tenant_now():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(getattr(connection.tenant, "time_zone", "") or "UTC")
    return timezone.now().astimezone(zone)


def schedules_fire(*, now=None) -> int:
    """Starts the scheduled workflows whose cron (in the tenant's time zone) names this minute,
    once per minute however often it is called. Returns how many runs started."""
    now = (now or _tenant_now()).replace(second=0, microsecond=0)
    started = 0
    candidates = Workflow.objects.filter(enabled=True, trigger_type="schedule", published__isnull=False)
    for workflow in candidates.select_related("published"):
        try:
            if not cron_matches(workflow.cron, now):
                continue
        except ValueError:
            continue
        with transaction.atomic():
            fired = Workflow.objects.filter(pk=workflow.pk).exclude(last_scheduled__gte=now).update(last_scheduled=now)
            if fired:
                try:
                    run = engine.run_create(
                        workflow=workflow,
                        trigger="schedule",
                        data={"scheduled_for": now.isoformat()},
                        dedupe_key=f"schedule:{now.isoformat()}",
                    )
                except LimitReached as exc:  # this minute is spent: the next one asks again
                    logger.warning("scheduled workflow %s not started: %s", workflow.pk, exc.message)
                    continue
                started += run is not None
    return started


class HookRefused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def hook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def hook_receive(*, token: str, body: bytes, signature: str, content_type: str = "") -> WorkflowRun:
    """A call of a workflow's webhook: the workflow found by the secret in its URL, the body's
    signature (X-Hub-Signature-256: sha256=<HMAC of the body with the workflow's signing secret>)
    verified, at most HUB_WORKFLOW_WEBHOOK_PER_MINUTE calls a minute; the payload is stored as the
    run's trigger data. HookRefused says why not (its status: 404, 401, 429, 400, 409)."""
    workflow = Workflow.objects.select_related("published").filter(hook_token=token).first()
    if workflow is None or workflow.trigger_type != "webhook":
        raise HookRefused(404, "No workflow listens at this address.")
    if not hmac.compare_digest(hook_signature(workflow.hook_secret, body), signature or ""):
        raise HookRefused(401, "The X-Hub-Signature-256 header is missing or does not match the body.")
    key = f"workflow:hook:{workflow.pk}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        calls = cache.incr(key)
    except ValueError:
        calls = 1
    if calls > settings.HUB_WORKFLOW_WEBHOOK_PER_MINUTE:
        raise HookRefused(429, f"More than {settings.HUB_WORKFLOW_WEBHOOK_PER_MINUTE} calls this minute.")
    if not workflow.enabled:
        raise HookRefused(409, "This workflow is paused.")
    text = body.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            payload = json.loads(text) if text.strip() else {}
        except ValueError:
            raise HookRefused(400, "The body is not valid JSON.") from None
    else:
        payload = {"text": text}
    if not isinstance(payload, dict):
        payload = {"items": payload}
    return engine.run_create(workflow=workflow, trigger="webhook", data=payload)


# --- runs and approvals --------------------------------------------------------------------------


def _as_validation(work):
    try:
        return work()
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def run_cancel(*, run: WorkflowRun, actor=None) -> WorkflowRun:
    return _as_validation(lambda: engine.run_cancel(run=run))


def run_retry(*, run: WorkflowRun, actor=None) -> WorkflowRun:
    return _as_validation(lambda: engine.run_retry(run=run))


def approval_can_decide(*, approval: Approval, membership) -> bool:
    if membership is None or not has_permission(membership.role, "workflow.approve"):
        return False
    if approval.assignee_id:
        return approval.assignee_id == membership.user_id or RANK.get(membership.role, -1) >= RANK["owner"]
    return RANK.get(membership.role, -1) >= RANK.get(approval.role or "admin", 99)


def approval_decide(*, approval: Approval, membership, approve: bool, comment: str = "") -> Approval:
    if not approval_can_decide(approval=approval, membership=membership):
        raise ValidationError("This approval is not yours to decide.")
    try:
        return engine.approval_decide(approval=approval, approve=approve, user=membership.user, comment=comment)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


# --- deciding by a signed e-mail link --------------------------------------------------------------

APPROVAL_LINK_SALT = "workflow.approval-link"


def approval_link_token(*, approval: Approval, user_id: int, decision: str) -> str:
    """What the e-mail's Approve and Reject buttons carry: this approval, this person, this
    decision, this tenant, signed; good for HUB_WORKFLOW_APPROVAL_LINK_DAYS."""
    return tenant_link_token({"a": approval.pk, "u": user_id, "d": decision}, salt=APPROVAL_LINK_SALT)


def approval_from_link(*, token: str):
    """(approval, membership, decision) from a link's token, or ValidationError saying why not:
    expired, not valid, the approval gone or decided, the person no longer able to decide."""
    try:
        days = settings.HUB_WORKFLOW_APPROVAL_LINK_DAYS
        data = tenant_link_read(token, salt=APPROVAL_LINK_SALT, max_age=days * 86400)
    except LinkExpired:
        raise ValidationError("This link has expired.") from None
    if data is None or data.get("d") not in ("approve", "reject"):
        raise ValidationError("This link is not valid (was it copied whole?).")
    approval = Approval.objects.select_related("step__run__workflow").filter(pk=data["a"]).first()
    if approval is None:
        raise ValidationError("This approval is gone (its workflow was deleted).")
    if approval.status != Approval.Status.PENDING:
        raise ValidationError(f"This approval was {approval.get_status_display().lower()} already.")
    membership = (
        Membership.objects.select_related("user")
        .filter(user_id=data["u"], user__is_active=True, tenant=connection.tenant)
        .first()
    )
    if not approval_can_decide(approval=approval, membership=membership):
        raise ValidationError("This approval is not yours to decide any more.")
    return approval, membership, data["d"]


def workflow_from_template(*, tenant, key: str, actor=None) -> Workflow:
    """A copy of a ready workflow (apps/workflow/library.py), published if it needs nothing more."""
    from .library import BY_KEY

    template = BY_KEY.get(key)
    if template is None:
        raise ValidationError({"template": [f"No template “{key}”."]})
    return workflow_create(
        tenant=tenant,
        name=template.name,
        description=template.description,
        graph=template.graph,
        actor=actor,
        publish_now=template.ready,
        template=key,
    )
