"""Sentry, opt-in: initialised only when SENTRY_DSN is set (config/settings/base.py calls init)."""

import sentry_sdk


def init(*, dsn: str, environment: str, release: str) -> None:
    # The Django, Celery and logging integrations switch themselves on (errors and ERROR lines are
    # sent); no performance tracing, and no personal data (send_default_pii stays off).
    sentry_sdk.init(dsn=dsn, environment=environment, release=release, traces_sample_rate=0.0, send_default_pii=False)
