"""The workflow actions this app registers (WorkflowNode items of kind "action", like any other
app's or plugin's): notify people, and call an HTTP address through the webhook sender's
SSRF-guarded session. Each `run(config=, context=)` gets its rendered parameters and the run's
context (plus tenant, idempotency_key, step_id, timeout) and returns the step's output."""

import json

from django.conf import settings

from apps.core import ssrf
from apps.core.registry import WorkflowNode
from apps.identity.roles import RANK
from apps.identity.selectors import member_list
from apps.notifications import webhooks
from apps.notifications.services import notification_create

from .engine import StepFailed

MAX_RESPONSE = 256 * 1024


def recipients(*, tenant, to=None, role: str = "") -> list[int]:
    """User ids of the tenant's members named in `to` (ids or e-mail addresses, one or a list) or
    holding `role` or above."""
    members = list(member_list(tenant=tenant, ordered=False).select_related("user"))
    wanted = [to] if isinstance(to, str | int) else list(to or [])
    found = set()
    for who in wanted:
        text = str(who).strip().lower()
        match = [m for m in members if str(m.user_id) == text or m.user.email.lower() == text]
        if not match:
            raise StepFailed(f"“{who}” is not a member of this organisation", final=True)
        found.add(match[0].user_id)
    if role:
        if role not in RANK:
            raise StepFailed(f"“{role}” is not a role ({', '.join(RANK)})", final=True)
        found |= {m.user_id for m in members if RANK.get(m.role, -1) >= RANK[role]}
    return sorted(found)


def notify(*, config: dict, context: dict) -> dict:
    title = str(config.get("title") or "").strip()
    if not title:
        raise StepFailed("a notification needs a title", final=True)
    channel = config.get("channel", "in_app")
    if channel not in ("in_app", "email", "both"):
        raise StepFailed("channel is in_app, email or both", final=True)
    users = recipients(tenant=context["tenant"], to=config.get("to"), role=config.get("role", ""))
    if not users:
        raise StepFailed("nobody to notify: name people in “to” or a role", final=True)
    for user_id in users:
        notification_create(
            user_id=user_id,
            event_type="workflow.message",
            title=title,
            body=str(config.get("body") or ""),
            url=str(config.get("url") or ""),
            channel=channel,
        )
    return {"notified": users, "channel": channel}


def call_http(*, config: dict, context: dict) -> dict:
    method = str(config.get("method", "GET")).upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        raise StepFailed(f"unknown method {method}", final=True)
    headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
    body = config.get("body")
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    headers.setdefault("Idempotency-Key", context["idempotency_key"])  # the same for each retry of the step
    headers.setdefault("User-Agent", "ReactDjango-Hub-Workflow/1")
    timeout = min(float(context.get("timeout", 30)), settings.HUB_WEBHOOK_TIMEOUT_SECONDS * 3)
    try:
        with ssrf.Session(webhooks.destination_policy()) as session:
            response = session.request(
                method, str(config.get("url", "")), body, headers, timeout=timeout, max_body=MAX_RESPONSE
            )
    except ssrf.BlockedDestination as exc:
        raise StepFailed(f"this address may not be called: {exc}", final=True) from None
    except (OSError, TimeoutError) as exc:
        raise StepFailed(f"the service did not answer: {exc}") from None
    text = response.body.decode("utf-8", "replace")
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = text
    output = {"status": response.status, "body": data}
    if response.status >= 500 or response.status == 429:
        raise StepFailed(f"the service answered {response.status}")  # retried
    if response.status >= 400 and not config.get("accept_errors"):
        raise StepFailed(f"the service answered {response.status}: {text[:200]}", final=True)
    return output


NODES = [
    WorkflowNode(
        "workflow.notify",
        "action",
        "Notify people",
        "Sends an in-app notification or an e-mail to members (by e-mail address or id) or everyone with a role.",
        run=notify,
        config_schema={
            "type": "object",
            "required": ["title"],
            "properties": {
                "to": {"description": "member e-mail addresses or ids", "type": ["string", "integer", "array"]},
                "role": {"type": "string", "enum": list(RANK)},
                "title": {"type": "string"},
                "body": {"type": "string"},
                "url": {"type": "string"},
                "channel": {"type": "string", "enum": ["in_app", "email", "both"], "default": "in_app"},
            },
        },
        output_schema={"type": "object", "properties": {"notified": {"type": "array"}, "channel": {"type": "string"}}},
    ),
    WorkflowNode(
        "workflow.http",
        "action",
        "Call an HTTP address",
        "Sends a request (public https addresses only, as webhooks) and gives its status and JSON body.",
        run=call_http,
        config_schema={
            "type": "object",
            "required": ["url"],
            "properties": {
                "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "GET"},
                "url": {"type": "string"},
                "headers": {"type": "object"},
                "body": {},
                "accept_errors": {"type": "boolean", "description": "a 4xx answer is an output, not a failure"},
            },
        },
        output_schema={"type": "object", "properties": {"status": {"type": "integer"}, "body": {}}},
    ),
]
