"""Content's files in a tenant's backup (apps.tenancy.backup writes and restores them): every
blob's bytes and the pictures processing made of it. A PDF's page previews are left out: they are
drawn again when first asked for."""

from django_tenants.utils import schema_context

from . import processing, storage
from .models import Blob


def blob_files(schema: str) -> list[str]:
    """The names, under the schema's prefix in the `content` storage, of its blobs and pictures."""
    names = []
    with schema_context(schema):
        for sha256, renditions in Blob.objects.order_by("pk").values_list("sha256", "renditions"):
            names.append(storage.blob_name(schema, sha256))
            names += [processing.derived_name(schema, sha256, kind) for kind in renditions]
    return [name.removeprefix(f"{schema}/") for name in names]
