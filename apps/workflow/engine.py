"""Durable execution: a run advances one step at a time, each step a Celery task
(apps.workflow.tasks.run_step) and a row (StepRun) written before the next step starts; the quick
built-in steps that follow a step run in its task (steps_run), each still a row of its own.

A step task claims its row (pending → running, attempts + 1, a lease until its timeout has passed),
runs the node outside any transaction, then in one transaction records the outcome and creates
the steps that follow (sent after commit). Completed steps are never run again: a task for a step
that is no longer pending does nothing, so a task delivered twice is harmless, and a worker killed
mid-step leaves a running step whose lease runs out; the recovery sweep (engine.runs_recover, run
by the events sweep in each tenant) sends it again. A node still running after its timeout is
stopped (time_limit) and its step fails with the reason. Failed steps retry with exponential backoff.

Concurrency: a run waits (queued) while its workflow has `max_concurrent_runs` runs going, or the
tenant HUB_WORKFLOW_TENANT_CONCURRENCY; a run stops with a clear reason once it has made more than
its workflow's `step_limit` steps.

Locks, always in this order: a step row, a loop's (or join's) step row, the run row.
"""

import logging
import signal
import sys
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.events import publish
from apps.core.limits import limit_check
from apps.core.taskref import TaskRef
from apps.identity.roles import RANK

from . import conditions, expressions
from .graph import BUILTINS, action_of
from .models import Approval, StepRun, Workflow, WorkflowRun

logger = logging.getLogger(__name__)

RUN_STEP = TaskRef("apps.workflow.tasks.run_step")
ROLE_NAMES = {str(role) for role in RANK}
Status = StepRun.Status


class StepFailed(Exception):
    """A node's own failure with a reason people read (no retry helps: `final`)."""

    def __init__(self, message: str, final: bool = False):
        super().__init__(message)
        self.final = final


@dataclass
class Outcome:
    output: object = None
    port: str = "out"
    wait_until: datetime | None = None  # a wait: finish then
    waiting: bool = False  # an approval, a sub-workflow: something else finishes the step
    items: list | None = None  # a loop: its iterations
    variables: dict = field(default_factory=dict)  # set variables
    stop: bool = False  # a test run: the step would wait here, and the run stops (test_stop)


# --- sending steps -------------------------------------------------------------------------------


# Built-ins that do no I/O of their own and take microseconds: the task that made such a step runs
# it itself (steps_run) rather than sending it as a task of its own (a message, a worker's pick-up
# and a tenant switch each, which cost far more than the step).
INLINE = frozenset({"condition", "switch", "loop", "parallel", "join", "set", "transform"})
# Inside steps_run: the steps sent (after their commit) while it runs, for it to run or send.
_inline: ContextVar[list[int] | None] = ContextVar("workflow_inline", default=None)


def _send(step_ids: list[int], countdown: float | None = None) -> None:
    queue = _inline.get()
    if queue is not None and not countdown:
        queue.extend(step_ids)
        return
    _apply(step_ids, countdown)


def _apply(step_ids: list[int], countdown: float | None = None) -> None:
    schema = connection.schema_name
    for step_id in step_ids:
        try:
            RUN_STEP.apply_async(args=[step_id], countdown=countdown, headers={"_schema_name": schema})
        except Exception:  # noqa: BLE001 - the step is safe in the database; the recovery sweep sends it
            logger.warning("could not send workflow step %s of %s; the sweep will", step_id, schema)


def _send_on_commit(step_ids: list[int], countdown: float | None = None) -> None:
    if step_ids:
        ids = list(step_ids)
        transaction.on_commit(lambda: _send(ids, countdown))


# --- runs ----------------------------------------------------------------------------------------


def _graph(run: WorkflowRun) -> dict:
    return run.version.graph


def _nodes(run) -> dict:
    return {node["id"]: node for node in _graph(run).get("nodes", [])}


def _starts(graph) -> list[str]:
    targets = {edge.get("to") for edge in graph.get("edges", [])}
    return [node["id"] for node in graph.get("nodes", []) if node["id"] not in targets]


def run_create(
    *, workflow: Workflow, trigger: str, data: dict, actor=None, dedupe_key: str = "", parent_step=None, version=None
):
    """A run of the workflow's published version (or of `version`: a test run's snapshot of the
    draft), started now if the limits allow (else queued). Returns None when a run with the same
    `dedupe_key` exists (the event was handled already)."""
    version = version or workflow.published
    if version is None:
        raise ValueError(f"the workflow “{workflow.name}” has no published version")
    if parent_step is None and trigger != WorkflowRun.TEST:
        limit_check(tenant=connection.tenant, quantity="workflow_runs")  # the plan's runs a month
    with transaction.atomic():
        if dedupe_key and WorkflowRun.objects.filter(workflow=workflow, dedupe_key=dedupe_key).exists():
            return None
        run = WorkflowRun.objects.create(
            workflow=workflow,
            version=version,
            trigger=trigger,
            trigger_data=data,
            dedupe_key=dedupe_key,
            parent_step=parent_step,
            started_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if parent_step is not None:
            _start(run)  # a sub-workflow holds no place of its own: its parent holds one
        else:
            runs_admit()
    return run


def _lock_tenant() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"workflow-admit:{connection.schema_name}"])


