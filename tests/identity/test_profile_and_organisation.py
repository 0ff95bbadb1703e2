"""Profile (name, picture, time zone), organisation settings (name, logo, default time zone) and
creating another organisation from the switcher; pictures stay inside their organisation."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.identity.models import Membership
from apps.tenancy.models import Tenant
from tests.conftest import client_for
from tests.factories import MembershipFactory


def picture(name="me.png", kind="PNG", size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def profile_post(client, **fields):
    data = {"full_name": "Ann Owner", "time_zone": "", **fields}
    return client.post("/profile/", data)


# --- Profile ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_profile_saves_name_time_zone_and_picture(tenant_a, owner_a, django_capture_on_commit_callbacks):
    client = client_for(tenant_a, owner_a)
    response = profile_post(client, time_zone="Europe/Paris", avatar=picture())
    assert response.status_code == 302
    owner_a.refresh_from_db()
    assert (owner_a.full_name, owner_a.time_zone) == ("Ann Owner", "Europe/Paris")
    assert owner_a.avatar.name.startswith(f"users/{owner_a.pk}/avatar/") and owner_a.avatar.name.endswith(".png")
    assert "me.png" not in owner_a.avatar.name  # a fresh name, not the uploaded one

    served = client.get(f"/members/{owner_a.pk}/avatar/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    page = client.get("/members/").content.decode()
    assert f'src="/members/{owner_a.pk}/avatar/"' in page  # in the user menu and the members list

    old = owner_a.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        profile_post(client, remove_avatar="on")
    owner_a.refresh_from_db()
    assert not owner_a.avatar and not default_storage.exists(old)
    assert client.get(f"/members/{owner_a.pk}/avatar/").status_code == 404


@pytest.mark.django_db
def test_without_a_picture_the_menu_shows_initials(tenant_a, owner_a):
    owner_a.full_name = "Ann Owner"
    owner_a.save()
    page = client_for(tenant_a, owner_a).get("/").content.decode()
    assert '<span class="avatar" aria-hidden="true">AO</span>' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "upload, message",
    [
        (SimpleUploadedFile("me.png", b"not a picture at all", content_type="image/png"), "not a picture we can use"),
        (SimpleUploadedFile("me.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"), "not a picture we can use"),
        ("big", "too large"),
        ("bmp", "not a picture we can use"),
    ],
)
def test_profile_refuses_a_bad_picture_under_its_field(upload, message, tenant_a, owner_a, settings):
    if upload == "big":
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
        upload = SimpleUploadedFile("big.png", picture().read() + b"\0" * (2 * 1024 * 1024), content_type="image/png")
    elif upload == "bmp":
        upload = picture("me.bmp", "BMP")
    response = profile_post(client_for(tenant_a, owner_a), avatar=upload)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["avatar"])
    owner_a.refresh_from_db()
    assert not owner_a.avatar


@pytest.mark.django_db
def test_profile_refuses_an_unknown_time_zone(tenant_a, owner_a):
    response = profile_post(client_for(tenant_a, owner_a), time_zone="Mars/Olympus")
    assert response.status_code == 400
    assert response.context["form"].errors["time_zone"]
    owner_a.refresh_from_db()
    assert owner_a.time_zone == ""


@pytest.mark.django_db
def test_a_picture_is_seen_only_by_members_of_the_same_organisation(tenant_a, tenant_b, owner_a, owner_b):
    profile_post(client_for(tenant_b, owner_b), avatar=picture())
    owner_b.refresh_from_db()
    assert owner_b.avatar
    # On alpha's host, beta's owner is nobody: alpha's members do not get the picture...
    assert client_for(tenant_a, owner_a).get(f"/members/{owner_b.pk}/avatar/").status_code == 404
    # ...nor does beta's owner there (not a member of alpha), nor an anonymous visitor.
    assert client_for(tenant_a, owner_b).get(f"/members/{owner_b.pk}/avatar/").status_code == 403
    assert client_for(tenant_b).get(f"/members/{owner_b.pk}/avatar/").status_code == 302
    assert client_for(tenant_b, owner_b).get(f"/members/{owner_b.pk}/avatar/").status_code == 200


# --- Organisation settings ---------------------------------------------------------------------


def settings_post(client, **fields):
    return client.post("/settings/", {"name": "Alpha Ltd", "time_zone": "UTC", **fields})


@pytest.mark.django_db
def test_owner_sets_logo_and_default_time_zone(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = settings_post(client, time_zone="America/New_York", logo=picture("logo.gif", "GIF"))
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.time_zone == "America/New_York"
    assert tenant_a.logo.name.startswith("tenants/alpha/logo/") and tenant_a.logo.name.endswith(".gif")
    served = client_for(tenant_a).get("/settings/logo/")  # public: log-in page and emails show it
    assert served.status_code == 200 and served["Content-Type"] == "image/gif"
    assert 'src="/settings/logo/"' in client.get("/settings/").content.decode()


@pytest.mark.django_db
def test_organisation_settings_refuse_bad_input_and_keep_what_is_saved(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = settings_post(client, name="  ", time_zone="Nowhere/Land", logo=SimpleUploadedFile("x.png", b"nope"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"name", "time_zone", "logo"}
    tenant_a.refresh_from_db()
    assert (tenant_a.name, tenant_a.time_zone, bool(tenant_a.logo)) == ("Alpha Ltd", "UTC", False)


@pytest.mark.django_db
def test_a_member_cannot_change_organisation_settings(tenant_a):
    member = MembershipFactory(tenant=tenant_a).user
    response = settings_post(client_for(tenant_a, member), name="Taken over", logo=picture())
    assert response.status_code == 403
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Alpha Ltd" and not tenant_a.logo


@pytest.mark.django_db
def test_one_organisations_logo_is_not_served_on_anothers_host(tenant_a, tenant_b, owner_b):
    settings_post(client_for(tenant_b, owner_b), name="Beta Ltd", logo=picture())
    tenant_b.refresh_from_db()
    assert tenant_b.logo.name.startswith("tenants/beta/")
    assert client_for(tenant_b).get("/settings/logo/").status_code == 200
    assert client_for(tenant_a).get("/settings/logo/").status_code == 404  # alpha has none; never beta's
    assert client_for(None).get("/settings/logo/").status_code == 404


# --- Create organisation ------------------------------------------------------------------------


@pytest.mark.django_db
def test_switcher_offers_create_organisation(tenant_a, owner_a):
    page = client_for(tenant_a, owner_a).get("/").content.decode()
    assert '<a class="menu-item" href="/organisations/new/">Create organisation</a>' in page


@pytest.mark.django_db
def test_create_organisation_makes_the_user_its_owner_and_hands_over(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post("/organisations/new/", {"name": "Gamma Works", "slug": "gamma-works"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://gamma-works.localhost")
    assert "/accounts/handover/" in response["Location"]
    gamma = Tenant.objects.get(slug="gamma-works")
    assert gamma.name == "Gamma Works"
    assert Membership.objects.get(tenant=gamma, user=owner_a).role == "owner"
    from urllib.parse import urlsplit

    arrival = client_for(gamma).get(urlsplit(response["Location"]).path)
    assert arrival.status_code == 302 and arrival["Location"] == "/"  # logged in there


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "Again", "slug": "beta"}, "slug", "already taken"),
        ({"name": "Again", "slug": "admin"}, "slug", "reserved"),
        ({"name": "Again", "slug": "No Spaces!"}, "slug", "lowercase"),
        ({"name": "", "slug": "fine-slug"}, "name", "required"),
    ],
)
def test_create_organisation_rerenders_the_form_with_the_error(data, field, message, tenant_a, tenant_b, owner_a):
    count = Tenant.objects.count()
    response = client_for(tenant_a, owner_a).post("/organisations/new/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert Tenant.objects.count() == count


@pytest.mark.django_db
def test_pages_use_the_members_time_zone_else_the_organisations(tenant_a, owner_a):
    from django.test import RequestFactory

    from apps.core.middleware import request_time_zone

    request = RequestFactory().get("/")
    request.user, request.tenant = owner_a, tenant_a
    settings_post(client_for(tenant_a, owner_a), time_zone="America/New_York")
    tenant_a.refresh_from_db()
    assert str(request_time_zone(request)) == "America/New_York"
    profile_post(client_for(tenant_a, owner_a), time_zone="Asia/Tokyo")
    owner_a.refresh_from_db()
    assert str(request_time_zone(request)) == "Asia/Tokyo"


@pytest.mark.django_db
def test_the_log_in_card_shows_the_organisations_logo(tenant_a, tenant_b, owner_a):
    assert "auth-logo" not in client_for(tenant_a).get("/accounts/login/").content.decode()
    settings_post(client_for(tenant_a, owner_a), logo=picture())
    page = client_for(tenant_a).get("/accounts/login/").content.decode()
    assert '<img class="auth-logo" src="/settings/logo/"' in page
    assert "auth-logo" not in client_for(tenant_b).get("/accounts/login/").content.decode()
