"""The data-table base (apps/core/tables.py, core/table.html), exercised through a real list: the
Members page (search, a role filter, sorting, paging, CSV), with and without htmx."""

import csv
import io
import re

import pytest

from apps.core.tables import PER_PAGE
from apps.identity.models import Membership
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "members-table"}


def _people(tenant, count, **kwargs):
    return [
        MembershipFactory(
            tenant=tenant, user=UserFactory(email=f"p{i:03d}@acme.test", full_name=f"Person {i:03d}"), **kwargs
        )
        for i in range(count)
    ]


def _emails(response) -> list[str]:
    return re.findall(r'data-member="([^"]+)"', response.content.decode())


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_search_filters_rows_by_any_search_field(tenant_a, owner_a):
    _people(tenant_a, 3)
    client = client_for(tenant_a, owner_a)
    assert _emails(client.get("/members/", {"q": "person 001"})) == ["p001@acme.test"]
    assert _emails(client.get("/members/", {"q": "P002@ACME"})) == ["p002@acme.test"]


@pytest.mark.django_db
def test_filter_by_role_and_a_bad_choice_says_so(tenant_a, owner_a):
    _people(tenant_a, 2, role="viewer")
    client = client_for(tenant_a, owner_a)
    assert _emails(client.get("/members/", {"role": "viewer"})) == ["p000@acme.test", "p001@acme.test"]
    assert _emails(client.get("/members/", {"role": "owner"})) == [owner_a.email]
    page = client.get("/members/", {"role": "emperor"})
    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()


@pytest.mark.django_db
def test_sort_ascending_and_descending_with_aria_sort(tenant_a, owner_a):
    _people(tenant_a, 3)
    client = client_for(tenant_a, owner_a)
    up = client.get("/members/", {"sort": "email"})
    assert _emails(up) == sorted(_emails(up))
    assert 'aria-sort="ascending"' in up.content.decode()
    down = client.get("/members/", {"sort": "-email"})
    assert _emails(down) == sorted(_emails(up), reverse=True)
    assert 'aria-sort="descending"' in down.content.decode()
    # The header's link turns the order round and goes back to the first page.
    assert 'href="?sort=-email"' in up.content.decode()


@pytest.mark.django_db
def test_pagination_pages_and_out_of_range_pages_fall_back(tenant_a, owner_a):
    _people(tenant_a, PER_PAGE + 5)  # and the owner
    client = client_for(tenant_a, owner_a)
    first = client.get("/members/", {"sort": "email"})
    second = client.get("/members/", {"sort": "email", "page": 2})
    assert len(_emails(first)) == PER_PAGE
    assert len(_emails(second)) == 6
    assert not set(_emails(first)) & set(_emails(second))
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?sort=email&amp;page=2"' in first.content.decode()
    assert _emails(client.get("/members/", {"sort": "email", "page": 99})) == _emails(second)
    assert _emails(client.get("/members/", {"sort": "email", "page": "x"})) == _emails(first)
    # The page size is the table's, not the visitor's.
    assert len(_emails(client.get("/members/", {"per_page": 100000}))) == PER_PAGE


@pytest.mark.django_db
def test_csv_export_has_the_filtered_rows_of_every_page(tenant_a, owner_a):
    _people(tenant_a, PER_PAGE + 5, role="viewer")
    client = client_for(tenant_a, owner_a)
    response = client.get("/members/", {"_export": "csv", "role": "viewer", "sort": "-email", "page": 2})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="members-\d{8}-\d{4}\.csv"', response["Content-Disposition"])
    assert response["Cache-Control"] == "no-store"
    rows = _csv(response)
    assert rows[0] == ["Name", "Email", "Role", "Joined"]  # no Actions column
    assert [r[1] for r in rows[1:]] == [f"p{i:03d}@acme.test" for i in reversed(range(PER_PAGE + 5))]
    assert {r[2] for r in rows[1:]} == {"Viewer"}


@pytest.mark.django_db
def test_csv_cells_that_would_run_as_formulas_are_quoted(tenant_a, owner_a):
    MembershipFactory(tenant=tenant_a, user=UserFactory(email="evil@acme.test", full_name="=HYPERLINK(1)"))
    rows = _csv(client_for(tenant_a, owner_a).get("/members/", {"_export": "csv", "q": "evil"}))
    assert rows[1][0] == "'=HYPERLINK(1)"


@pytest.mark.django_db
def test_htmx_gets_the_table_alone_and_a_plain_request_the_page(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    full = client.get("/members/", {"sort": "email"}).content.decode()
    assert "<html" in full and 'class="table-toolbar"' in full and 'id="members-table"' in full
    partial = client.get("/members/", {"sort": "email"}, **HTMX)
    body = partial.content.decode()
    assert "<html" not in body and "table-toolbar" not in body
    assert body.strip().startswith('<div id="members-table"')
    assert owner_a.email in body
    assert "HX-Request" in partial["Vary"]
    # Another table of the page, or htmx restoring history, get the whole page.
    assert "<html" in client.get("/members/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="main").content.decode()
    restore = client.get("/members/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()


@pytest.mark.django_db
def test_the_links_and_forms_work_without_javascript(tenant_a, owner_a):
    _people(tenant_a, PER_PAGE + 1)
    body = client_for(tenant_a, owner_a).get("/members/", {"q": "person", "sort": "email"}).content.decode()
    # The toolbar is a GET form to the page itself, keeping the order; the controls are plain links.
    assert re.search(r'<form class="table-toolbar" method="get" action="/members/"', body)
    assert '<input type="hidden" name="sort" value="email">' in body
    assert 'href="?q=person&amp;sort=email&amp;page=2"' in body
    assert 'href="?q=person&amp;sort=email&amp;_export=csv"' in body


@pytest.mark.django_db
def test_empty_list_and_empty_filter_are_told_apart(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    no_match = client.get("/members/", {"q": "nobody-at-all"}).content.decode()
    assert "No rows match your filter." in no_match
    assert "Clear the filter" in no_match
    # Nobody invited yet: the empty state of the invitations, with no filter to clear.
    page = client.get("/members/").content.decode()
    assert "No pending invitations." in page
    assert "No rows match" not in page


@pytest.mark.django_db
def test_two_tables_on_a_page_keep_their_own_parameters(tenant_a, owner_a):
    from apps.identity.services import invitation_create

    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    for email in ("b@acme.test", "a@acme.test"):
        invitation_create(actor=actor, email=email, role="member")
    client = client_for(tenant_a, owner_a)
    body = client.get("/members/", {"inv-q": "a@acme"}).content.decode()
    assert "a@acme.test" in body and "b@acme.test" not in body
    assert owner_a.email in body  # the members' table is not filtered by the other's search
    rows = _csv(client.get("/members/", {"inv-_export": "csv"}))
    assert [r[0] for r in rows] == ["Email", "a@acme.test", "b@acme.test"]
    partial = client.get("/members/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inv-invitations-table")
    assert partial.content.decode().strip().startswith('<div id="inv-invitations-table"')


@pytest.mark.django_db
def test_csv_export_stops_at_the_limit(tenant_a, owner_a, monkeypatch):
    from apps.core import tables

    monkeypatch.setattr(tables, "EXPORT_LIMIT", 3)
    _people(tenant_a, 5)
    rows = _csv(client_for(tenant_a, owner_a).get("/members/", {"_export": "csv", "sort": "email", "q": "acme"}))
    assert [r[1] for r in rows[1:]] == ["p000@acme.test", "p001@acme.test", "p002@acme.test"]
