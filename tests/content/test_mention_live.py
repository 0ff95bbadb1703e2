"""A mention reaches the mentioned member's open dashboard live (the websocket /ws/), and no one
else's: the event is committed and dispatched as the worker does, the notification pushed after
commit by apps.notifications."""

import asyncio

from django_tenants.utils import tenant_context

from apps.content import comments, services
from apps.content.models import Comment, Document
from apps.events.services import events_dispatch_new
from tests.conftest import committed
from tests.content.conftest import text_file
from tests.events.fixtures import add_member
from tests.websockets import communicator, logged_in


def test_the_mentioned_member_hears_it_live(tenant_a, owner_a):
    jane = committed(lambda: add_member(tenant_a, "jane.live@example.com", role="viewer")).user
    other = committed(lambda: add_member(tenant_a, "other.live@example.com", role="member")).user
    jane_cookie = logged_in(jane, "alpha.localhost")[1]
    other_cookie = logged_in(other, "alpha.localhost")[1]

    def comment():
        with tenant_context(tenant_a):
            document = services.document_upload(
                tenant=tenant_a, actor=owner_a, fileobj=text_file("x"), name="live-brief.txt"
            )
            comments.comment_add(tenant=tenant_a, actor=owner_a, body="@jane.live@example.com look", document=document)
            events_dispatch_new()
            return document.pk

    async def talk():
        jane_ws, other_ws = communicator("alpha.localhost", jane_cookie), communicator("alpha.localhost", other_cookie)
        assert (await jane_ws.connect())[0] and (await other_ws.connect())[0]
        await jane_ws.receive_json_from()
        await other_ws.receive_json_from()
        document_id = await asyncio.to_thread(committed, comment)
        heard = None
        for _ in range(10):  # events of the tenant come too (the activity feed): wait for the notification
            message = await jane_ws.receive_json_from(timeout=3)
            if message["type"] == "notification":
                heard = message
                break
        others = []
        while not await other_ws.receive_nothing(timeout=0.3):
            others.append(await other_ws.receive_json_from())
        await jane_ws.disconnect()
        await other_ws.disconnect()
        return document_id, heard, others

    try:
        document_id, heard, others = asyncio.run(talk())
        assert heard is not None
        assert (
            heard["notification"]["title"] == "owner@alpha.example.com mentioned you in a comment on “live-brief.txt”"
        )
        assert not [m for m in others if m["type"] == "notification"]
    finally:

        def clean():
            with tenant_context(tenant_a):  # the document, its comments and its blob (bytes too)
                for document in Document.objects.filter(name="live-brief.txt"):
                    Comment.objects.filter(document=document).delete()
                    services.document_purge(tenant=tenant_a, actor=owner_a, document=document)
            from apps.identity.models import Membership

            Membership.objects.filter(user__email__in=["jane.live@example.com", "other.live@example.com"]).delete()

        committed(clean)
