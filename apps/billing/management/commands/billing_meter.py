from datetime import date

from django.core.management.base import CommandError

from apps.billing import quotas
from apps.billing.services import usage_collect_range
from apps.core.management import HubCommand
from apps.tenancy.backup.progress import Progress
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_get


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"“{text}” is not a day: write it as YYYY-MM-DD.") from None


class Command(HubCommand):
    help = (
        "Collects usage (members, API calls, storage, analytics events, workflow runs) per day into "
        "billing's usage records, for a range of days and one tenant or all: a backfill. Collecting "
        "a day again overwrites its numbers (never adds to them). Past days of members and storage "
        "keep what was collected then; a day never collected gets today's level."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="The first day (YYYY-MM-DD, UTC).")
        parser.add_argument("--until", help="The last day (YYYY-MM-DD, UTC; default today).")
        parser.add_argument("--tenant", help="One tenant's slug (default: every active tenant).")

    def handle(self, *args, since, until=None, tenant=None, **options):
        first, last = _day(since), _day(until) if until else quotas.today()
        if first > last:
            raise CommandError("--since comes after --until.")
        if last > quotas.today():
            raise CommandError("--until is in the future: usage is collected up to today.")
        if tenant:
            found = tenant_get(slug=tenant)
            if found is None:
                raise CommandError(f"No tenant with the slug “{tenant}”.")
            tenants = [found]
        else:
            tenants = list(Tenant.objects.exclude(schema_name="public").filter(status=Tenant.Status.ACTIVE))
        days = (last - first).days + 1
        progress = Progress(self.stdout)
        progress.start(f"{first} to {last}", len(tenants) * days)
        done = usage_collect_range(tenants=tenants, since=first, until=last, progress=progress.advance)
        progress.finish(f"{done:,} tenant-days")
        self.stdout.write(self.style.SUCCESS(f"Usage collected for {len(tenants)} tenants over {days} days."))
