import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin
from django_otp.oath import TOTP

from apps.core.crypto import EncryptedTextField
from apps.tenancy.models import Tenant

from .roles import Role, has_permission


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


def avatar_path(user, filename: str) -> str:
    return f"users/{user.pk}/avatar/{filename}"


class User(AbstractBaseUser, PermissionsMixin):
    """One account per person, logged in by email. `is_staff` marks platform operators."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    # A picture in the default storage (apps.core.images); shown to the members of the user's organisations.
    avatar = models.ImageField(upload_to=avatar_path, blank=True)
    # A zoneinfo name; blank follows the organisation's time zone.
    time_zone = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Platform operator: may use the admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name or self.email).split(" ")[0]

    @property
    def initials(self) -> str:
        """What stands in for a missing picture: "JD" for Jane Doe, "J" for jane@acme.test."""
        words = self.full_name.split()
        return "".join(word[0] for word in words[:2]).upper() if words else self.email[:1].upper()


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(auto_now_add=True)
    # This member's home page: {"order": [widget keys], "hidden": [widget keys]} (see home_widgets).
    home_layout = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="one_membership_per_tenant")]
        ordering = ["tenant", "user__email"]

    def __str__(self):
        return f"{self.user} in {self.tenant} as {self.role}"

    def allows(self, permission: str) -> bool:
        """Whether this member's role has `permission` (what the API's permission check asks)."""
        return has_permission(self.role, permission)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An invitation to join a tenant. Only the token's hash is stored; the link carries the token."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.email} → {self.tenant} ({self.role})"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()


class SignupRequest(models.Model):
    """A sign-up waiting for its email link: nothing (account, organisation, reserved address)
    exists until the link is followed. Only the token's hash and the password's hash are stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    full_name = models.CharField(max_length=150, blank=True)
    password = models.CharField(max_length=200, help_text="The password's hash (Argon2id).")
    organisation_name = models.CharField(max_length=100)
    organisation_slug = models.CharField(max_length=40)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"sign-up of {self.email} ({self.organisation_slug})"

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()


# --- Multi-factor authentication (django-otp devices) ------------------------------------------
# All in the public schema with the user: a person's factors work in every tenant they belong to.


def hash_code(code: str) -> str:
    """Codes a person types (recovery, email, SMS) are stored as salted-with-SECRET_KEY hashes."""
    normalised = "".join(code.split()).replace("-", "").lower()
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


class TOTPDevice(ThrottlingMixin, Device):
    """An authenticator app (RFC 6238). The shared key is encrypted at rest (see crypto.py).

    Created unconfirmed at enrolment; confirmed by the first valid code.
    """

    key = EncryptedTextField(help_text="Hex-encoded secret key, encrypted at rest.")
    step = models.PositiveSmallIntegerField(default=30)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1, help_text="The last time step used: a code works once.")
    created = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    kind = "totp"

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.key)

    def get_throttle_factor(self):
        return 1

    def config_url(self, *, issuer: str) -> str:
        from base64 import b32encode
        from urllib.parse import quote, urlencode

        secret = b32encode(self.bin_key).decode().rstrip("=")
        label = quote(f"{issuer}:{self.user.email}")
        query = urlencode({"secret": secret, "issuer": issuer, "digits": self.digits, "period": self.step})
        return f"otpauth://totp/{label}?{query}"

    def verify_token(self, token):
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        token = "".join(str(token).split())
        if not token.isdigit() or len(token) != self.digits:
            self.throttle_increment()
            return False
        totp = TOTP(self.bin_key, self.step, 0, self.digits, self.drift)
        totp.time = time.time()
        verified = totp.verify(int(token), self.tolerance, self.last_t + 1)
        if verified:
            self.last_t = totp.t()
            self.last_used_at = timezone.now()
            self.throttle_reset(commit=False)
            self.save()
        else:
            self.throttle_increment()
        return verified


class RecoveryCodeDevice(Device):
    """A set of one-time recovery codes; only their hashes are stored."""

    created = models.DateTimeField(auto_now_add=True)

    kind = "recovery"

    class Meta(Device.Meta):
        verbose_name = "set of recovery codes"
        verbose_name_plural = "sets of recovery codes"

    def verify_token(self, token):
        code = self.codes.filter(code_hash=hash_code(str(token)), used_at__isnull=True).first()
        if code is None:
            return False
        updated = RecoveryCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=timezone.now())
        return updated == 1

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"recovery code of {self.device.user_id} ({'used' if self.used_at else 'unused'})"


