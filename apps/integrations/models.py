"""A tenant's connections (a service's address and credential, the secrets encrypted) and the
OpenAPI documents it imported (each operation an action)."""

from django.conf import settings as django_settings
from django.db import models

from apps.core.crypto import EncryptedTextField

AUTH_TYPES = [
    ("none", "No authentication"),
    ("api_key", "API key"),
    ("basic", "Username and password"),
    ("bearer", "Bearer token"),
    ("oauth2", "OAuth 2.0 (with refresh)"),
    ("webhook", "Secret webhook address"),
]
STATUSES = [
    ("untested", "Not tested yet"),
    ("working", "Working"),
    ("failing", "Failing"),
    ("expired", "Credential expired or refused"),
]


class Connection(models.Model):
    name = models.CharField(max_length=200, unique=True)
    connector = models.CharField(max_length=50)  # apps.integrations.connectors key, e.g. "github"
    auth_type = models.CharField(max_length=20, choices=AUTH_TYPES)
    base_url = models.CharField(max_length=500, blank=True)  # "" = the connector's default address
    # What is not secret: an API key's header or query name, a username, OAuth's token URL, client
    # id and scope, a sender address.
    settings = models.JSONField(default=dict, blank=True)
    # JSON of the secrets (api_key, password, token, client_secret, access_token, refresh_token,
    # url), encrypted at rest; never shown or returned once saved.
    secrets = EncryptedTextField(default="{}")
    token_expires_at = models.DateTimeField(null=True, blank=True)  # OAuth 2.0's access token
    status = models.CharField(max_length=20, choices=STATUSES, default="untested")
    status_reason = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiSpec(models.Model):
    """An imported OpenAPI 3 document, kept as the operations derived from it."""

    key = models.SlugField(max_length=60, unique=True)  # what the workflow's config names
    title = models.CharField(max_length=200)
    version = models.CharField(max_length=60, blank=True)
    source_url = models.CharField(max_length=500, blank=True)
    server_url = models.CharField(max_length=500, blank=True)  # the document's first server, if absolute
    operations = models.JSONField(default=list)  # [{id, method, path, summary, input_schema, output_schema}]
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.title
