"""The ready connectors, each called as a workflow node against a local fake of its service:
the request it sends (address, credential, body) and what it returns."""

import base64

import pytest
from django_tenants.utils import schema_context

from apps.core.registry import registry
from apps.integrations.errors import ConnectorError, CredentialError, InputError
from tests.smtp import smtp_server

from .conftest import make_connection, run_node

pytestmark = pytest.mark.django_db


def test_every_action_is_a_workflow_node_with_schemas_and_a_connector():
    nodes = registry["workflow_nodes"]
    for key in (
        "slack.post_webhook",
        "slack.post_message",
        "teams.post_message",
        "discord.post_message",
        "github.create_issue",
        "github.create_comment",
        "gitlab.create_issue",
        "jira.create_issue",
        "http.request",
        "smtp.send",
        "openapi.call",
        "hub.integrations_connections_list",
    ):
        node = nodes[key]
        assert node.kind == "action" and registry.app_of("workflow_nodes", key) == "integrations"
        assert node.config_schema["properties"]["credential"]["type"] == "integer"
        assert "credential" in node.config_schema["required"]
        assert node.connector == key.split(".")[0]


@pytest.mark.parametrize(
    "key, path, inputs, sent",
    [
        ("slack.post_webhook", "/services/T/B/X", {"text": "Hi"}, {"text": "Hi"}),
        (
            "discord.post_message",
            "/api/webhooks/1/abc",
            {"content": "Hi", "username": "Hub"},
            {"content": "Hi", "username": "Hub"},
        ),
        (
            "teams.post_message",
            "/webhookb2/xyz",
            {"text": "Hi", "title": "News"},
            {
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": "News",
                "title": "News",
                "text": "Hi",
            },
        ),
    ],
)
def test_chat_webhooks_post_the_message_to_the_secret_address(tenant_a, fake, key, path, inputs, sent):
    fake.route("POST", path)(lambda r: (204, b""))
    conn = make_connection(tenant_a, connector=key.split(".")[0], auth_type="webhook", secrets={"url": fake.url + path})
    assert run_node(tenant_a, key, {"credential": conn.pk, **inputs}) == {"ok": True}
    [request] = fake.made("POST", path)
    assert request.json() == sent and request.headers["content-type"] == "application/json"


def test_slack_chat_post_message_sends_the_bot_token_and_reports_slacks_error(tenant_a, fake):
    answers = iter(
        [
            (200, {"ok": True, "channel": "C1", "ts": "1.2"}),
            (200, {"ok": False, "error": "channel_not_found"}),
            (200, {"ok": False, "error": "token_revoked"}),
        ]
    )
    fake.route("POST", "/api/chat.postMessage")(lambda r: next(answers))
    conn = make_connection(
        tenant_a, connector="slack", auth_type="bearer", base_url=fake.url + "/api/", secrets={"token": "xoxb-1"}
    )
    config = {"credential": conn.pk, "channel": "#general", "text": "Deployed"}
    assert run_node(tenant_a, "slack.post_message", config) == {"ok": True, "channel": "C1", "ts": "1.2"}
    request = fake.made("POST", "/api/chat.postMessage")[0]
    assert request.headers["authorization"] == "Bearer xoxb-1" and request.json() == {
        "channel": "#general",
        "text": "Deployed",
    }
    with pytest.raises(ConnectorError, match="channel_not_found") as error:
        run_node(tenant_a, "slack.post_message", config)
    assert error.value.retryable is False
    with pytest.raises(CredentialError, match="token_revoked"):
        run_node(tenant_a, "slack.post_message", config)
    with schema_context(tenant_a.schema_name):
        conn.refresh_from_db()
    assert conn.status == "expired" and "token_revoked" in conn.status_reason


def test_an_action_refuses_a_connection_of_the_wrong_kind(tenant_a, fake):
    conn = make_connection(tenant_a, connector="slack", auth_type="webhook", secrets={"url": fake.url + "/hook"})
    with pytest.raises(CredentialError, match="needs a connection of kind bearer"):
        run_node(tenant_a, "slack.post_message", {"credential": conn.pk, "channel": "#x", "text": "y"})
    assert fake.requests == []


def test_github_opens_an_issue_and_comments_on_it(tenant_a, fake):
    fake.route("POST", "/repos/acme/app/issues")(
        lambda r: (201, {"id": 7, "number": 42, "html_url": "https://github.example/acme/app/issues/42"})
    )
    fake.route("POST", "/repos/acme/app/issues/42/comments")(
        lambda r: (201, {"id": 9, "html_url": "https://github.example/c/9"})
    )
    conn = make_connection(tenant_a, connector="github", base_url=fake.url, secrets={"token": "ghp_x"})
    issue = run_node(
        tenant_a,
        "github.create_issue",
        {"credential": conn.pk, "owner": "acme", "repo": "app", "title": "Broken", "labels": ["bug"]},
    )
    assert issue == {"id": 7, "number": 42, "url": "https://github.example/acme/app/issues/42"}
    sent = fake.made("POST", "/repos/acme/app/issues")[0]
    assert sent.json() == {"title": "Broken", "labels": ["bug"]} and sent.headers["authorization"] == "Bearer ghp_x"
    comment = run_node(
        tenant_a,
        "github.create_comment",
        {"credential": conn.pk, "owner": "acme", "repo": "app", "number": 42, "body": "Seen"},
    )
    assert comment == {"id": 9, "url": "https://github.example/c/9"}


