"""Team pulse, a widgets-and-settings plugin: its check-in page and home card appear once it is
enabled; its settings (question, scale) change the form; a score out of the scale is refused on
the page; its API lists check-ins of its own tenant only."""

from django_tenants.utils import schema_context

from apps.marketplace import services
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.marketplace.conftest import enable


def _errors(response) -> list[str]:
    import re

    return re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)


def test_the_home_card_and_the_check_in_page(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    assert "Team pulse" not in client.get("/").content.decode()
    enable(tenant_a, "pulse", owner_a)
    home = client.get("/").content.decode()
    assert 'data-widget="pulse.mood"' in home and "Nobody has checked in this week." in home
    page = client.get("/plugins/pulse/")
    assert page.status_code == 200 and "How is your week going?" in page.content.decode()
    refused = client.post("/plugins/pulse/", {"score": 9, "note": "too high"})
    assert refused.status_code == 400, refused.status_code
    assert _errors(refused) == ["<li>Choose a score from 1 to 5.</li>"]
    assert client.post("/plugins/pulse/", {"score": 4, "note": "fine"}).status_code == 302
    assert "4.0</strong> out of 5 · 1 check-in this week" in client.get("/").content.decode()


def test_its_settings_change_the_question_and_the_scale(tenant_a, owner_a):
    enable(tenant_a, "pulse", owner_a)
    client = client_for(tenant_a, owner_a)
    bad = client.post("/marketplace/pulse/", {"question": "Hm", "scale": 42})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Question: &#x27;Hm&#x27; is too short" in text, _errors(bad)
    assert "Highest score: 42 is greater than the maximum of 10" in text, _errors(bad)
    assert client.post("/marketplace/pulse/", {"question": "Energy level?", "scale": 10}).status_code == 302
    page = client.get("/plugins/pulse/").content.decode()
    assert "Energy level?" in page and "1 (bad) to 10 (great)" in page
    assert client.post("/plugins/pulse/", {"score": 9}).status_code == 302


def test_its_api_lists_its_own_tenants_check_ins(tenant_a, tenant_b, owner_a):
    enable(tenant_a, "pulse", owner_a)
    enable(tenant_b, "pulse")
    with schema_context(tenant_a.schema_name):
        from plugins.pulse.services import checkin_create

        mine = checkin_create(user=owner_a, score=3, note="only in alpha")
    _, raw_a = make_key(tenant_a)
    _, raw_b = make_key(tenant_b)
    listed = api_client(tenant_a, raw_a).get("/api/v1/plugins/pulse/checkins/").json()
    assert [row["note"] for row in listed["results"]] == ["only in alpha"]
    other = api_client(tenant_b, raw_b)
    assert other.get("/api/v1/plugins/pulse/checkins/").json()["results"] == []
    assert other.get(f"/api/v1/plugins/pulse/checkins/{mine.pk}/").status_code == 404
    with schema_context(tenant_b.schema_name):
        services.plugin_disable(tenant=tenant_b, actor=None, label="pulse")
    gone = other.get("/api/v1/plugins/pulse/checkins/")
    assert gone.status_code == 404 and gone["Content-Type"] == "application/problem+json"


def test_a_person_s_check_ins_and_thanks_are_exported_and_erased_where_it_is_enabled(tenant_a, tenant_b, owner_a):
    from apps.core.registry import registry
    from plugins.pulse.models import Checkin, Kudos
    from tests.factories import MembershipFactory

    enable(tenant_a, "pulse", owner_a)
    person = MembershipFactory(tenant=tenant_a).user
    exporter, eraser = registry["data_exporters"]["pulse"], registry["data_erasers"]["pulse"]
    with schema_context(tenant_a.schema_name):
        Checkin.objects.create(user=person, score=2, note="tired")
        Kudos.objects.create(sender=owner_a, recipient=person, message="thanks pd")
        Checkin.objects.create(user=owner_a, score=5)
        export = exporter.export(user=person)
        assert [r["note"] for r in export["pulse.Checkin"]] == ["tired"]
        assert [r["message"] for r in export["pulse.Kudos"]] == ["thanks pd"]
        assert eraser.erase(user=person) == 2
        assert not Checkin.objects.filter(user=person).exists() and not Kudos.objects.exists()
        assert Checkin.objects.filter(user=owner_a).exists()
    with schema_context(tenant_b.schema_name):  # never enabled there: no tables, nothing to do
        assert exporter.export(user=person) == {} and eraser.erase(user=person) == 0