def runs_admit() -> int:
    """Starts queued runs, oldest first, while their workflow and the tenant have free places."""
    started = 0
    with transaction.atomic():
        _lock_tenant()
        running = WorkflowRun.objects.filter(status=WorkflowRun.Status.RUNNING, parent_step__isnull=True)
        free = settings.HUB_WORKFLOW_TENANT_CONCURRENCY - running.count()
        if free <= 0:
            return 0
        per_workflow = {row["workflow_id"]: row["n"] for row in running.values("workflow_id").annotate(n=Count("pk"))}
        queued = WorkflowRun.objects.filter(status=WorkflowRun.Status.QUEUED).select_related("workflow", "version")
        for run in queued.order_by("created", "pk")[:500]:
            if free <= 0:
                break
            if per_workflow.get(run.workflow_id, 0) >= run.workflow.max_concurrent_runs:
                continue
            _start(run)
            per_workflow[run.workflow_id] = per_workflow.get(run.workflow_id, 0) + 1
            free -= 1
            started += 1
    return started


def _start(run: WorkflowRun) -> None:
    run.status, run.started_at = WorkflowRun.Status.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    ids = [_step_new(run, node_id, "").pk for node_id in _starts(_graph(run))]
    _publish(run, "workflow.run_started")
    _send_on_commit([i for i in ids if i])


def _publish(run: WorkflowRun, event_type: str, **extra) -> None:
    if run.is_test:
        return  # a test run from the builder tells nobody, and starts no workflow listening for runs
    payload = {
        "run_id": run.pk,
        "workflow_id": run.workflow_id,
        "workflow": run.workflow.name,
        "version": run.version.number,
        "trigger": run.trigger,
        **extra,
    }
    publish(event_type, payload, tenant=connection.tenant, actor=run.started_by)


class StepLimitReached(Exception):
    pass


def _step_new(run: WorkflowRun, node_id: str, scope: str, status=Status.PENDING, input=None) -> StepRun:
    updated = WorkflowRun.objects.filter(pk=run.pk).update(steps_count=F("steps_count") + 1)
    count = WorkflowRun.objects.filter(pk=run.pk).values_list("steps_count", flat=True).first() if updated else 0
    if count > run.workflow.step_limit:
        raise StepLimitReached(
            f"Stopped after {run.workflow.step_limit} steps, the limit for one run of this workflow "
            f"(a loop or cycle that does not end?). Raise the limit if the workflow needs more."
        )
    node = _nodes(run)[node_id]
    visit = StepRun.objects.filter(run=run, node_id=node_id, scope=scope).count()
    return StepRun.objects.create(
        run=run,
        node_id=node_id,
        node_type=node.get("type", ""),
        scope=scope,
        visit=visit,
        status=status,
        input=input or {},
    )


# --- context -------------------------------------------------------------------------------------


def _scope_parts(scope: str) -> list[tuple[str, int]]:
    """ "a[0]/b[3]" → [("a", 0), ("b", 3)]."""
    parts = []
    for segment in filter(None, scope.split("/")):
        name, _, index = segment.rpartition("[")
        parts.append((name, int(index.rstrip("]"))))
    return parts


def _parent_scope(scope: str) -> str:
    return scope.rpartition("/")[0] if "/" in scope else ""


def context_of(step: StepRun) -> dict:
    """What a step's expressions read: trigger, vars, steps (outputs by node id; the step's own
    loop iteration wins over others), item and index (the innermost loop's), run."""
    run = step.run
    outputs = {}
    done = (Status.SUCCEEDED, Status.FAILED)  # a failed step's output is its error (for its error port)
    rows = StepRun.objects.filter(run=run, status__in=done, output__isnull=False).exclude(pk=step.pk)
    for scope, node_id, output in rows.order_by("pk").values_list("scope", "node_id", "output"):
        if scope == "" or step.scope == scope or step.scope.startswith(scope + "/"):
            outputs[node_id] = output
    context = {"trigger": run.trigger_data, "vars": run.variables, "steps": outputs, "run": {"id": run.pk}}
    parts = _scope_parts(step.scope)
    if parts:
        loop_id, index = parts[-1]
        loop = StepRun.objects.filter(run=run, node_id=loop_id, scope=_parent_scope(step.scope)).order_by("-pk").first()
        items = (loop.output or {}).get("items", []) if loop else []
        context["item"] = items[index] if index < len(items) else None
        context["index"] = index
    return context


