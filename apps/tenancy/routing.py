"""Host name → tenant, answered from an in-process cache.

Each process keeps the tenants it has served in a dict. A change to any tenant or domain bumps
a version number in Redis; every process compares its version with Redis at most once per
HUB_ROUTING_RECHECK_SECONDS and drops its dict when they differ. So routing a request costs no
database query on a warm process, and a suspension reaches every process within that interval.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection

from .models import Domain, Tenant

log = logging.getLogger(__name__)
VERSION_KEY = "hub:tenancy:routing-version"


def _redis():
    return get_redis_connection("default")


class RouteCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._routes: dict[str, Tenant | None] = {}
        self._version = None
        self._checked_at = 0.0

    def clear(self):
        with self._lock:
            self._routes = {}

    def _check_version(self):
        now = time.monotonic()
        if now - self._checked_at < settings.HUB_ROUTING_RECHECK_SECONDS:
            return
        self._checked_at = now
        try:
            version = _redis().get(VERSION_KEY)
        except Exception:  # Redis down: drop the cache at every check, until Redis is back.
            log.warning("routing version unavailable; re-reading tenants from the database", exc_info=True)
            version = object()
        if version != self._version:
            self._version = version
            self.clear()

    def cached(self, hostname: str) -> Tenant | None:
        """The tenant served at `hostname` if this process holds it (no database query)."""
        self._check_version()
        return self._routes.get(hostname)

    def tenant_for_host(self, hostname: str) -> Tenant | None:
        self._check_version()
        try:
            return self._routes[hostname]
        except KeyError:
            pass
        if hostname == settings.HUB_BASE_HOSTNAME:
            tenant = Tenant.objects.filter(schema_name="public").first()
        else:
            domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
            tenant = domain.tenant if domain else None
        if tenant is not None:
            tenant.domain_url = hostname
            with self._lock:
                self._routes[hostname] = tenant
        return tenant


routes = RouteCache()


def routing_changed():
    """Drop every process's routing cache: this one now, the others once the change commits."""
    routes.clear()

    def bump():
        try:
            _redis().incr(VERSION_KEY)
        except Exception:
            log.exception("could not publish a routing change")

    transaction.on_commit(bump)
