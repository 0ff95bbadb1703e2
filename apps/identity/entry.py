"""May this session enter this tenant, and if not, where must it go?

One decision, `tenant_entry`, for every way a session enters a tenant: allauth's log-in on the
tenant's host (password or emailed code), the hand-over from another host (after sign-up, from the
public site's list of organisations, from the tenant switcher), accepting an invitation, a passkey,
and SecurityPolicyMiddleware for a session that got in any other way. The tenant's policy:

- SSO mandatory for the user's email domain: only a log-in through the tenant's own identity
  provider enters. Anything else (a password or passkey log-in, a session handed over from another
  host) is not logged in there and is sent to the tenant's single sign-on page.
- MFA required: a member whose session has not checked a second factor goes to the verification
  page if they have a factor, to the Security page to add one if not (a log-in through the
  tenant's identity provider counts as checked: the IdP owns MFA there).

`state` is the session's second-factor state on the tenant's host (apps.identity.mfa): VERIFIED,
SSO (logged in through this tenant's IdP: sessions are per host, and a hand-over never carries the
SSO state), PENDING or NONE.
"""

from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from apps.tenancy.models import Tenant
from apps.tenancy.services import tenant_url

from .handover import handover_url
from .mfa import NONE, PENDING, SSO, VERIFIED, tenant_security_get, user_has_factor
from .models import Membership, User

SSO_LOGIN, VERIFY, ENROL = "sso", "verify", "enrol"


def sso_login_required(*, tenant: Tenant | None, email: str) -> bool:
    """Whether `tenant` makes single sign-on mandatory for `email`."""
    if tenant is None or tenant.is_public or not email or "@" not in email:
        return False
    policy = tenant_security_get(tenant=tenant)
    return bool(policy.sso_enabled and policy.sso_enforced and email.rsplit("@", 1)[1].lower() in policy.sso_domains)


def tenant_entry(*, tenant: Tenant | None, user: User | None = None, email: str = "", state: str) -> str | None:
    """None when a session of `user` (or, before the account exists, of `email`) in `state` may
    enter `tenant`; else where it must go first: SSO_LOGIN, VERIFY or ENROL."""
    if tenant is None or tenant.is_public:
        return None
    if state != SSO and sso_login_required(tenant=tenant, email=email or (user.email if user else "")):
        return SSO_LOGIN
    if user is None:
        return None
    if state == PENDING:
        return VERIFY
    if state == NONE and tenant_security_get(tenant=tenant).mfa_required:
        # Only the tenant's members are held to its MFA policy (others reach only its 403 pages).
        if Membership.objects.filter(user=user, tenant=tenant).exists():
            return ENROL
    return None


def entry_path(verdict: str, next_path: str = "/") -> str:
    """The page on the tenant's host where a session refused with `verdict` goes."""
    urlconf = settings.ROOT_URLCONF  # the tenants' URLs (the public site has no SSO page)
    if verdict == SSO_LOGIN:
        return reverse("sso_login", urlconf=urlconf)
    if verdict == VERIFY:
        return f"{reverse('mfa_verify', urlconf=urlconf)}?next={quote(next_path)}"
    return reverse("security", urlconf=urlconf)


def arrival_state(*, user: User, verified: bool) -> str:
    """The state a session handed over from another host starts with: VERIFIED when the sender
    had checked a factor, else PENDING for a user with a factor, NONE for one without."""
    if verified:
        return VERIFIED
    return PENDING if user_has_factor(user=user) else NONE


def switch_destination(*, user: User, tenant: Tenant, state: str | None) -> str:
    """Where the tenant switcher (or the public site's list) sends a session in `state` that
    asks to enter another tenant: a hand-over, unless the tenant wants its own IdP's log-in."""
    arriving = arrival_state(user=user, verified=state == VERIFIED)
    if tenant_entry(tenant=tenant, user=user, state=arriving) == SSO_LOGIN:
        return tenant_url(tenant, entry_path(SSO_LOGIN))
    if state == SSO:
        # A log-in through one tenant's IdP vouches for that tenant only: log in there anew.
        return tenant_url(tenant, reverse("account_login", urlconf=settings.ROOT_URLCONF))
    return handover_url(user=user, tenant=tenant, mfa_verified=state == VERIFIED)