# --- nodes ---------------------------------------------------------------------------------------


def _condition(step, params, raw, context):
    return Outcome({"result": (ok := conditions.evaluate(raw.get("conditions"), context))}, "true" if ok else "false")


def _switch(step, params, raw, context):
    value = expressions.search(raw["value"], context)
    for case in params.get("cases", []):
        if case.get("value") == value:
            return Outcome({"value": value}, case["port"])
    return Outcome({"value": value}, "default")


def _loop(step, params, raw, context):
    items = expressions.search(raw["items"], context)
    if items is None:
        items = []
    if not isinstance(items, list):
        raise StepFailed(f"“items” gave {type(items).__name__}, not a list", final=True)
    if not items:
        return Outcome({"items": [], "results": []}, "done")
    return Outcome({"items": items}, "item", items=items)


def _pass(step, params, raw, context):
    return Outcome({"arrived": step.input.get("arrived", [])} if step.node_type == "join" else {})


def _wait(step, params, raw, context):
    """A delay, a time, or an event (its type and a condition set on its payload, the templates in
    it filled from the run's data): goes on by "out" when the event comes (waits_resume), or by
    "timeout" when its `seconds` or `until` pass first."""
    if not params.get("event"):
        moment = _wait_moment(params)
        return Outcome({"until": moment.isoformat()}, wait_until=moment)
    problem = conditions.condition_problem(params.get("conditions"))
    if problem:
        raise StepFailed(f"the event's conditions: {problem}", final=True)
    moment = _wait_moment(params) if "seconds" in params or "until" in params else None
    output = {"event_type": params["event"], "until": moment.isoformat() if moment else None}
    if moment is None:
        return Outcome(output, waiting=True)
    if moment <= timezone.now():
        return Outcome(output, "timeout")
    return Outcome(output, wait_until=moment)


def _wait_moment(params) -> datetime:
    if "until" in params:
        until = params["until"]
        moment = parse_datetime(until) if isinstance(until, str) else None
        if moment is None:
            raise StepFailed(f"“until” is not a date and time: {str(until)[:60]}", final=True)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, _tenant_zone())
    else:
        try:
            moment = timezone.now() + timedelta(seconds=float(params["seconds"]))
        except (TypeError, ValueError):
            raise StepFailed("“seconds” is not a number", final=True) from None
    return moment


def _tenant_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(getattr(connection.tenant, "time_zone", "") or "UTC")


def _set(step, params, raw, context):
    values = params.get("values")
    if not isinstance(values, dict):
        raise StepFailed("“values” is an object: name → value", final=True)
    return Outcome(values, variables=values)


def _transform(step, params, raw, context):
    if "expression" in raw:
        return Outcome(expressions.search(raw["expression"], context))
    return Outcome({name: expressions.search(expr, context) for name, expr in raw["fields"].items()})


def _person(assignee):
    """The member of this organisation an approval names (a user id or an e-mail address), None
    for nobody. Only members: a workflow never asks (or e-mails) anyone else on the platform."""
    from apps.identity.models import Membership

    if assignee in (None, ""):
        return None
    members = Membership.objects.filter(tenant__schema_name=connection.schema_name).select_related("user")
    member = members.filter(user_id=assignee).first() if str(assignee).isdigit() else None
    member = member or members.filter(user__email__iexact=str(assignee)).first()
    if member is None:
        raise StepFailed(f"“{assignee}” is not a member of this organisation to ask for approval", final=True)
    return member.user


def _approval(step, params, raw, context):
    user = _person(params.get("assignee"))
    escalate_at = None
    if params.get("escalate_after") not in (None, ""):
        try:
            escalate_at = timezone.now() + timedelta(seconds=float(params["escalate_after"]))
        except (TypeError, ValueError):
            raise StepFailed("“escalate_after” is not a number of seconds", final=True) from None
        _escalation_target(params.get("escalate_to"))  # a member who is not there fails the step now, not later
    approval, _ = Approval.objects.get_or_create(
        step=step,
        defaults={
            "title": str(params.get("title", ""))[:200],
            "details": str(params.get("details", "")),
            "assignee": user,
            "role": str(params.get("role") or ("" if user else "admin")),
            "escalate_at": escalate_at,
        },
    )
    _publish_approval(step.run, approval, "workflow.approval_requested")
    return Outcome({"approval_id": approval.pk}, waiting=True)


def _escalation_target(escalate_to) -> tuple:
    """(member, "") or (None, role) for an approval's `escalate_to`: a role's name, else a member
    (StepFailed when none); the owners when it names nothing."""
    target = str(escalate_to or "owner")
    return (None, target) if target in ROLE_NAMES else (_person(target), "")


def _publish_approval(run: WorkflowRun, approval: Approval, event_type: str) -> None:
    _publish(
        run,
        event_type,
        approval_id=approval.pk,
        title=approval.title,
        assignee_id=approval.assignee_id,
        role=approval.role,
    )


