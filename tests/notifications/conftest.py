from tests.events.fixtures import eager_tasks, in_tenant_a, receiver, run_now  # noqa: F401
