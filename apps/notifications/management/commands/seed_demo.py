"""`manage.py seed_demo`: the demo organisation, filled so a newcomer sees a living product.

Members of every role (with names) join through invitations, two invitations stay pending, API
keys and a webhook endpoint are made: each through the services that publish their events, so
the activity feed, notifications and webhook deliveries are the real thing. It lives in
notifications, the highest layer of the hub, because it calls identity's, the API's and
notifications' services. Run twice, it adds nothing.
"""

from datetime import timedelta

from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.api.models import ApiKey
from apps.api.services import api_key_create, api_key_revoke
from apps.core.management import HubCommand
from apps.events.models import Event
from apps.events.services import events_dispatch_new
from apps.identity.models import Invitation, Membership, User
from apps.identity.roles import Role
from apps.identity.services import (
    invitation_accept_new_user,
    invitation_create,
    membership_change_role,
    organisation_provision,
)
from apps.notifications.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.notifications.webhooks import endpoint_create
from apps.tenancy.backup.progress import Progress
from apps.tenancy.selectors import tenant_get
from apps.tenancy.services import tenant_url

DEMO = {"name": "Demo Organisation", "slug": "demo", "email": "owner@demo.localhost", "password": "demo-password-2026"}
STAFF = {"email": "admin@localhost", "password": "admin-password-2026"}

# (email, name, role invited with, who invites, role given afterwards by the admin)
MEMBERS = [
    ("grace@demo.localhost", "Grace Hopper", Role.ADMIN, "owner", None),
    ("alan@demo.localhost", "Alan Turing", Role.VIEWER, "grace", Role.MEMBER),
    ("katherine@demo.localhost", "Katherine Johnson", Role.VIEWER, "owner", None),
]
PENDING = [("linus@demo.localhost", Role.MEMBER, "grace"), ("margaret@demo.localhost", Role.ADMIN, "owner")]
KEYS = [
    ("CI deploy", ["events:read", "webhooks:write"], "owner", False),
    ("Old importer", ["identity:read"], "grace", True),
]
WEBHOOK = {"url": "https://hooks.example.com/demo", "description": "The demo's receiver (example.com: nobody answers)"}