def _subworkflow(step, params, raw, context):
    child = Workflow.objects.filter(pk=params.get("workflow")).select_related("published").first()
    if child is None or child.published is None:
        raise StepFailed(f"no published workflow {params.get('workflow')!r} to run", final=True)
    inputs = params.get("inputs") or {}
    run = run_create(workflow=child, trigger="subworkflow", data=inputs, parent_step=step)
    return Outcome({"run_id": run.pk}, waiting=True)


HANDLERS = {
    "condition": _condition,
    "switch": _switch,
    "loop": _loop,
    "parallel": _pass,
    "join": _pass,
    "wait": _wait,
    "set": _set,
    "transform": _transform,
    "approval": _approval,
    "subworkflow": _subworkflow,
}
# Built-ins whose parameters are read raw (their expressions are evaluated by the node itself).
_RAW = {"condition", "switch", "loop", "transform"}
assert set(HANDLERS) == set(BUILTINS)


# What a test run does not wait for: it stops at the first of them (test_stop).
TEST_STOPS = {
    "wait": "A test run does not wait: it stops here.",
    "approval": "A test run asks nobody for approval: it stops here.",
    "subworkflow": "A test run starts no sub-workflow: it stops here.",
}


def _execute(step: StepRun, node: dict) -> Outcome:
    raw = node.get("parameters") or {}
    context = context_of(step)
    node_type = node.get("type")
    params = raw if node_type in _RAW else expressions.render(raw, context)
    step_input = {k: v for k, v in params.items() if k not in ("retries", "backoff", "timeout")}
    StepRun.objects.filter(pk=step.pk).update(input={**step.input, **_jsonable(step_input)})
    if step.run.is_test and node_type in TEST_STOPS:
        return Outcome({"would_wait": TEST_STOPS[node_type]}, stop=True)
    handler = HANDLERS.get(node_type)
    if handler is not None:
        return handler(step, params, raw, context)
    action = action_of(node_type)
    if action is None:
        raise StepFailed(
            f"The node type “{node_type}” is no longer installed on this hub (was its app or plugin removed?).",
            final=True,
        )
    context = {
        **context,
        "tenant": connection.tenant,
        "idempotency_key": f"{connection.schema_name}:wf-step:{step.pk}",
        "step_id": step.pk,
        "timeout": float(raw.get("timeout", 60)),
    }
    return Outcome(action.run(config=step_input, context=context))


def _jsonable(value):
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


# --- running a step ------------------------------------------------------------------------------


def timeout_of(node: dict) -> float:
    return float((node.get("parameters") or {}).get("timeout", 60))


# A node's own timeouts (an HTTP call's) answer first, with their own reason.
SOFT_LIMIT_GRACE_SECONDS = 1.0


