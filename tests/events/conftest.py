from tests.events.fixtures import eager_tasks, in_tenant_a, receiver  # noqa: F401
from tests.jetstream import jetstream, nats_url, stream_on  # noqa: F401
