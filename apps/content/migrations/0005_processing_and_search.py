import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models

# pg_trgm lives in the public schema, which is on every tenant's search_path (django-tenants puts
# "public" after the tenant's schema), so its functions, operators and gin_trgm_ops are found from
# every tenant (gist_trgm_ops and the <-> distance included). An extension exists once per database: created in a tenant's schema (the default,
# the first on the search path) it would be invisible to every other tenant.
TRGM = "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0004_sharing_comments_metadata"),
    ]

    operations = [
        migrations.RunSQL(TRGM, reverse_sql=migrations.RunSQL.noop),
        migrations.AddField(
            model_name="blob",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be processed"),
                    ("running", "Being processed"),
                    ("done", "Processed"),
                    ("failed", "Processing failed"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="blob",
            name="status_reason",
            field=models.CharField(blank=True, max_length=500, verbose_name="why it failed"),
        ),
        migrations.AddField(model_name="blob", name="processed_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="blob", name="text", field=models.TextField(blank=True, verbose_name="extracted text")
        ),
        migrations.AddField(model_name="blob", name="renditions", field=models.JSONField(blank=True, default=list)),
        migrations.AddField(
            model_name="document",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="contentsettings",
            name="ocr_languages",
            field=models.CharField(default="eng", max_length=100, verbose_name="languages of scanned text"),
        ),
        migrations.AddIndex(
            model_name="document",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_vector"], name="content_document_search"),
        ),
        migrations.CreateModel(
            name="SearchWord",
            fields=[("word", models.CharField(max_length=100, primary_key=True, serialize=False))],
            options={
                "indexes": [
                    django.contrib.postgres.indexes.GistIndex(
                        fields=["word"], name="content_searchword_trgm", opclasses=["gist_trgm_ops"]
                    )
                ],
            },
        ),
    ]
