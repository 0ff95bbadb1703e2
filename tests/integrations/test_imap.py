"""The IMAP connector against a real IMAP server (pymap): the connection test, finding messages
(unread, by sender, subject and day, newest first), reading one (text, HTML, attachments), marking
them read; a wrong password, a missing folder or message, a server that is down — each an error
with the reason (a refused login not worth retrying, a server down worth it)."""

import pytest
from django_tenants.utils import schema_context

from apps.integrations.errors import ConnectorError, CredentialError
from apps.integrations.services import connection_test
from tests.imap import imap_server
from tests.processes import free_port

from .conftest import make_connection, run_node

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def mailbox():
    with imap_server() as box:
        yield box


def imap_connection(tenant, box, password=None, port=None):
    return make_connection(
        tenant,
        name="Support inbox",
        connector="imap",
        auth_type="basic",
        base_url=f"imap://127.0.0.1:{port or box.port}",
        settings={"username": box.username},
        secrets={"password": password or box.password},
    )


def test_the_connection_test_signs_in_and_counts_the_inbox(tenant_a, mailbox):
    conn = imap_connection(tenant_a, mailbox)
    with schema_context(tenant_a.schema_name):
        ok, words = connection_test(tenant=tenant_a, connection=conn)
    assert ok and words.startswith("Signed in; the inbox holds ")


def test_messages_are_found_read_and_marked(tenant_a, mailbox):
    conn = imap_connection(tenant_a, mailbox)
    older = mailbox.deliver(subject="Invoice 17", body="See attached.", date="Mon, 02 Nov 2026 08:00:00 +0000")
    newer = mailbox.deliver(
        subject="Invoice 18",
        body="Second one.",
        attachments={"invoice-18.pdf": b"%PDF-1.4 fake"},
    )
    mailbox.deliver(subject="Lunch?", sender="bob@colleague.test")
    found = run_node(tenant_a, "imap.search", {"credential": conn.pk, "subject": "Invoice", "limit": 5})
    assert [m["uid"] for m in found["messages"]][:2] == [newer, older]  # newest first
    first = found["messages"][0]
    assert first["subject"] == "Invoice 18" and first["from"] == "ann@customer.test" and first["seen"] is False
    assert first["date"] == "2026-12-01T09:30:00+00:00" and first["size"] > 0
    by_sender = run_node(tenant_a, "imap.search", {"credential": conn.pk, "from": "bob@colleague.test"})
    assert {m["subject"] for m in by_sender["messages"]} == {"Lunch?"}
    since = run_node(tenant_a, "imap.search", {"credential": conn.pk, "subject": "Invoice", "since": "2026-11-15"})
    assert older not in [m["uid"] for m in since["messages"]] and newer in [m["uid"] for m in since["messages"]]

    message = run_node(tenant_a, "imap.fetch", {"credential": conn.pk, "uid": newer})
    assert message["text"].strip() == "Second one." and message["seen"] is False
    assert message["attachments"] == [
        {"filename": "invoice-18.pdf", "content_type": "application/octet-stream", "size": 13}
    ]
    still_unread = run_node(tenant_a, "imap.search", {"credential": conn.pk, "subject": "Invoice 18"})
    assert [m["uid"] for m in still_unread["messages"]] == [newer]  # reading without mark_seen leaves it unread
    assert run_node(tenant_a, "imap.mark", {"credential": conn.pk, "uids": [newer, older]}) == {"marked": 2}
    unread = run_node(tenant_a, "imap.search", {"credential": conn.pk, "subject": "Invoice"})
    assert unread == {"messages": []}
    everything = run_node(tenant_a, "imap.search", {"credential": conn.pk, "subject": "Invoice", "unseen_only": False})
    assert {m["uid"] for m in everything["messages"] if m["seen"]} >= {newer, older}


def test_a_message_in_another_folder_and_the_errors_say_why(tenant_a, mailbox):
    conn = imap_connection(tenant_a, mailbox)
    uid = mailbox.deliver(subject="Filed away", folder="Archive")
    found = run_node(tenant_a, "imap.search", {"credential": conn.pk, "folder": "Archive"})
    assert [m["uid"] for m in found["messages"]] == [uid]
    with pytest.raises(ConnectorError, match="“Support inbox” has no folder “Nowhere”"):
        run_node(tenant_a, "imap.search", {"credential": conn.pk, "folder": "Nowhere"})
    with pytest.raises(ConnectorError, match="There is no message with UID 99999"):
        run_node(tenant_a, "imap.fetch", {"credential": conn.pk, "uid": 99999})
    with pytest.raises(ConnectorError, match="line breaks"):
        run_node(tenant_a, "imap.search", {"credential": conn.pk, "subject": 'x"\r\nA1 DELETE INBOX'})


def test_a_wrong_password_is_a_credential_error_and_a_server_down_is_retryable(tenant_a, mailbox):
    wrong = imap_connection(tenant_a, mailbox, password="nope")
    with pytest.raises(CredentialError, match="refused the login") as refused:
        run_node(tenant_a, "imap.search", {"credential": wrong.pk})
    assert refused.value.retryable is False
    with schema_context(tenant_a.schema_name):
        wrong.refresh_from_db()
        assert wrong.status == "expired"
    down = make_connection(
        tenant_a,
        name="Gone",
        connector="imap",
        auth_type="basic",
        base_url=f"imap://127.0.0.1:{free_port()}",
        settings={"username": "x"},
        secrets={"password": "y"},
    )
    with pytest.raises(ConnectorError, match="down or unreachable") as gone:
        run_node(tenant_a, "imap.search", {"credential": down.pk})
    assert gone.value.retryable is True


def test_an_imap_address_must_be_a_mail_servers(tenant_a, mailbox):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        make_connection(
            tenant_a,
            name="Wrong",
            connector="imap",
            auth_type="basic",
            base_url="https://mail.acme.test/",
            settings={"username": "x"},
            secrets={"password": "y"},
        )
    assert error.value.message_dict["base_url"] == [
        "A mail server's address starts imaps://, imap+starttls://, imap://."
    ]
