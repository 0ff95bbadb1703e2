from django.conf import settings
from django.db import migrations, models


def record_the_default_region(apps, schema_editor):
    """Tenants made before regions existed keep their files where they are: in today's default
    region, recorded, so changing HUB_DEFAULT_REGION later does not move them out of reach."""
    apps.get_model("tenancy", "Tenant").objects.filter(region="").update(region=settings.HUB_DEFAULT_REGION)


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0002_tenant_logo_time_zone"),
    ]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="region",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.RunPython(record_the_default_region, migrations.RunPython.noop),
    ]
