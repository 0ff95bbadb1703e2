"""The connection forms, one per kind of credential (the secrets are password fields, never
filled back in: left empty on a change, they are kept), and the API import form."""

from django import forms

from .models import AUTH_TYPES


class ChooseForm(forms.Form):
    """Step one of a new connection: which service, which kind of credential."""

    connector = forms.ChoiceField(label="Service")
    auth_type = forms.ChoiceField(label="Kind of credential", choices=AUTH_TYPES)

    def __init__(self, *args, connectors=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [(c.key, c.label) for c in (connectors or {}).values()]


def _secret(label, help_text="", required=True):
    return forms.CharField(
        label=label, help_text=help_text, required=required, widget=forms.PasswordInput(render_value=False), strip=False
    )


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="How workflows and people name it, e.g. “GitHub (ops bot)”.")
    base_url = forms.CharField(
        max_length=500, required=False, label="Base URL", help_text="Leave empty for the service's usual address."
    )
    settings_fields: tuple[str, ...] = ()
    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # the stored secrets are kept unless new ones are typed
            for name in self.secret_fields:
                self.fields[name].required = False
                self.fields[name].help_text = "Saved (hidden). Type a new one to replace it."

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "base_url": data.get("base_url", ""),
            "settings": {k: data[k] for k in self.settings_fields if data.get(k) not in (None, "")},
            "secrets": {k: data[k] for k in self.secret_fields if data.get(k)},
        }


class NoneForm(ConnectionForm):
    pass


class ApiKeyForm(ConnectionForm):
    api_key = _secret("API key")
    name_of_key = forms.CharField(
        label="Sent as",
        initial="X-API-Key",
        required=False,
        help_text="The header (or query parameter) that carries it.",
    )
    location = forms.ChoiceField(choices=[("header", "A header"), ("query", "A query parameter")], initial="header")
    prefix = forms.CharField(required=False, help_text="Written before the key, e.g. “Token”.")
    secret_fields = ("api_key",)
    settings_fields = ("location", "prefix")

    def values(self) -> dict:
        values = super().values()
        if self.cleaned_data.get("name_of_key"):
            values["settings"]["name"] = self.cleaned_data["name_of_key"]
        return values


class BasicForm(ConnectionForm):
    username = forms.CharField(max_length=200)
    password = _secret("Password or API token")
    sender = forms.CharField(required=False, label="Sender (email)", help_text="Email only: the From address.")
    secret_fields = ("password",)
    settings_fields = ("username",)

    def values(self) -> dict:
        values = super().values()
        if self.cleaned_data.get("sender"):
            values["settings"]["from"] = self.cleaned_data["sender"]
        return values


class BearerForm(ConnectionForm):
    token = _secret("Token", "An access token or personal access token.")
    secret_fields = ("token",)


class OAuth2Form(ConnectionForm):
    authorize_url = forms.CharField(
        max_length=500,
        required=False,
        label="Authorization URL",
        help_text="The provider's consent page. With it, the connection's page offers “Connect”: you allow "
        "access at the provider and the tokens come back by themselves.",
    )
    token_url = forms.CharField(max_length=500, label="Token URL", help_text="The provider's token endpoint.")
    client_id = forms.CharField(max_length=300, label="Client ID")
    client_secret = _secret("Client secret")
    scope = forms.CharField(max_length=500, required=False)
    refresh_token = _secret(
        "Refresh token",
        "Only without an authorization URL: one obtained elsewhere. Leave both empty to use the client's own "
        "credentials (client credentials grant).",
        required=False,
    )
    secret_fields = ("client_secret", "refresh_token")
    settings_fields = ("authorize_url", "token_url", "client_id", "scope")


class WebhookForm(ConnectionForm):
    url = _secret("Webhook address", "The secret address the service gave you (kept hidden once saved).")
    secret_fields = ("url",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["base_url"]


FORMS = {
    "none": NoneForm,
    "api_key": ApiKeyForm,
    "basic": BasicForm,
    "bearer": BearerForm,
    "oauth2": OAuth2Form,
    "webhook": WebhookForm,
}


def initial_of(connection) -> dict:
    settings = connection.settings or {}
    return {
        "name": connection.name,
        "base_url": connection.base_url,
        **{k: v for k, v in settings.items() if isinstance(v, str)},
        "name_of_key": settings.get("name", ""),
        "sender": settings.get("from", ""),
    }


class ImportForm(forms.Form):
    document = forms.FileField(required=False, label="OpenAPI document", help_text="JSON or YAML, OpenAPI 3.")
    url = forms.CharField(max_length=500, required=False, label="Or its address")
    key = forms.SlugField(max_length=60, required=False, help_text="Its name in workflows (default: from its title).")

    def clean(self):
        data = super().clean()
        if not data.get("document") and not data.get("url"):
            raise forms.ValidationError("Upload a document or give its address.")
        return data
