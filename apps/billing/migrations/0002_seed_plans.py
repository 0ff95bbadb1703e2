"""The four plans of Tenant.Plan with their limits and first prices (operators change them in the
admin afterwards; a price change adds a PlanPrice)."""

from decimal import Decimal

from django.db import migrations

GIB = 2**30
PLANS = [
    # key, name, order, seats, API calls, storage, analytics events, workflow runs, features, monthly, per seat
    ("free", "Free", 0, 5, 10_000, 1 * GIB, 100_000, 1_000, [], "0", "0"),
    ("team", "Team", 1, 10, 100_000, 100 * GIB, 1_000_000, 10_000, ["webhooks", "workflows"], "49", "8"),
    ("business", "Business", 2, 50, 1_000_000, 500 * GIB, 10_000_000, 100_000,
     ["webhooks", "workflows", "sso", "audit_forwarding"], "199", "12"),
    ("enterprise", "Enterprise", 3, None, None, 2048 * GIB, None, None,
     ["webhooks", "workflows", "sso", "audit_forwarding", "data_residency"], "999", "0"),
]  # fmt: skip


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    PlanPrice = apps.get_model("billing", "PlanPrice")
    for key, name, order, seats, calls, storage, events, runs, features, monthly, per_seat in PLANS:
        plan, made = Plan.objects.get_or_create(
            key=key,
            defaults=dict(
                name=name, order=order, seats=seats, api_calls=calls, storage_bytes=storage,
                analytics_events=events, workflow_runs=runs, features=features,
            ),
        )  # fmt: skip
        if made:
            PlanPrice.objects.create(plan=plan, monthly=Decimal(monthly), per_seat=Decimal(per_seat), currency="EUR")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
