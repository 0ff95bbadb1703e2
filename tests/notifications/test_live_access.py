"""Who keeps a live connection: a session that ends loses its sockets at once, and a session that
may not reach the tenant's pages (second factor pending, or the tenant's "second factor
required" unmet) gets none. Real consumers over the real Redis channel layer."""

import asyncio

import pytest
from channels.layers import get_channel_layer

from apps.core import realtime
from apps.identity import mfa
from apps.identity.models import TenantSecurity, UserSession
from apps.identity.sessions import session_tag
from tests.conftest import PASSWORD, committed, set_mfa_state
from tests.websockets import closed_with, handshake, logged_in, opened

ALPHA = "alpha.localhost"
EVENT = {"type": "hub.event", "event": {"id": "e1", "type": "member.joined", "occurred_at": ""}}


def _row_of(client):
    return UserSession.objects.get(session_key=client.session.session_key)


async def _in_thread(work):
    """Runs a request (or any database work) committed, off the event loop, as another browser would."""
    return await asyncio.to_thread(committed, work)


async def _still_open_and_hearing(ws) -> bool:
    return (await ws.receive_json_from(timeout=2))["type"] == "event"


def test_ending_a_session_on_the_sessions_page_closes_its_sockets_at_once(tenant_a, owner_a):
    ended, ended_cookie = logged_in(owner_a, ALPHA)
    mine, mine_cookie = logged_in(owner_a, ALPHA)
    row = _row_of(ended)

    async def talk():
        gone, kept = await opened(ALPHA, ended_cookie), await opened(ALPHA, mine_cookie)
        response = await _in_thread(lambda: mine.post(f"/security/sessions/{row.pk}/end/"))
        assert response.status_code == 302
        code = await closed_with(gone)
        # The tenant's live events go on reaching the other session's socket, not the ended one's.
        await get_channel_layer().group_send(realtime.tenant_group("t_alpha"), EVENT)
        heard = await _still_open_and_hearing(kept)
        after = await gone.receive_nothing(timeout=0.3)
        await kept.disconnect()
        again = await handshake(ALPHA, ended_cookie)
        return code, heard, after, again

    code, heard, nothing_after, again = asyncio.run(talk())
    assert code == 4403
    assert heard and nothing_after
    assert again == (False, 4403)  # and it cannot open a new one


def test_ending_all_other_sessions_closes_their_sockets(tenant_a, owner_a):
    first_cookie = logged_in(owner_a, ALPHA)[1]
    second_cookie = logged_in(owner_a, ALPHA)[1]
    mine, mine_cookie = logged_in(owner_a, ALPHA)

    async def talk():
        first, second = await opened(ALPHA, first_cookie), await opened(ALPHA, second_cookie)
        kept = await opened(ALPHA, mine_cookie)
        assert (await _in_thread(lambda: mine.post("/security/sessions/end-others/"))).status_code == 302
        codes = [await closed_with(first), await closed_with(second)]
        await get_channel_layer().group_send(realtime.tenant_group("t_alpha"), EVENT)
        heard = await _still_open_and_hearing(kept)
        await kept.disconnect()
        return codes, heard

    codes, heard = asyncio.run(talk())
    assert codes == [4403, 4403] and heard


def test_a_password_change_closes_the_sockets_of_every_other_session(tenant_a, owner_a):
    other_cookie = logged_in(owner_a, ALPHA)[1]
    mine, mine_cookie = logged_in(owner_a, ALPHA)
    new_password = "a-new-password-for-sockets-2026"

    def change():
        return mine.post(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
        )

    def restore():
        owner_a.set_password(PASSWORD)
        owner_a.save(update_fields=["password"])

    async def talk():
        other, kept = await opened(ALPHA, other_cookie), await opened(ALPHA, mine_cookie)
        response = await _in_thread(change)
        assert response.status_code == 302, response.content[:500]
        code = await closed_with(other)
        still_open = await kept.receive_nothing(timeout=0.3)
        await kept.disconnect()
        return code, still_open

    try:
        code, still_open = asyncio.run(talk())
    finally:
        committed(restore)
    assert code == 4403 and still_open


def test_logging_out_closes_the_sessions_sockets_in_other_tabs(tenant_a, owner_a):
    client, cookie = logged_in(owner_a, ALPHA)

    async def talk():
        tab = await opened(ALPHA, cookie)
        await _in_thread(lambda: client.post("/accounts/logout/"))
        return await closed_with(tab)

    assert asyncio.run(talk()) == 4403


def test_the_close_names_sessions_by_a_hash_never_by_their_key(tenant_a, owner_a):
    client, cookie = logged_in(owner_a, ALPHA)
    key = client.session.session_key
    assert key not in session_tag(key) and len(session_tag(key)) == 32

    async def talk():
        ws = await opened(ALPHA, cookie)
        other = {"type": "hub.sessions_ended", "sessions": [session_tag("another-session-key")]}
        await get_channel_layer().group_send(realtime.user_group("t_alpha", owner_a.pk), other)
        untouched = await ws.receive_nothing(timeout=0.3)
        ours = {"type": "hub.sessions_ended", "sessions": [session_tag(key)]}
        await get_channel_layer().group_send(realtime.user_group("t_alpha", owner_a.pk), ours)
        return untouched, await closed_with(ws)

    assert asyncio.run(talk()) == (True, 4403)


@pytest.fixture
def alpha_requires_mfa(tenant_a):
    def turn(on):
        def work():
            TenantSecurity.objects.update_or_create(tenant=tenant_a, defaults={"mfa_required": on})
            mfa.tenant_security_forget(tenant=tenant_a)

        return work

    committed(turn(True))
    yield
    committed(turn(False))


@pytest.mark.parametrize(
    "state, accepted",
    [
        (mfa.NONE, False),  # no factor: the pages send them to enrol, the API answers 403
        (mfa.PENDING, False),  # a factor not checked yet
        (mfa.VERIFIED, True),
        (mfa.SSO, True),  # the tenant's IdP owns MFA
    ],
)
def test_a_tenant_requiring_a_second_factor_admits_only_sessions_that_meet_it(
    tenant_a, owner_a, alpha_requires_mfa, state, accepted
):
    client, cookie = logged_in(owner_a, ALPHA)
    committed(lambda: set_mfa_state(client, state))
    # The pages and the socket decide alike.
    page = committed(lambda: client.get("/"))
    assert (page.status_code == 200) == accepted, page
    assert asyncio.run(handshake(ALPHA, cookie))[0] == accepted


def test_a_session_whose_second_factor_is_pending_gets_no_socket(tenant_a, owner_a):
    client, cookie = logged_in(owner_a, ALPHA)
    committed(lambda: set_mfa_state(client, mfa.PENDING))
    assert asyncio.run(handshake(ALPHA, cookie)) == (False, 4403)
    committed(lambda: set_mfa_state(client, mfa.VERIFIED))
    assert asyncio.run(handshake(ALPHA, cookie))[0]
