import secrets
from datetime import UTC, datetime, time

from django.core.management.base import CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django_tenants.utils import tenant_context

from apps.core.management import HubCommand
from apps.events.streaming import StreamPublishFailed, events_replay
from apps.events.streams.base import StreamUnavailable
from apps.tenancy.backup import Progress
from apps.tenancy.selectors import tenant_get

# --to: the streams an operator can replay to (the engine comes from the URL's scheme).
TARGETS = {"jetstream": ("nats", "tls"), "kafka": ("kafka",)}


def _moment(text: str, option: str) -> datetime:
    """An ISO 8601 date or date and time; without a zone, UTC."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time.min) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(
            f"{option} must be a date or a date and time (ISO 8601, e.g. 2026-11-30T09:00:00Z), not “{text}”."
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(HubCommand):
    help = (
        "Publishes a tenant's domain events from a point in time to the event stream again, oldest first, "
        "for consumers that need to rebuild what they derive from them. Each copy carries a Hub-Replay "
        "header; running the same --replay-id again resumes an interrupted replay."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--since", required=True, help="From this date or time (ISO 8601; UTC without a zone).")
        parser.add_argument("--until", help="Up to (not including) this date or time.")
        parser.add_argument("--type", dest="event_type", help="Only events of this type, e.g. member.joined.")
        parser.add_argument("--to", choices=sorted(TARGETS), default="jetstream", help="The stream.")
        parser.add_argument("--url", help="The stream's URL (default HUB_EVENT_STREAM_URL).")
        parser.add_argument("--replay-id", help="Names this replay (default: a new one); the same id resumes it.")

    def handle(self, *args, tenant, since, until, event_type, to, url, replay_id, **options):
        from django.conf import settings

        found = tenant_get(slug=tenant)
        if found is None or found.schema_name == "public":
            raise CommandError(f"No tenant with the slug “{tenant}”.")
        start = _moment(since, "--since")
        end = _moment(until, "--until") if until else None
        if end is not None and end <= start:
            raise CommandError("--until must be later than --since.")
        url = url or settings.HUB_EVENT_STREAM_URL
        if not url:
            raise CommandError("No event stream is configured: set HUB_EVENT_STREAM_URL or pass --url.")
        if url.split("://", 1)[0] not in TARGETS[to]:
            raise CommandError(f"--to {to} needs a {' or '.join(TARGETS[to])}:// URL, not {url}.")
        replay_id = replay_id or secrets.token_hex(6)
        self.stdout.write(f"Replaying {found.slug}'s events since {start:%Y-%m-%d %H:%M:%S %Z} (replay {replay_id})")
        try:
            with tenant_context(found):
                sent = events_replay(
                    since=start,
                    until=end,
                    event_type=event_type,
                    replay_id=replay_id,
                    url=url,
                    progress=Progress(self.stdout),
                )
        except (StreamUnavailable, StreamPublishFailed) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Published {sent:,} events to {to} (replay {replay_id})."))