def test_gitlab_opens_an_issue_with_its_private_token_header(tenant_a, fake):
    fake.route("POST", "/api/v4/projects/group%2Fapp/issues")(
        lambda r: (201, {"id": 3, "iid": 5, "web_url": "https://gl.example/i/5"})
    )
    conn = make_connection(
        tenant_a,
        connector="gitlab",
        auth_type="api_key",
        base_url=fake.url + "/api/v4/",
        settings={"name": "PRIVATE-TOKEN"},
        secrets={"api_key": "glpat-1"},
    )
    out = run_node(
        tenant_a,
        "gitlab.create_issue",
        {"credential": conn.pk, "project": "group/app", "title": "Flaky", "labels": ["ci", "bug"]},
    )
    assert out == {"id": 3, "number": 5, "url": "https://gl.example/i/5"}
    [sent] = fake.requests
    assert sent.headers["private-token"] == "glpat-1" and sent.json() == {"title": "Flaky", "labels": "ci,bug"}


def test_jira_creates_an_issue_with_basic_auth(tenant_a, fake):
    fake.route("POST", "/rest/api/3/issue")(lambda r: (201, {"id": "10001", "key": "OPS-12"}))
    conn = make_connection(
        tenant_a,
        connector="jira",
        auth_type="basic",
        base_url=fake.url + "/",
        settings={"username": "me@acme.test"},
        secrets={"password": "api-token"},
    )
    out = run_node(
        tenant_a,
        "jira.create_issue",
        {"credential": conn.pk, "project": "OPS", "summary": "Disk full", "description": "On db-1"},
    )
    assert out == {"id": "10001", "number": "OPS-12", "url": f"{fake.url}/browse/OPS-12"}
    [sent] = fake.requests
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(b"me@acme.test:api-token").decode()
    fields = sent.json()["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
    assert fields["description"]["content"][0]["content"][0]["text"] == "On db-1"


def test_generic_http_sends_the_request_with_an_api_key_in_the_query(tenant_a, fake):
    fake.route("PUT", "/v1/orders/7")(lambda r: (200, {"saved": True, "query": r.query}))
    conn = make_connection(
        tenant_a,
        auth_type="api_key",
        base_url=fake.url + "/v1/",
        settings={"name": "key", "location": "query"},
        secrets={"api_key": "k1"},
    )
    out = run_node(
        tenant_a,
        "http.request",
        {"credential": conn.pk, "method": "PUT", "path": "orders/7", "query": {"dry": "no"}, "body": {"n": 1}},
    )
    assert out == {"status": 200, "body": {"saved": True, "query": {"dry": "no", "key": "k1"}}}
    assert fake.requests[0].json() == {"n": 1}


def test_inputs_are_validated_before_anything_is_sent(tenant_a, fake):
    conn = make_connection(tenant_a, connector="github", base_url=fake.url)
    with pytest.raises(InputError) as error:
        run_node(tenant_a, "github.create_issue", {"credential": conn.pk, "owner": "acme", "title": ""})
    assert set(error.value.errors) == {"repo", "title"} and error.value.retryable is False
    with pytest.raises(CredentialError, match="Choose a connection"):
        run_node(tenant_a, "github.create_issue", {"owner": "acme", "repo": "a", "title": "t"})
    assert fake.requests == []


def test_smtp_sends_the_email_through_a_real_smtp_server(tenant_a):
    with smtp_server() as inbox:
        conn = make_connection(
            tenant_a,
            connector="smtp",
            auth_type="none",
            base_url=f"smtp://127.0.0.1:{inbox.port}",
            settings={"from": "hub@acme.test"},
            secrets={},
        )
        out = run_node(
            tenant_a,
            "smtp.send",
            {"credential": conn.pk, "to": ["ops@acme.test"], "subject": "Alert", "body": "Disk full"},
        )
        assert out == {"accepted": ["ops@acme.test"], "refused": []}
        assert inbox.arrived.wait(5)
    [(sender, recipients, raw)] = inbox.messages
    assert sender == "hub@acme.test" and recipients == ["ops@acme.test"]
    assert b"Subject: Alert" in raw and b"Disk full" in raw


def test_smtp_down_is_a_retryable_error(tenant_a):
    from tests.processes import free_port

    conn = make_connection(
        tenant_a,
        connector="smtp",
        auth_type="none",
        base_url=f"smtp://127.0.0.1:{free_port()}",
        settings={"from": "a@b.test"},
        secrets={},
    )
    with pytest.raises(ConnectorError, match="down or unreachable") as error:
        run_node(tenant_a, "smtp.send", {"credential": conn.pk, "to": ["x@y.test"], "subject": "s"})
    assert error.value.retryable is True
