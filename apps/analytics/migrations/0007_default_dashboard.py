"""Every organisation's default dashboard (apps/analytics/defaults.py): made in each existing
tenant's schema and in the template schema new organisations are cloned from."""

from datetime import UTC, datetime

from django.db import migrations


def make(apps, schema_editor):
    from apps.analytics.defaults import default_dashboard_make

    Dashboard = apps.get_model("analytics", "Dashboard")
    if schema_editor.connection.schema_name == "public" or Dashboard.objects.filter(is_default=True).exists():
        return
    default_dashboard_make(
        Dashboard,
        apps.get_model("analytics", "Insight"),
        apps.get_model("analytics", "DashboardTile"),
        today=datetime.now(UTC).date(),
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0006_dashboards")]

    operations = [migrations.RunPython(make, migrations.RunPython.noop)]
