"""Ready workflows: a tenant starts from one of these (a copy it then owns and edits). Each is a
graph in the shape of apps/workflow/graph.py; `ready` says whether it can be published as it is
(a template that needs an address of the tenant's own is made as a draft)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    graph: dict
    ready: bool = True


def _node(node_id, node_type, x, **parameters):
    return {"id": node_id, "type": node_type, "parameters": parameters, "position": {"x": x, "y": 0}}


TEMPLATES = [
    Template(
        "welcome-member",
        "Welcome a new member",
        "When someone joins, send them a welcome notification by e-mail and in the app.",
        {
            "trigger": {"type": "event", "event_type": "member.joined"},
            "nodes": [
                _node(
                    "welcome",
                    "workflow.notify",
                    0,
                    to="{{ trigger.email }}",
                    title="Welcome aboard!",
                    body="You joined as {{ trigger.role }}. Have a look around: your team is here.",
                    channel="both",
                )
            ],
            "edges": [],
        },
    ),
    Template(
        "notify-document-upload",
        "Notify on document upload",
        "When a document is uploaded, tell the admins (in the app) what and how big.",
        {
            "trigger": {"type": "event", "event_type": "content.document_uploaded"},
            "nodes": [
                _node(
                    "tell-admins",
                    "workflow.notify",
                    0,
                    role="admin",
                    title="New document: {{ trigger.name }}",
                    body="{{ trigger.name }} ({{ trigger.size or 0 }} bytes) was uploaded.",
                )
            ],
            "edges": [],
        },
    ),
    Template(
        "approve-request",
        "Approve a request",
        "A request sent to the workflow's webhook waits for an admin's approval, and goes up to the "
        "owners when two days pass without a decision; the requester (its “email”) hears the decision.",
        {
            "trigger": {"type": "webhook"},
            "nodes": [
                _node(
                    "ask",
                    "approval",
                    0,
                    title="Request: {{ trigger.title }}",
                    details="{{ trigger.details }}",
                    role="admin",
                    escalate_after=2 * 24 * 3600,
                    escalate_to="owner",
                ),
                _node("yes", "workflow.notify", 200, to="{{ trigger.email }}", title="Approved: {{ trigger.title }}"),
                _node(
                    "no", "workflow.notify", 200, to="{{ trigger.email }}", title="Not approved: {{ trigger.title }}"
                ),
            ],
            "edges": [
                {"from": "ask", "port": "approved", "to": "yes"},
                {"from": "ask", "port": "rejected", "to": "no"},
            ],
        },
    ),
    Template(
        "post-members-to-chat",
        "Post new members to a chat webhook",
        "When someone joins, post a message to an incoming-webhook address (Slack, Teams, Discord…). "
        "Put your webhook's address in the step before publishing.",
        {
            "trigger": {"type": "event", "event_type": "member.joined"},
            "nodes": [
                _node(
                    "post",
                    "workflow.http",
                    0,
                    method="POST",
                    url="https://hooks.example.com/REPLACE-WITH-YOUR-WEBHOOK",
                    body={"text": "{{ trigger.email }} joined as {{ trigger.role }}"},
                    retries=3,
                )
            ],
            "edges": [],
        },
        ready=False,
    ),
]
BY_KEY = {template.key: template for template in TEMPLATES}
