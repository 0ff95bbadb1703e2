"""Fixtures shared by the event spine's tests (imported by tests/events and tests/notifications)."""

import pytest
from django_tenants.utils import tenant_context

from apps.identity.models import Membership, User
from config.celery import app


@pytest.fixture
def eager_tasks():
    """Celery tasks run in-process, in the test's transaction (what a worker does, minus the worker)."""
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
        app.conf.task_eager_propagates = False


@pytest.fixture
def run_now(django_capture_on_commit_callbacks, eager_tasks):
    """Runs what would run after commit (dispatch, deliveries) right away, as a worker would."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


@pytest.fixture
def in_tenant_a(tenant_a):
    with tenant_context(tenant_a):
        yield tenant_a


def forget_holds():
    """Holds that an interrupted run left in Redis (apps.events.queue) would be recovered, or fill
    a tenant's places, in the next."""
    from apps.events import queue

    redis = queue._redis()
    for key in redis.scan_iter("hub:holders*"):
        redis.delete(key)


def add_member(tenant, email, role="member") -> Membership:
    user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password="x-pass-12345")
    return Membership.objects.create(user=user, tenant=tenant, role=role)


@pytest.fixture
def receiver():
    from tests.notifications.receiver import Receiver

    with Receiver() as r:
        yield r