class Command(HubCommand):
    help = (
        "Creates (once) the demo tenant with members of each role, invitations, activity, notifications, "
        "API keys and a webhook with deliveries, and a platform operator; prints how to log in."
    )

    def handle(self, *args, **options):
        tenant = tenant_get(slug=DEMO["slug"])
        if tenant is None:
            tenant, owner = organisation_provision(
                name=DEMO["name"],
                slug=DEMO["slug"],
                owner_email=DEMO["email"],
                owner_password=DEMO["password"],
                plan="business",  # its members and invitations are more than the free plan's seats
            )
            owner.full_name = "Demo Owner"
            owner.save(update_fields=["full_name"])
            self.stdout.write(self.style.SUCCESS("Seeded the demo organisation."))
        owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER).select_related("user", "tenant")
        if not owners.exists():
            self.stderr.write("The demo organisation has no owner; run `delete_tenant demo --yes` and seed again.")
        else:
            # Nobody really gets the demo's invitations: they stay in memory.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                with tenant_context(tenant):
                    self._fill(tenant, owners.filter(user__email=DEMO["email"]).first() or owners.first())
        if not User.objects.filter(email=STAFF["email"]).exists():
            User.objects.create_superuser(email=STAFF["email"], password=STAFF["password"], full_name="Platform Admin")
        base = f"{settings.HUB_SCHEME}://{settings.HUB_BASE_DOMAIN}"
        self.stdout.write(
            "\n"
            f"  Demo dashboard:  {tenant_url(tenant)}\n"
            f"    email:         {DEMO['email']}  (or grace@, alan@, katherine@demo.localhost)\n"
            f"    password:      {DEMO['password']}\n"
            f"  Public site:     {base}/\n"
            f"  Platform admin:  {base}/admin/  ({STAFF['email']} / {STAFF['password']})\n"
        )

    # --- the demo's content, each step skipped where it is already there -------------------------

    def _fill(self, tenant, owner: Membership) -> None:
        progress = Progress(self.stdout)
        actors = {"owner": owner}
        since = timezone.now()
        endpoint = self._step(progress, "webhook endpoint", [WEBHOOK], lambda w: self._endpoint(owner))

        def member(row):
            email, name, role, inviter, later = row
            if Membership.objects.filter(tenant=tenant, user__email=email).exists():
                actors[email.split("@")[0]] = Membership.objects.get(tenant=tenant, user__email=email)
                return False
            invitation, _ = invitation_create(actor=actors.get(inviter, owner), email=email, role=role)
            invitation_accept_new_user(invitation=invitation, password=DEMO["password"], full_name=name)
            joined = Membership.objects.select_related("user", "tenant").get(tenant=tenant, user__email=email)
            actors[email.split("@")[0]] = joined
            if later:
                membership_change_role(actor=actors.get("grace", owner), membership=joined, role=later)
            return True

        self._step(progress, "members", MEMBERS, member)

        def pending(row):
            email, role, inviter = row
            if Invitation.objects.filter(tenant=tenant, email=email).exists():
                return False
            invitation_create(actor=actors.get(inviter, owner), email=email, role=role)
            return True

        self._step(progress, "pending invitations", PENDING, pending)

        def key(row):
            name, scopes, creator, revoked = row
            if ApiKey.objects.filter(name=name).exists():
                return False
            made, _ = api_key_create(actor=actors.get(creator, owner), name=name, scopes=scopes)
            if revoked:
                api_key_revoke(actor=owner, key=made)
            return True

        self._step(progress, "API keys", KEYS, key)

        new_events = list(Event.objects.filter(occurred_at__gte=since).order_by("occurred_at", "pk"))
        progress.start("activity and notifications", len(new_events))
        events_dispatch_new()  # the handlers run now: notifications, webhook deliveries
        _spread_over_the_last_days(new_events)
        progress.finish(f"{len(new_events)} new events")
        if endpoint is not None:
            _deliveries_play_out(endpoint, progress)

    def _step(self, progress: Progress, label: str, rows, make):
        progress.start(label, len(rows))
        made = last = 0
        for row in rows:
            last = make(row)
            made += bool(last)
            progress.advance(1)
        progress.finish(f"{made} new" if made else "already there")
        return last or None

    def _endpoint(self, owner: Membership):
        if WebhookEndpoint.objects.filter(url=WEBHOOK["url"]).exists():
            return None
        return endpoint_create(event_types=[], created_by=owner.user, **WEBHOOK)


def _spread_over_the_last_days(events: list[Event]) -> None:
    """The demo's history happened over the past week, not all this second."""
    now = timezone.now()
    for i, event in enumerate(events):
        when = now - timedelta(hours=6 * (len(events) - i))
        Event.objects.filter(pk=event.pk).update(occurred_at=when)
        Notification.objects.filter(event_id=event.pk).update(created=when)
        WebhookDelivery.objects.filter(event_id=event.pk).update(created=when)


def _deliveries_play_out(endpoint: WebhookEndpoint, progress: Progress) -> None:
    """What a real receiver's log looks like (the demo's receiver does not exist): most deliveries
    went through, one failed for good, the newest two are waiting for their next try."""
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint, attempt_count=0).order_by("created"))
    progress.start("webhook deliveries", len(deliveries))
    now = timezone.now()
    for i, delivery in enumerate(deliveries):
        left = len(deliveries) - i
        if left > 3:
            _attempts(delivery, [(200, '{"received": true}', "")])
            delivery.status, delivery.completed_at, delivery.next_attempt_at = "succeeded", now, None
        elif left == 3:
            _attempts(delivery, [(500, "Internal Server Error", ""), (502, "Bad Gateway", ""), (None, "", "timed out")])
            delivery.status, delivery.completed_at, delivery.next_attempt_at = "failed", now, None
        else:
            _attempts(delivery, [(503, "Service Unavailable", "")])
            delivery.next_attempt_at = now + timedelta(hours=1)
        delivery.save(update_fields=["status", "completed_at", "next_attempt_at", "attempt_count"])
        progress.advance(1)
    progress.finish(f"{len(deliveries)} delivered, failed or retrying")


def _attempts(delivery: WebhookDelivery, answers) -> None:
    for status, body, error in answers:
        WebhookAttempt.objects.create(
            delivery=delivery,
            url=delivery.endpoint.url,
            request_headers={"webhook-id": delivery.message_id, "content-type": "application/json"},
            response_status=status,
            response_body=body,
            duration_ms=40 if status == 200 else 5000,
            error=error,
        )
    delivery.attempt_count = len(answers)
