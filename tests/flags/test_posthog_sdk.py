"""posthog-python, unchanged, pointed at a tenant's host served by uvicorn: remote evaluation
(/flags/), local evaluation from /flags/definitions with a secret key as its personal_api_key,
and its local answers equal to this engine's for 1,000 ids."""

import random
import time

import posthog
import pytest
import requests
from django_tenants.utils import schema_context

from apps.analytics.models import ProjectKey
from apps.api.models import ApiKey
from apps.flags import selectors
from apps.flags.models import DeclaredProperty, Flag
from tests.analytics.conftest import project_key
from tests.analytics.test_posthog_sdk import localhost_subdomains  # noqa: F401
from tests.api.conftest import make_key
from tests.conftest import committed, subprocess_env
from tests.processes import free_port, uvicorn

from .conftest import make_flag

# The SDK warns that its per-flag calls (get_feature_flag…) will go: they are what most integrations use.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]
DECLARE_NAMES = False  # make_flag declares them on the committing connection
VARIANTS = {
    "variants": [
        {"key": "control", "rollout_percentage": 34},
        {"key": "test", "rollout_percentage": 33},
        {"key": "other", "rollout_percentage": 33},
    ]
}


def person(i: int) -> dict:
    rng = random.Random(i)
    return {
        "plan": rng.choice(["free", "team", "pro"]),
        "age": rng.randint(15, 80),
        "email": f"user{i}@{rng.choice(['acme.test', 'beta.test'])}",
    }


def _flags(tenant):
    make_flag(tenant, "rollout", filters={"groups": [{"properties": [], "rollout_percentage": 30}]})
    make_flag(
        tenant,
        "checkout",
        overrides={"id-7": "other", "id-8": False},
        filters={
            "groups": [
                {
                    "properties": [{"key": "email", "operator": "icontains", "value": "@acme", "type": "person"}],
                    "variant": "test",
                },
                {
                    "properties": [
                        {"key": "plan", "operator": "exact", "value": ["team", "pro"], "type": "person"},
                        {"key": "age", "operator": "gte", "value": 21, "type": "person"},
                        {"key": "email", "operator": "regex", "value": r"^user\d+@", "type": "person"},
                        {"key": "age", "operator": "lt", "value": 70, "type": "person"},
                    ],
                    "rollout_percentage": 60,
                },
            ],
            "multivariate": VARIANTS,
            "payloads": {"test": {"colour": "green"}},
        },
    )
    make_flag(
        tenant,
        "needs-checkout",
        filters={
            "groups": [{"properties": [{"type": "flag", "key": "checkout", "value": True}], "rollout_percentage": 50}]
        },
    )
    make_flag(
        tenant,
        "org-beta",
        overrides={"org-3": True, "org-4": False},
        filters={
            "aggregation_group_type_index": 0,
            "groups": [
                {
                    "properties": [{"key": "tier", "operator": "is_not", "value": "tin", "type": "group"}],
                    "rollout_percentage": 50,
                }
            ],
        },
    )
    make_flag(tenant, "killed", active=False)


@pytest.fixture
def live(tenant_a):
    """Committed flags, a project key and a secret key of tenant A (the server is another process)."""
    committed(lambda: _flags(tenant_a))
    pk, phc = committed(lambda: project_key(tenant_a, name="sdk"))
    api_key, secret = committed(lambda: make_key(tenant_a, scope_list=["flags:read"]))
    yield phc, secret
    committed(lambda: _clean(tenant_a, pk.pk, api_key.pk))
    selectors.forget()


def _clean(tenant, key_pk, api_key_pk):
    with schema_context(tenant.schema_name):
        ProjectKey.objects.filter(pk=key_pk).delete()
        ApiKey.objects.filter(pk=api_key_pk).delete()
        Flag.objects.filter(key__in=["needs-checkout"]).delete()
        Flag.objects.all().delete()
        DeclaredProperty.objects.all().delete()