class CodeByMessageDevice(ThrottlingMixin, Device):
    """A six-digit code sent on demand; the code's hash and expiry are stored, never the code."""

    code_hash = models.CharField(max_length=64, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    CODE_VALID_SECONDS = 300
    RESEND_AFTER_SECONDS = 30  # a code is sent at most this often (SMS costs money)

    class Meta(Device.Meta):
        abstract = True

    def get_throttle_factor(self):
        return 1

    def can_send(self) -> bool:
        if self.valid_until is None:
            return True
        sent_at = self.valid_until - timedelta(seconds=self.CODE_VALID_SECONDS)
        return timezone.now() >= sent_at + timedelta(seconds=self.RESEND_AFTER_SECONDS)

    def new_code(self) -> str:
        if not self.can_send():
            from django.core.exceptions import ValidationError

            raise ValidationError("A code was sent moments ago. Wait half a minute before asking for another.")
        code = f"{secrets.randbelow(10**6):06d}"
        self.code_hash = hash_code(code)
        self.valid_until = timezone.now() + timedelta(seconds=self.CODE_VALID_SECONDS)
        self.save(update_fields=["code_hash", "valid_until"])
        return code

    def verify_token(self, token):
        allowed, _ = self.verify_is_allowed()
        if not allowed or not self.code_hash or self.valid_until is None:
            return False
        if self.valid_until > timezone.now() and hmac.compare_digest(self.code_hash, hash_code(str(token))):
            self.code_hash, self.valid_until = "", None
            self.throttle_reset(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False


class EmailDevice(CodeByMessageDevice):
    """Codes sent to the account's email address."""

    kind = "email"

    class Meta(Device.Meta):
        verbose_name = "email code factor"


class SMSDevice(CodeByMessageDevice):
    """Codes sent by text message through the configured SMS provider (apps/identity/sms.py)."""

    number = models.CharField(max_length=20)

    kind = "sms"

    class Meta(Device.Meta):
        verbose_name = "text message code factor"

    @property
    def masked_number(self) -> str:
        return f"…{self.number[-3:]}"


# --- Tenant security policy and single sign-on -------------------------------------------------


class TenantSecurity(models.Model):
    """A tenant's log-in policy and SAML connection. Public schema (one row per tenant), so the
    log-in pages and the MFA-policy middleware read it without switching schemas."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="security")
    mfa_required = models.BooleanField(
        "MFA required", default=False, help_text="Every member must use a second factor."
    )
    sso_enabled = models.BooleanField("SSO enabled", default=False)
    idp_metadata_url = models.URLField("IdP metadata URL", blank=True)
    idp_metadata_xml = models.TextField("IdP metadata XML", blank=True)
    idp_entity_id = models.CharField("IdP entity ID", max_length=500, blank=True)
    sso_enforced = models.BooleanField(
        "SSO enforced", default=False, help_text="Emails of the SSO domains must log in through the identity provider."
    )
    sso_domains = models.JSONField("SSO domains", default=list, blank=True)
    sso_default_role = models.CharField(
        "role of new SSO users", max_length=20, choices=Role.choices, default=Role.MEMBER
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tenant log-in policy"
        verbose_name_plural = "tenant log-in policies"

    def __str__(self):
        return f"security of {self.tenant}"


class UserSession(models.Model):
    """One row per logged-in browser session: what the Sessions page lists and ends."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions")
    session_key = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_activity = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_activity"]
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self):
        return f"{self.user} from {self.ip_address}"


def email_fingerprint(email: str, *, secret: str | None = None) -> str:
    """A one-way, keyed fingerprint of an address (HMAC-SHA256 with the secret key): it tells whether
    an address is one that was erased without keeping the address."""
    from django.utils.crypto import salted_hmac

    return salted_hmac("hub.identity.erasure", email.strip().lower(), secret=secret, algorithm="sha256").hexdigest()


def email_fingerprints(email: str) -> set[str]:
    """The address's fingerprints under the secret key and every key it replaced (SECRET_KEY_FALLBACKS)."""
    return {email_fingerprint(email, secret=key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]}


class ErasureRecord(models.Model):
    """One person erased from one organisation. In the public schema, outside every tenant's backup,
    so restoring an older backup replays the erasure (apps.compliance.requests.erasures_replay):
    the person is known again only by their address's fingerprint, never by the address."""

    tenant_slug = models.CharField(max_length=63)  # not a key: a restore replaces the tenant row
    fingerprint = models.CharField(max_length=64)
    user_id = models.BigIntegerField()  # the account as it was (no key: a restore may make a new one)
    request_id = models.BigIntegerField(null=True, blank=True)  # the tenant's DataRequest
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-erased_at", "-pk"]
        indexes = [models.Index(fields=["tenant_slug", "fingerprint"], name="identity_erasure_lookup")]

    def __str__(self) -> str:
        return f"erasure in {self.tenant_slug} at {self.erased_at:%Y-%m-%d}"
