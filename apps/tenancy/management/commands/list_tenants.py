from apps.core.management import HubCommand
from apps.tenancy.selectors import tenant_list


class Command(HubCommand):
    help = "Lists the tenants: slug, name, status, plan, members and creation date."

    def handle(self, *args, **options):
        rows = [("SLUG", "NAME", "STATUS", "PLAN", "MEMBERS", "CREATED")]
        for t in tenant_list():
            rows.append((t.slug, t.name, t.status, t.plan, str(t.member_count), t.created.strftime("%Y-%m-%d %H:%M")))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        self.stdout.write(f"{len(rows) - 1} tenant(s)")
