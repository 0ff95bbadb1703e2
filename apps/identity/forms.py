from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm
from django import forms
from django.core.exceptions import ValidationError

from apps.tenancy.validators import validate_slug

from .roles import Role


class OrganisationSignupForm(SignupForm):
    """allauth's sign-up form plus the organisation the new user will own.

    It never says whether the address has an account: every valid form is answered with "we sent
    you an email" (apps.identity.services.signup_request), and the link in it finishes the sign-up.
    """

    full_name = forms.CharField(
        max_length=150,
        label="Your name",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your name, as your colleagues will see it."},
    )
    organisation_name = forms.CharField(max_length=100, label="Organisation name")
    organisation_slug = forms.CharField(
        max_length=40, label="Address", help_text="Lowercase letters, digits and hyphens; your dashboard's address."
    )

    field_order = ["full_name", "email", "password1", "password2", "organisation_name", "organisation_slug"]

    def clean_full_name(self):
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_organisation_slug(self):
        return _clean_slug(self.cleaned_data["organisation_slug"])

    def validate_unique_email(self, value):
        # No "already registered" error: an existing address is told by email instead.
        return get_adapter().validate_unique_email(value)

    def try_save(self, request):
        from allauth.account import app_settings

        from .services import signup_request

        honeypot = app_settings.SIGNUP_FORM_HONEYPOT_FIELD
        if not (honeypot and self.cleaned_data.get(honeypot)):
            data = self.cleaned_data
            signup_request(
                email=data["email"],
                full_name=data["full_name"],
                password=data["password1"],
                organisation_name=data["organisation_name"],
                organisation_slug=data["organisation_slug"],
            )
        # No user is created or logged in here: the same "check your email" answer for everyone.
        return None, get_adapter().respond_email_verification_sent(request, None)


def _clean_slug(value: str) -> str:
    try:
        return validate_slug(value.strip().lower())
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages) from None


class SignupFinishForm(forms.Form):
    slug = forms.CharField(
        max_length=40, label="Address", help_text="Lowercase letters, digits and hyphens; your dashboard's address."
    )

    def clean_slug(self):
        return _clean_slug(self.cleaned_data["slug"])


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


def time_zone_choices(blank_label: str | None = None) -> list[tuple[str, str]]:
    import zoneinfo

    zones = [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]
    return [("", blank_label), *zones] if blank_label else zones


class PictureField(forms.FileField):
    """An uploaded picture: PNG, JPEG, WebP or GIF of at most 2 MB (apps.core.images)."""

    def __init__(self, **kwargs):
        accept = "image/png,image/jpeg,image/webp,image/gif"
        kwargs.setdefault("help_text", "PNG, JPEG, WebP or GIF, at most 2 MB.")
        super().__init__(required=False, widget=forms.FileInput(attrs={"accept": accept}), **kwargs)

    def clean(self, data, initial=None):
        from apps.core.images import image_validate

        upload = super().clean(data, initial)
        if not upload:
            return None
        try:
            return image_validate(upload)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


class OrganisationForm(forms.Form):
    name = forms.CharField(max_length=100, label="Organisation name")
    logo = PictureField(label="Logo")
    remove_logo = forms.BooleanField(required=False, label="Remove the logo")
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        required=False,
        label="Default time zone",
        help_text="Times are shown in it to members who chose none.",
    )


class CreateOrganisationForm(forms.Form):
    name = forms.CharField(max_length=100, label="Organisation name")
    slug = forms.CharField(
        max_length=40, label="Address", help_text="Lowercase letters, digits and hyphens; your dashboard's address."
    )

    def clean_slug(self):
        return _clean_slug(self.cleaned_data["slug"])


class DeleteOrganisationForm(forms.Form):
    confirm_slug = forms.CharField(label="Type the organisation's address to confirm")

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        # The exact word, as the kit's typed confirmation says it (the address alone is ambiguous).
        self.fields["confirm_slug"].label = f"Type “{tenant.slug}” to confirm"
        self.fields["confirm_slug"].widget.attrs.update(autocomplete="off", spellcheck="false")

    def clean_confirm_slug(self):
        if self.cleaned_data["confirm_slug"].strip() != self.tenant.slug:
            raise forms.ValidationError(f"Type “{self.tenant.slug}” to confirm.")
        return self.cleaned_data["confirm_slug"]


class ProfileForm(forms.Form):
    full_name = forms.CharField(max_length=150, required=False, label="Full name")
    avatar = PictureField(label="Picture")
    remove_avatar = forms.BooleanField(required=False, label="Remove the picture")
    time_zone = forms.ChoiceField(
        choices=lambda: time_zone_choices("Same as the organisation"), required=False, label="Time zone"
    )


class AcceptInvitationSignupForm(forms.Form):
    full_name = forms.CharField(max_length=150, required=False, label="Full name")
    password1 = forms.CharField(widget=forms.PasswordInput, label="Password")
    password2 = forms.CharField(widget=forms.PasswordInput, label="Password (again)")

    def clean(self):
        from django.contrib.auth.password_validation import validate_password

        data = super().clean()
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password1"):
            try:
                validate_password(data["password1"])
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class PhoneForm(forms.Form):
    number = forms.CharField(
        max_length=32, label="Mobile number", help_text="International form, e.g. +44 7700 900123."
    )


class MFAPolicyForm(forms.Form):
    mfa_required = forms.BooleanField(required=False, label="Require a second factor for every member")


class SSOSettingsForm(forms.Form):
    sso_enabled = forms.BooleanField(required=False, label="Allow log-in through our identity provider")
    idp_metadata_url = forms.URLField(required=False, label="IdP metadata URL", assume_scheme="https")
    idp_metadata_xml = forms.CharField(
        required=False, label="…or IdP metadata XML", widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})
    )
    sso_domains = forms.CharField(
        required=False, label="Email domains", help_text="Comma-separated, e.g. example.com, example.org."
    )
    sso_enforced = forms.BooleanField(required=False, label="Make SSO mandatory for these domains")
    sso_default_role = forms.ChoiceField(
        choices=[(r.value, r.label) for r in Role if r != Role.OWNER], initial=Role.MEMBER, label="Role of new users"
    )