def test_posthog_python_evaluates_remotely_and_locally_like_the_engine(tenant_a, live, localhost_subdomains):  # noqa: F811
    phc, secret = live
    port = free_port()
    env = subprocess_env(HUB_BASE_DOMAIN=f"localhost:{port}", DJANGO_ALLOWED_HOSTS="localhost,.localhost")
    host = f"http://{tenant_a.slug}.localhost:{port}"
    with uvicorn(port, env):
        remote = posthog.Posthog(phc, host=host, sync_mode=True, enable_local_evaluation=False)
        assert remote.get_feature_flag("rollout", "id-1") == selectors_value(tenant_a, "rollout", "id-1", {})
        assert remote.get_feature_flag("checkout", "id-7", person_properties=person(7)) == "other"
        assert remote.get_feature_flag("checkout", "id-8", person_properties=person(8)) is False
        assert remote.get_feature_flag("killed", "id-1") is False
        tin = {"organisation": {"tier": "tin"}}  # tin organisations are never in the rollout ...
        assert (
            remote.get_feature_flag("org-beta", "id-1", groups={"organisation": "org-5"}, group_properties=tin) is False
        )
        # ... unless overridden by their key; an organisation overridden off is off
        assert (
            remote.get_feature_flag("org-beta", "id-1", groups={"organisation": "org-3"}, group_properties=tin) is True
        )
        gold = {"organisation": {"tier": "gold"}}
        assert (
            remote.get_feature_flag("org-beta", "id-1", groups={"organisation": "org-4"}, group_properties=gold)
            is False
        )
        acme = next(i for i in range(100) if "@acme" in person(i)["email"] and i not in (7, 8))
        assert remote.get_feature_flag("checkout", f"id-{acme}", person_properties=person(acme)) == "test"
        assert remote.get_feature_flag_payload("checkout", f"id-{acme}", person_properties=person(acme)) == {
            "colour": "green"
        }
        remote.shutdown()

        # The evaluate endpoint as deployed: the first call fills the server's caches through the
        # view, the others are answered by the fast path (apps.flags.fastpath): all the engine's.
        for i in range(20):
            answer = requests.post(
                f"{host}/api/v1/flags/evaluate",
                json={"distinct_id": f"id-{i}", "properties": person(i), "exposures": False},
                headers={"Authorization": f"Bearer {secret}"},
                timeout=10,
            )
            assert answer.status_code == 200 and answer.headers["X-Request-ID"], answer.text
            expected = selectors_value(tenant_a, "checkout", f"id-{i}", person(i))
            assert answer.json()["flags"]["checkout"]["value"] == expected

        local = posthog.Posthog(phc, host=host, personal_api_key=secret, sync_mode=True, poll_interval=300)
        local.load_feature_flags()
        assert {f["key"] for f in local.feature_flags} == {
            "rollout",
            "checkout",
            "needs-checkout",
            "org-beta",
            "killed",
        }
        disagreements = []
        started = time.monotonic()
        with schema_context(tenant_a.schema_name):
            selectors.forget()
            for i in range(1000):
                distinct_id, properties = f"id-{i}", person(i)
                groups = {"organisation": f"org-{i % 37}"}
                group_properties = {"organisation": {"tier": ["tin", "gold", "silver"][i % 3]}}
                ours = selectors.evaluate(
                    distinct_id=distinct_id,
                    properties=properties,
                    groups=groups,
                    group_properties=group_properties,
                    now=time.time(),
                )
                for key, result in ours.items():
                    theirs = local.get_feature_flag(
                        key,
                        distinct_id,
                        person_properties=properties,
                        groups=groups,
                        group_properties=group_properties,
                        only_evaluate_locally=True,
                        send_feature_flag_events=False,
                    )
                    if theirs != result.value:
                        disagreements.append((i, key, theirs, result.value))
        local.shutdown()
    assert disagreements == []
    assert time.monotonic() - started < 120


def selectors_value(tenant, key, distinct_id, properties):
    with schema_context(tenant.schema_name):
        selectors.forget()
        return selectors.evaluate(distinct_id=distinct_id, properties=properties)[key].value
