"""The workflow pages: the list (and a new workflow from a template), a workflow (its draft as
JSON, a structured view of the published graph, versions, runs, publish/run/pause/delete), the
run log and a run's view with each step's data (cancel, re-run from the failed step), the
approvals inbox, and the incoming webhook. Thin: validate, call a service, render.

The visual builder (static/hub/builder.js) draws the draft on a canvas; it asks `check` for the
problems of the graph as it changes, starts test runs of it (`test_run`) and follows them
(`test_run_status`), all as JSON."""

import hashlib
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission

from . import selectors, services
from .forms import CheckForm, DecisionForm, DraftForm, NewWorkflowForm, RunForm, TestRunForm
from .graph import (
    BUILTINS,
    TRIGGERS,
    action_of,
    builder_palette,
    palette_detail,
    problems_for_people,
    trigger_sample,
)
from .library import TEMPLATES
from .models import Approval, Workflow, WorkflowRun
from .tables import (
    RUN_TONES,
    STEP_TONES,
    ApprovalsTable,
    RunsTable,
    StepsTable,
    VersionsTable,
    WorkflowsTable,
    duration_words,
    state_of,
    trigger_words,
)


def _can(request, permission) -> bool:
    return has_permission(request.membership.role, permission)


def _messages_of(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(
            f"{field}: {m}" if field.startswith("graph.") else m for field, ms in exc.message_dict.items() for m in ms
        )
    return " ".join(exc.messages)


@tenant_member_required("workflow.view")
def index(request):
    return _index(request, NewWorkflowForm())


def _index(request, form, status=200):
    can_edit = _can(request, "workflow.edit")
    empty = ("New workflow", "#new-workflow") if can_edit else None
    table = data_table(request, WorkflowsTable, selectors.workflow_list(), empty_action=empty)
    if table.response:
        return table.response
    context = {"table": table, "form": form, "can_edit": can_edit, "templates": TEMPLATES}
    return render(request, "workflow/index.html", context, status=status)


@require_POST
@tenant_member_required("workflow.edit")
def workflow_new(request):
    form = NewWorkflowForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["template"]:
                workflow = services.workflow_from_template(
                    tenant=request.tenant, key=form.cleaned_data["template"], actor=request.user
                )
                if form.cleaned_data["name"].strip():
                    services.workflow_update(tenant=request.tenant, workflow=workflow, name=form.cleaned_data["name"])
            else:
                workflow = services.workflow_create(
                    tenant=request.tenant, name=form.cleaned_data["name"], actor=request.user
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Workflow “{workflow.name}” created.")
            return redirect("workflow:workflow", pk=workflow.pk)
    return _index(request, form, status=400)


def _workflow(pk) -> Workflow:
    # Looked up in the tenant's own schema: another tenant's workflows do not exist here.
    return get_object_or_404(Workflow.objects.select_related("published"), pk=pk)


def _structured(graph: dict) -> dict:
    """The graph for people: each node with its type's label, and where each port leads."""
    edges = graph.get("edges", [])
    nodes = []
    for node in graph.get("nodes", []):
        node_type = node.get("type")
        builtin, action = BUILTINS.get(node_type), action_of(node_type)
        label = builtin.label if builtin else action.label if action else f"Missing node type “{node_type}”"
        leads = [(e.get("port", "out"), e.get("to")) for e in edges if e.get("from") == node.get("id")]
        nodes.append(
            {
                "id": node.get("id"),
                "type": node_type,
                "label": label,
                "missing": builtin is None and action is None,
                "parameters": json.dumps(node.get("parameters", {}), indent=2, ensure_ascii=False),
                "leads": leads,
            }
        )
    trigger = graph.get("trigger") or {}
    return {
        "trigger": TRIGGERS.get(trigger.get("type"), "—"),
        "trigger_json": json.dumps(trigger, indent=2),
        "nodes": nodes,
    }


@tenant_member_required("workflow.view")
def workflow_detail(request, pk):
    workflow = _workflow(pk)
    form = DraftForm(
        initial={
            "name": workflow.name,
            "description": workflow.description,
            "max_concurrent_runs": workflow.max_concurrent_runs,
            "step_limit": workflow.step_limit,
            "graph": json.dumps(workflow.draft, indent=2, ensure_ascii=False),
        }
    )
    return _workflow_page(request, workflow, form)


def _workflow_page(request, workflow, form, run_form=None, status=200):
    versions = data_table(request, VersionsTable, selectors.workflow_versions(workflow=workflow), prefix="v-")
    runs = data_table(request, RunsTable, selectors.run_list(workflow=workflow), prefix="r-", one_workflow=True)
    for table in (versions, runs):
        if table.response:
            return table.response
    published = workflow.published.graph if workflow.published else None
    context = {
        "workflow": workflow,
        "form": form,
        "run_form": run_form or RunForm(),
        "versions": versions,
        "runs": runs,
        "state": state_of(workflow),
        "trigger": trigger_words(workflow),
        "health": selectors.workflow_health(workflow),
        "problems": selectors.draft_problems(workflow),
        "published": _structured(published) if published else None,
        "draft_changed": published != workflow.draft,
        "hook_url": request.build_absolute_uri(reverse("workflow:hook", args=[workflow.hook_token])),
        "can_edit": _can(request, "workflow.edit"),
        "can_run": _can(request, "workflow.run"),
    }
    return render(request, "workflow/workflow.html", context, status=status)


def _kept_json(request, data):
    """`data` as JSON the browser keeps for five minutes and asks again for with its ETag."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"], response["Cache-Control"] = etag, "private, max-age=300"
    return response


@tenant_member_required("workflow.view")
def palette(request):
    """The node types the builder offers (graph.builder_palette: this tenant's, its plugins'
    included), fetched by static/hub/builder.js and kept by the browser between pages."""
    return _kept_json(request, builder_palette())


@tenant_member_required("workflow.view")
def palette_node(request, node_type):
    """One node type with its parameters (an integration's action, which the palette lists by
    name only), fetched by the builder when a step of it is placed or opened."""
    item = palette_detail(node_type)
    if item is None:
        return HttpResponse(status=404)
    return _kept_json(request, item)


def _form_errors(form, **extra) -> JsonResponse:
    errors = {name: [str(m) for m in messages_] for name, messages_ in form.errors.items()}
    return JsonResponse({"errors": errors, **extra}, status=400)


@require_POST
@tenant_member_required("workflow.edit")
def workflow_check(request, pk):
    """The problems of the graph on the builder's canvas (the checks publishing makes:
    graph.graph_problems), each with its node and in words, and a sample of what its trigger gives
    a run (for the test run's form)."""
    _workflow(pk)
    form = CheckForm(request.POST)
    if not form.is_valid():
        return _form_errors(form)
    graph = form.cleaned_data["graph"]
    return JsonResponse({"problems": problems_for_people(graph), "sample": trigger_sample(graph.get("trigger"))})


@require_POST
@tenant_member_required("workflow.edit")
def workflow_test_run(request, pk):
    """Starts a test run of the canvas's graph with a sample of its trigger's data (202, where to
    follow it), or says what is wrong in words (400: {"errors": {field: [...]}, "problems": [...]})."""
    workflow = _workflow(pk)
    form = TestRunForm(request.POST)
    if not form.is_valid():
        return _form_errors(form)
    graph = form.cleaned_data["graph"]
    try:
        run = services.workflow_test_run(
            tenant=request.tenant,
            workflow=workflow,
            graph=graph,
            sample=form.cleaned_data["sample"],
            actor=request.user,
        )
    except ValidationError as exc:
        for name, why in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, why)
        return _form_errors(form, problems=problems_for_people(graph))
    url = reverse("workflow:test_run_status", args=[workflow.pk, run.pk])
    return JsonResponse({"run_id": run.pk, "status": run.status, "url": url}, status=202)


@tenant_member_required("workflow.edit")
def workflow_test_run_status(request, pk, run_pk):
    """A test run as the builder shows it: its status and, per node, its step's status, input,
    output and error (the last visit's; `visits` counts them) and the port it left by."""
    run = selectors.test_run_of(workflow=_workflow(pk), run_id=run_pk)
    if run is None:
        raise Http404
    nodes = {}
    for step in selectors.run_steps(run=run):
        seen = nodes.get(step.node_id, {}).get("visits", 0)
        nodes[step.node_id] = {
            "status": step.status,
            "label": step.get_status_display(),
            "input": step.input,
            "output": step.output,
            "error": step.error,
            "port": step.port,
            "visits": seen + 1,
        }
    return JsonResponse(
        {
            "run_id": run.pk,
            "status": run.status,
            "label": run.get_status_display(),
            "active": run.status in WorkflowRun.ACTIVE,
            "reason": run.error,
            "steps_count": run.steps_count,
            "url": reverse("workflow:run", args=[run.pk]),
            "nodes": nodes,
        }
    )


@require_POST
@tenant_member_required("workflow.edit")
def workflow_save(request, pk):
    workflow = _workflow(pk)
    form = DraftForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.workflow_update(
                tenant=request.tenant,
                workflow=workflow,
                actor=request.user,
                name=data["name"],
                description=data["description"],
                graph=data["graph"],
                max_concurrent_runs=data["max_concurrent_runs"],
                step_limit=data["step_limit"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Draft saved. Publish it to use it for new runs.")
            return redirect("workflow:workflow", pk=workflow.pk)
    return _workflow_page(request, workflow, form, status=400)


@require_POST
@tenant_member_required("workflow.edit")
def workflow_publish(request, pk):
    workflow = _workflow(pk)
    try:
        version = services.workflow_publish(tenant=request.tenant, workflow=workflow, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "The draft cannot be published: " + _messages_of(exc))
    else:
        messages.success(request, f"Version {version.number} published: new runs use it.")
    return redirect("workflow:workflow", pk=workflow.pk)


@require_POST
@tenant_member_required("workflow.edit")
def workflow_switch(request, pk):
    workflow = _workflow(pk)
    enabled = request.POST.get("enabled") == "on"
    services.workflow_update(tenant=request.tenant, workflow=workflow, actor=request.user, enabled=enabled)
    messages.success(request, f"“{workflow.name}” is {'on' if enabled else 'paused: it starts no run'}.")
    return redirect("workflow:workflow", pk=workflow.pk)


@require_POST
@tenant_member_required("workflow.edit")
def workflow_delete(request, pk):
    workflow = _workflow(pk)
    try:
        services.workflow_delete(tenant=request.tenant, workflow=workflow, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
        return redirect("workflow:workflow", pk=workflow.pk)
    messages.success(request, f"Workflow “{workflow.name}” deleted.")
    return redirect("workflow:index")


@require_POST
@tenant_member_required("workflow.run")
def workflow_run(request, pk):
    workflow = _workflow(pk)
    run_form = RunForm(request.POST)
    if run_form.is_valid():
        try:
            run = services.run_manual(
                tenant=request.tenant, workflow=workflow, inputs=run_form.cleaned_data["inputs"], actor=request.user
            )
        except ValidationError as exc:
            run_form.add_error("inputs", _messages_of(exc))
        else:
            messages.success(request, f"Run {run.pk} started.")
            return redirect("workflow:run", pk=run.pk)
    draft = DraftForm(initial={"name": workflow.name, "graph": json.dumps(workflow.draft, indent=2)})
    return _workflow_page(request, workflow, draft, run_form=run_form, status=400)


@tenant_member_required("workflow.view")
def run_list(request):
    table = data_table(request, RunsTable, selectors.run_list())
    return table.response or render(request, "workflow/runs.html", {"table": table})


def _run(pk) -> WorkflowRun:
    return get_object_or_404(WorkflowRun.objects.select_related("workflow", "version", "started_by"), pk=pk)


@tenant_member_required("workflow.view")
def run_detail(request, pk):
    run = _run(pk)
    steps = selectors.run_steps(run=run)
    table = data_table(request, StepsTable, steps, poll_seconds=2 if run.status in WorkflowRun.ACTIVE else 0)
    if table.response:
        return table.response
    details = [
        {
            "step": step,
            "tone": STEP_TONES.get(step.status, "neutral"),
            "input": json.dumps(step.input, indent=2, ensure_ascii=False),
            "output": json.dumps(step.output, indent=2, ensure_ascii=False) if step.output is not None else "",
        }
        for step in steps
    ]
    taken = {(s.node_id) for s in steps}
    context = {
        "run": run,
        "tone": RUN_TONES.get(run.status, "neutral"),
        "table": table,
        "details": details,
        "duration": duration_words(run.duration),
        "trigger_data": json.dumps(run.trigger_data, indent=2, ensure_ascii=False),
        "variables": json.dumps(run.variables, indent=2, ensure_ascii=False),
        "path": [
            {"id": n["id"], "type": n.get("type"), "taken": n["id"] in taken}
            for n in run.version.graph.get("nodes", [])
        ],
        "can_run": _can(request, "workflow.run"),
        "active": run.status in WorkflowRun.ACTIVE,
    }
    return render(request, "workflow/run.html", context)


@require_POST
@tenant_member_required("workflow.run")
def run_cancel(request, pk):
    run = _run(pk)
    try:
        services.run_cancel(run=run, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, f"Run {run.pk} cancelled.")
    return redirect("workflow:run", pk=run.pk)


@require_POST
@tenant_member_required("workflow.run")
def run_retry(request, pk):
    run = _run(pk)
    try:
        services.run_retry(run=run, actor=request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        messages.success(request, f"Run {run.pk} goes on from its failed step.")
    return redirect("workflow:run", pk=run.pk)


@tenant_member_required("workflow.approve")
def approvals(request):
    rows = selectors.approval_list(membership=request.membership)
    table = data_table(request, ApprovalsTable, rows)
    return table.response or render(request, "workflow/approvals.html", {"table": table})


@require_POST
@tenant_member_required("workflow.approve")
def approval_decide(request, pk):
    approval = get_object_or_404(Approval, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve or reject.")
        return redirect("workflow:approvals")
    try:
        services.approval_decide(
            approval=approval,
            membership=request.membership,
            approve=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    else:
        word = "Approved" if form.cleaned_data["decision"] == "approve" else "Rejected"
        messages.success(request, f"{word}: {approval.title}")
    return redirect("workflow:approvals")


def approval_link(request, token):
    """The page an approval e-mail's Approve or Reject button opens, for its recipient without a
    log-in (the signed link is the credential): the request, a comment, and one button that
    decides (a POST: mail scanners that follow links decide nothing)."""
    if request.tenant is None or request.tenant.is_public:
        raise Http404
    context = {"tenant": request.tenant}
    try:
        approval, membership, decision = services.approval_from_link(token=token)
    except ValidationError as exc:
        return _approval_link_page(request, {**context, "problem": _messages_of(exc)}, status=410)
    context.update(approval=approval, decision=decision, form=DecisionForm(initial={"decision": decision}))
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return _approval_link_page(request, {**context, "form": form}, status=400)
        approve = decision == "approve"  # the link's, whatever the form says
        try:
            services.approval_decide(
                approval=approval, membership=membership, approve=approve, comment=form.cleaned_data["comment"]
            )
        except ValidationError as exc:
            return _approval_link_page(request, {**context, "problem": _messages_of(exc)}, status=409)
        approval.refresh_from_db()
        context["decided"] = approval
    return _approval_link_page(request, context)


def _approval_link_page(request, context, status=200):
    response = render(request, "workflow/approval_link.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt  # called by other services: the signature is the credential
@require_POST
def hook(request, token):
    try:
        run = services.hook_receive(
            token=token,
            body=request.body,
            signature=request.headers.get("X-Hub-Signature-256", ""),
            content_type=request.content_type or "",
        )
    except services.HookRefused as exc:
        body = {"type": "about:blank", "status": exc.status, "detail": exc.detail}
        return JsonResponse(body, status=exc.status, content_type="application/problem+json")
    return JsonResponse({"run_id": run.pk, "status": run.status}, status=202)
