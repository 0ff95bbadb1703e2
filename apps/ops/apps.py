from apps.core.appconfig import HubAppConfig, Schema


class OpsConfig(HubAppConfig):
    """What operators watch: health checks (/healthz/live, /healthz/ready and the staff page),
    Prometheus metrics (/metrics), structured logs with each request's id, Sentry (opt-in).

    SHARED app: it has no tables. Its middleware (apps.ops.middleware.OpsMiddleware) runs first,
    before tenant routing, so an orchestrator probing a pod by its address reaches the probes
    and the metrics whatever the Host header; its status page is on the public site.
    """

    name = "apps.ops"
    label = "ops"
    schema = Schema.SHARED
    url_prefix = "healthz/"

    def ready(self):
        from django.conf import settings

        from apps.core.registry import PeriodicTask, register_periodic_task

        from . import taskhooks

        # Beat proves it is alive by sending this every HUB_HEALTH_BEAT_SECONDS (a worker runs it).
        register_periodic_task(
            PeriodicTask("ops-beat-heartbeat", "apps.ops.tasks.beat_heartbeat", settings.HUB_HEALTH_BEAT_SECONDS)
        )
        taskhooks.connect()
        if settings.HUB_TRACING_ENABLED:
            from . import tracing

            tracing.setup()
        if settings.HUB_METRICS_ENABLED:
            from . import scrape

            scrape.observe_database()