@contextmanager
def time_limit(seconds: float):
    """Raises SoftTimeLimitExceeded in the block once it has run `seconds`, as Celery's soft time
    limit does to a task, but per step (a task may run several): a node that hangs in Python (a
    loop, a call without a timeout of its own) is stopped and its step fails with the reason,
    instead of holding the worker until the step's lease runs out. A signal timer, so in a
    process's main thread only, where Celery's prefork and solo pools run tasks; elsewhere (a
    thread pool, gevent) the lease alone bounds the step."""
    green = sys.modules.get("gevent.monkey")
    if threading.current_thread() is not threading.main_thread() or (green and green.is_module_patched("threading")):
        yield
        return

    def expired(signum, frame):
        raise SoftTimeLimitExceeded(f"the step ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def step_claim(*, step_id: int) -> StepRun | None:
    """pending → running (or a wait whose time has come), in its own transaction; None when the
    step is not ready for this task (done already, taken, cancelled, not yet due)."""
    now = timezone.now()
    with transaction.atomic():
        step = (
            StepRun.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("run__workflow", "run__version")
            .filter(pk=step_id)
            .first()
        )
        if step is None:
            return None
        if step.status == Status.WAITING and step.node_type == "wait" and step.not_before and step.not_before <= now:
            _finish(step, Outcome(step.output, "timeout" if (step.output or {}).get("event_type") else "out"))
            return None
        if step.status != Status.PENDING:
            return None
        if step.run.status != WorkflowRun.Status.RUNNING:
            step.status, step.finished_at = Status.CANCELLED, now
            step.save(update_fields=["status", "finished_at"])
            return None
        if step.not_before and step.not_before > now:
            _send_on_commit([step.pk], countdown=(step.not_before - now).total_seconds())
            return None
        node = _nodes(step.run)[step.node_id]
        step.status, step.attempts = Status.RUNNING, step.attempts + 1
        step.started_at = step.started_at or now
        step.lease_until = (
            now + timedelta(seconds=timeout_of(node)) + timedelta(seconds=settings.HUB_WORKFLOW_LEASE_GRACE_SECONDS)
        )
        step.save(update_fields=["status", "attempts", "started_at", "lease_until"])
    return step


def step_run(*, step_id: int) -> str:
    """Runs one step (the task's whole work). Returns what happened, for logs and tests."""
    step = step_claim(step_id=step_id)
    if step is None:
        return "skipped"
    node = _nodes(step.run)[step.node_id]
    attempt = step.attempts
    try:
        with time_limit(timeout_of(node) + SOFT_LIMIT_GRACE_SECONDS):
            outcome = _execute(step, node)
    except StepLimitReached as exc:
        reason = str(exc)
        return _record(step, attempt, lambda s: _fail_run(s.run, reason))
    except SoftTimeLimitExceeded:
        error = StepFailed(f"timed out after {timeout_of(node):g} s")
        return _record(step, attempt, lambda s: _failed(s, node, error))
    except Exception as exc:  # noqa: BLE001 - any node's failure is the step's, recorded with its reason
        failure = exc
        return _record(step, attempt, lambda s: _failed(s, node, failure))
    return _record(step, attempt, lambda s: _finish(s, outcome))


def steps_run(*, step_id: int) -> str:
    """The run_step task's work: its step, then the quick built-in steps (INLINE) that follow, one
    after another in this process, up to HUB_WORKFLOW_INLINE_STEPS steps or _SECONDS; any other
    step, and what the budget leaves, is sent as a task of its own. Each step is still claimed and
    recorded in transactions of its own, so a worker killed between two steps leaves a pending
    step that the recovery sweep sends. Returns what happened to the task's own step."""
    queue = [step_id]
    token = _inline.set(queue)
    deadline = time.monotonic() + settings.HUB_WORKFLOW_INLINE_SECONDS
    result, ran = None, 0
    try:
        while queue:
            outcome = step_run(step_id=queue.pop(0))
            result, ran = result or outcome, ran + 1
            if ran >= settings.HUB_WORKFLOW_INLINE_STEPS or time.monotonic() > deadline:
                break
            types = dict(StepRun.objects.filter(pk__in=queue).values_list("pk", "node_type"))
            _apply([i for i in queue if types.get(i) not in INLINE])
            queue[:] = [i for i in queue if types.get(i) in INLINE]
    finally:
        _inline.reset(token)
        _apply(queue)
    return result


def _locked_run(run_id) -> WorkflowRun:
    """The run's row, locked (after its step's: the order every writer keeps)."""
    return WorkflowRun.objects.select_for_update(of=("self",)).select_related("workflow", "version").get(pk=run_id)


def _record(step: StepRun, attempt: int, write) -> str:
    """Writes the outcome if the step is still this attempt's (a recovered step may have moved on).
    The step's row, then its run's, are locked first: a run's steps record one at a time. A
    deadlock (a cancel locks the other way round) is tried again."""
    for tries in range(5):
        try:
            with transaction.atomic():
                current = StepRun.objects.select_for_update().get(pk=step.pk)
                if current.status != Status.RUNNING or current.attempts != attempt:
                    return "superseded"
                current.run = _locked_run(current.run_id)
                try:
                    with transaction.atomic():
                        write(current)
                except StepLimitReached as exc:
                    _fail_run(current.run, str(exc))
                return current.status
        except OperationalError:
            if tries == 4:
                raise
            time.sleep(0.05 * (tries + 1))
    return "superseded"  # pragma: no cover


def _failed(step: StepRun, node: dict, exc: Exception) -> None:
    params = node.get("parameters") or {}
    retries = int(params.get("retries", 0))
    message = str(exc) if isinstance(exc, StepFailed | expressions.ExpressionError) else f"{type(exc).__name__}: {exc}"
    step.error = message[:4000]
    final = getattr(exc, "final", False) or isinstance(exc, expressions.ExpressionError)
    if not final and step.attempts <= retries:
        delay = float(params.get("backoff", 2)) * 2 ** (step.attempts - 1)
        step.status, step.not_before, step.lease_until = Status.PENDING, timezone.now() + timedelta(seconds=delay), None
        step.save(update_fields=["status", "error", "not_before", "lease_until"])
        _send_on_commit([step.pk], countdown=delay)
        return
    step.status, step.finished_at, step.lease_until = Status.FAILED, timezone.now(), None
    step.save(update_fields=["status", "error", "finished_at", "lease_until"])
    if _edges_from(step, "error"):
        step.output = {"error": step.error}
        step.save(update_fields=["output"])
        _advance(step, "error")
        return
    _fail_run(step.run, f"The step “{step.node_id}” ({step.node_type}) failed: {step.error}")


def _edges_from(step: StepRun, port: str) -> list[str]:
    return [
        e["to"]
        for e in _graph(step.run).get("edges", [])
        if e.get("from") == step.node_id and e.get("port", "out") == port
    ]


def _finish(step: StepRun, outcome: Outcome) -> None:
    now = timezone.now()
    step.output = _jsonable(outcome.output)
    if outcome.variables:
        run = WorkflowRun.objects.select_for_update().get(pk=step.run_id)
        run.variables = {**run.variables, **_jsonable(outcome.variables)}
        run.save(update_fields=["variables"])
        step.run.variables = run.variables
    if outcome.stop:
        step.status, step.finished_at, step.lease_until = Status.WOULD_WAIT, now, None
        step.save(update_fields=["status", "output", "finished_at", "lease_until"])
        test_stop(step)
        return
    if outcome.wait_until is not None and outcome.wait_until > now:
        step.status, step.not_before, step.lease_until = Status.WAITING, outcome.wait_until, None
        step.save(update_fields=["status", "output", "not_before", "lease_until"])
        _send_on_commit([step.pk], countdown=(outcome.wait_until - now).total_seconds())
        return
    if outcome.waiting or outcome.items:
        step.status, step.lease_until = Status.WAITING, None
        step.save(update_fields=["status", "output", "lease_until"])
        if outcome.items:
            scope_of = lambda i: f"{step.scope}/{step.node_id}[{i}]".lstrip("/")  # noqa: E731
            ids = []
            for i in range(len(outcome.items)):
                ids.extend(_arrive(step, target, scope_of(i)) for target in _edges_from(step, "item"))
            _send_on_commit([i for i in ids if i])
            if not _edges_from(step, "item"):
                _loop_done(step)
        return
    step.status, step.port, step.finished_at, step.lease_until = Status.SUCCEEDED, outcome.port, now, None
    step.save(update_fields=["status", "output", "port", "finished_at", "lease_until"])
    _advance(step, outcome.port)


def _advance(step: StepRun, port: str) -> None:
    """Creates (and sends after commit) the steps after `step` by `port`; ends its branch if none."""
    ids = [_arrive(step, target, step.scope) for target in _edges_from(step, port)]
    _send_on_commit([i for i in ids if i])
    if not ids:
        _branch_ended(step.run, step.scope)


def _arrive(source: StepRun, node_id: str, scope: str) -> int | None:
    """The step of `node_id` that `source` leads to: a new one, or a join's (sent once every branch
    into it has arrived). Returns the id of a step to send now, or None."""
    run = source.run
    node = _nodes(run)[node_id]
    if node.get("type") != "join":
        return _step_new(run, node_id, scope).pk
    sources = {e["from"] for e in _graph(run).get("edges", []) if e.get("to") == node_id}
    join = (
        StepRun.objects.select_for_update().filter(run=run, node_id=node_id, scope=scope, status=Status.WAITING).first()
    )
    if join is None:
        join = _step_new(run, node_id, scope, status=Status.WAITING, input={"arrived": []})
    arrived = sorted({*join.input.get("arrived", []), source.node_id})
    join.input = {"arrived": arrived}
    if set(arrived) >= sources:
        join.status = Status.PENDING
    join.save(update_fields=["input", "status"])
    return join.pk if join.status == Status.PENDING else None


def _branch_ended(run: WorkflowRun, scope: str) -> None:
    """A branch found no next step: its loop iteration, or the run, may be complete."""
    if scope:
        loop_id, _ = _scope_parts(scope)[-1]
        parent = _parent_scope(scope)
        loop = (
            StepRun.objects.select_for_update()
            .filter(run=run, node_id=loop_id, scope=parent, status=Status.WAITING)
            .order_by("-pk")
            .first()
        )
        if loop is not None:
            _loop_done(loop)
        return
    run = WorkflowRun.objects.select_for_update(of=("self",)).select_related("workflow", "version").get(pk=run.pk)
    if run.status != WorkflowRun.Status.RUNNING:
        return
    if StepRun.objects.filter(run=run, status__in=StepRun.OPEN).exists():
        return
    _end_run(run, WorkflowRun.Status.SUCCEEDED)


def _loop_done(loop: StepRun) -> None:
    prefix = f"{loop.scope}/{loop.node_id}[".lstrip("/")
    inside = StepRun.objects.filter(run=loop.run, scope__startswith=prefix)
    if inside.filter(status__in=StepRun.OPEN).exists():
        return
    count = len((loop.output or {}).get("items", []))
    results = [None] * count
    for scope, output in inside.filter(status=Status.SUCCEEDED).order_by("pk").values_list("scope", "output"):
        index = _scope_parts(scope[len(loop.scope) :].lstrip("/"))[0][1]
        if index < count:
            results[index] = output
    loop.output = {**(loop.output or {}), "results": results}
    loop.status, loop.port, loop.finished_at = Status.SUCCEEDED, "done", timezone.now()
    loop.save(update_fields=["output", "status", "port", "finished_at"])
    _advance(loop, "done")


def _end_run(run: WorkflowRun, status: str, error: str = "") -> None:
    run.status, run.error, run.finished_at = status, error[:4000], timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    if status == WorkflowRun.Status.SUCCEEDED:
        _publish(run, "workflow.run_succeeded")
    elif status == WorkflowRun.Status.FAILED:
        _publish(run, "workflow.run_failed", error=run.error)
    if run.parent_step_id:
        _child_ended(run)
    else:
        transaction.on_commit(_admit_after_commit)


def _admit_after_commit() -> None:
    try:
        runs_admit()
    except Exception:  # noqa: BLE001 - the recovery sweep admits them later
        logger.exception("could not admit queued workflow runs")


def _child_ended(child: WorkflowRun) -> None:
    parent = (
        StepRun.objects.select_for_update()
        .select_related("run__workflow", "run__version")
        .filter(pk=child.parent_step_id, status=Status.WAITING)
        .first()
    )
    if parent is None:
        return
    parent.run = _locked_run(parent.run_id)
    if child.status == WorkflowRun.Status.SUCCEEDED:
        _finish(parent, Outcome({"run_id": child.pk, "variables": child.variables}))
    else:
        node = _nodes(parent.run)[parent.node_id]
        parent.attempts = max(parent.attempts, int((node.get("parameters") or {}).get("retries", 0)) + 1)
        _failed(parent, node, StepFailed(f"the sub-workflow run {child.pk} {child.status}: {child.error}", final=True))


def _close_open_steps(run: WorkflowRun) -> None:
    now = timezone.now()
    open_steps = StepRun.objects.filter(run=run, status__in=StepRun.OPEN)
    Approval.objects.filter(step__in=open_steps, status=Approval.Status.PENDING).update(
        status=Approval.Status.CANCELLED
    )
    open_steps.update(status=Status.CANCELLED, finished_at=now, lease_until=None)
    for child in WorkflowRun.objects.filter(parent_step__run=run, status__in=WorkflowRun.ACTIVE):
        _close_open_steps(child)
        child.status, child.finished_at = WorkflowRun.Status.CANCELLED, now
        child.save(update_fields=["status", "finished_at"])


def test_stop(step: StepRun) -> None:
    """A test run reached a step that would wait (a wait, an approval, a sub-workflow): the run
    ends there, as succeeded so far, its other open steps cancelled, rather than wait for ever."""
    run = WorkflowRun.objects.select_for_update(of=("self",)).select_related("workflow", "version").get(pk=step.run_id)
    if run.status not in WorkflowRun.ACTIVE:
        return
    _close_open_steps(run)
    _end_run(run, WorkflowRun.Status.SUCCEEDED, f"A test run stops where it would wait: at “{step.node_id}”.")


def _fail_run(run: WorkflowRun, reason: str) -> None:
    run = WorkflowRun.objects.select_for_update(of=("self",)).select_related("workflow", "version").get(pk=run.pk)
    if run.status not in WorkflowRun.ACTIVE:
        return
    _close_open_steps(run)
    _end_run(run, WorkflowRun.Status.FAILED, reason)


# --- events a wait is waiting for -----------------------------------------------------------------


def waits_resume(events) -> int:
    """Each wait step waiting for one of these events' types goes on by "out" with the first of
    them, published after the wait began, whose payload meets the wait's conditions. Returns how
    many went on."""
    types = {event.type for event in events}
    waiting = StepRun.objects.filter(
        status=Status.WAITING, node_type="wait", output__event_type__in=types, run__status=WorkflowRun.Status.RUNNING
    )
    resumed = 0
    for step_id, output, step_input, started in waiting.values_list("pk", "output", "input", "started_at"):
        test = conditions.compile_condition(step_input.get("conditions"))
        for event in events:
            if event.type == output["event_type"] and event.occurred_at >= started and test(event.payload or {}):
                resumed += _resume(step_id, event)
                break
    return resumed


def _resume(step_id: int, event) -> int:
    with transaction.atomic():
        step = (
            StepRun.objects.select_for_update(of=("self",))
            .select_related("run__workflow", "run__version")
            .filter(pk=step_id, status=Status.WAITING)
            .first()
        )
        if step is None:
            return 0  # its time ran out, or another dispatch resumed it
        step.run = _locked_run(step.run_id)
        if step.run.status != WorkflowRun.Status.RUNNING:
            return 0
        arrived = {"id": str(event.pk), "type": event.type, "actor_id": event.actor_id, "payload": event.payload}
        _finish(step, Outcome({"event": arrived}, "out"))
    return 1


# --- people acting on runs -----------------------------------------------------------------------


def run_cancel(*, run: WorkflowRun) -> WorkflowRun:
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update(of=("self",)).select_related("workflow", "version").get(pk=run.pk)
        if run.status not in WorkflowRun.ACTIVE:
            raise ValueError(f"this run has {run.status} already: there is nothing to cancel")
        _close_open_steps(run)
        _end_run(run, WorkflowRun.Status.CANCELLED, "Cancelled.")
    return run


def run_retry(*, run: WorkflowRun) -> WorkflowRun:
    """Re-runs a failed run from its failed step(s): the steps that succeeded are kept, not repeated."""
    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update(of=("self",)).select_related("workflow", "version").get(pk=run.pk)
        if run.status != WorkflowRun.Status.FAILED:
            raise ValueError("only a failed run can be re-run from its failed step")
        redo = StepRun.objects.filter(run=run, status__in=[Status.FAILED, Status.CANCELLED])
        redo = redo.exclude(pk__in=_handled_failures(run))
        ids = list(redo.values_list("pk", flat=True))
        if not ids:
            raise ValueError("this run has no failed step to start again from")
        redo.update(status=Status.PENDING, finished_at=None, not_before=None, lease_until=None, attempts=0)
        run.status, run.error, run.finished_at = WorkflowRun.Status.RUNNING, "", None
        run.save(update_fields=["status", "error", "finished_at"])
        _send_on_commit(ids)
    return run


def _handled_failures(run) -> list[int]:
    """Failed steps that went on by their error port (the run did not fail there)."""
    error_sources = {e["from"] for e in _graph(run).get("edges", []) if e.get("port") == "error"}
    return list(
        StepRun.objects.filter(run=run, status=Status.FAILED, node_id__in=error_sources).values_list("pk", flat=True)
    )


def approval_decide(*, approval: Approval, approve: bool, user, comment: str = "") -> Approval:
    with transaction.atomic():
        step = (
            StepRun.objects.select_for_update(of=("self",))
            .select_related("run__workflow", "run__version")
            .get(pk=approval.step_id)
        )
        step.run = _locked_run(step.run_id)
        approval = Approval.objects.select_for_update().get(pk=approval.pk)
        if approval.status != Approval.Status.PENDING or step.status != Status.WAITING:
            raise ValueError("this approval is decided (or its run has ended) already")
        approval.status = Approval.Status.APPROVED if approve else Approval.Status.REJECTED
        approval.decided_by, approval.decided_at, approval.comment = user, timezone.now(), comment
        approval.save(update_fields=["status", "decided_by", "decided_at", "comment"])
        decision = "approved" if approve else "rejected"
        output = {"decision": decision, "by": getattr(user, "email", ""), "comment": comment}
        _finish(step, Outcome(output, decision))
    return approval


def approvals_escalate() -> int:
    """Approvals still undecided at their escalate_at go to their node's `escalate_to` (a person by
    id or address, or a role; the owners when it names none), once; the new approvers are told
    (workflow.approval_escalated). Returns how many went up."""
    escalated = 0
    due = Approval.objects.filter(
        status=Approval.Status.PENDING, escalated_at__isnull=True, escalate_at__lte=timezone.now()
    )
    for approval_id in due.values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            approval = (
                Approval.objects.select_for_update(of=("self",))
                .select_related("step__run__workflow", "step__run__version")
                .filter(pk=approval_id, status=Approval.Status.PENDING, escalated_at__isnull=True)
                .first()
            )
            if approval is None:
                continue
            try:
                approval.assignee, approval.role = _escalation_target(approval.step.input.get("escalate_to"))
            except StepFailed:
                approval.assignee, approval.role = None, "owner"  # the member has gone since: the owners decide
            approval.escalated_at = timezone.now()
            approval.save(update_fields=["assignee", "role", "escalated_at"])
            _publish_approval(approval.step.run, approval, "workflow.approval_escalated")
            escalated += 1
    return escalated


# --- recovery ------------------------------------------------------------------------------------


def runs_recover() -> int:
    """The sweep: steps a dead worker held (lease run out), pending steps whose task was lost,
    waits whose time has come; queued runs with a free place. Returns how many it sent."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.HUB_WORKFLOW_RESEND_AFTER_SECONDS)
    with transaction.atomic():
        expired = list(
            StepRun.objects.select_for_update(skip_locked=True)
            .filter(status=Status.RUNNING, lease_until__lt=now)
            .values_list("pk", flat=True)
        )
        StepRun.objects.filter(pk__in=expired).update(status=Status.PENDING, lease_until=None)
    lost = StepRun.objects.filter(status=Status.PENDING, created__lt=stale, run__status=WorkflowRun.Status.RUNNING)
    lost = lost.exclude(not_before__gt=now).exclude(pk__in=expired)
    due = StepRun.objects.filter(status=Status.WAITING, node_type="wait", not_before__lte=now)
    ids = [*expired, *lost.values_list("pk", flat=True)[:1000], *due.values_list("pk", flat=True)[:1000]]
    _send(ids)
    runs_admit()
    approvals_escalate()
    return len(ids)
