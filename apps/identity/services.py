"""Writes on accounts, memberships and invitations. Each raises ValidationError with a message
a person can act on, and changes nothing when it does."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.core.events import publish
from apps.core.images import image_store, image_validate
from apps.core.limits import limit_check
from apps.tenancy.emails import email_message, email_subject
from apps.tenancy.models import Tenant
from apps.tenancy.services import public_url, tenant_create, tenant_url
from apps.tenancy.validators import validate_time_zone

from .models import Invitation, Membership, SignupRequest, User, hash_token
from .roles import Role, can_grant, can_manage, has_permission
from .selectors import can_leave, home_widgets, leave_blocker


def _clean_email(email: str, field: str = "email") -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({field: ["Enter a valid email address."]}) from None
    return email


def user_create(*, email: str, password: str | None, full_name: str = "") -> User:
    email = _clean_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": ["An account with this email address already exists."]})
    return User.objects.create_user(email=email, password=password, full_name=full_name.strip())


# --- Sign-up: an email link first, then the account and its organisation ----------------------


def signup_request(
    *, email: str, password: str, organisation_name: str, organisation_slug: str, full_name: str = ""
) -> None:
    """Starts a sign-up. A new address gets a link that finishes it (signup_complete); an address
    that already has an account gets allauth's "someone tried to sign up with your address" email
    instead, and nothing is stored. Whoever sent the form cannot tell the two apart: the same
    answer, the same work (a password hash, one email), and no organisation address reserved
    in either case."""
    from allauth.account.adapter import get_adapter

    email = _clean_email(email)
    password_hash = make_password(password)
    SignupRequest.objects.filter(expires_at__lte=timezone.now()).delete()
    if User.objects.filter(email__iexact=email).exists():
        get_adapter().send_account_already_exists_mail(email)
        return
    token = secrets.token_urlsafe(32)
    signup = SignupRequest.objects.create(
        token_hash=hash_token(token),
        email=email,
        full_name=" ".join(full_name.split())[:150],
        password=password_hash,
        organisation_name=organisation_name.strip(),
        organisation_slug=organisation_slug,
        expires_at=timezone.now() + timedelta(hours=settings.HUB_SIGNUP_MAX_AGE_HOURS),
    )
    context = {"signup": signup, "url": public_url(f"/accounts/signup/finish/{token}/")}
    email_message(
        subject=email_subject(f"Finish creating {signup.organisation_name}", None),
        to=[email],
        text=render_to_string("identity/email/signup.txt", context),
    ).send()


def signup_for_token(*, token: str) -> SignupRequest | None:
    """The pending sign-up of a link, if it has not expired."""
    return SignupRequest.objects.filter(token_hash=hash_token(token), expires_at__gt=timezone.now()).first()


def signup_complete(*, signup: SignupRequest, organisation_slug: str) -> tuple[Tenant, User]:
    """Follows a sign-up link: creates the account (its address verified: the link reached it)
    and its organisation, all or nothing, and uses the link up."""
    with transaction.atomic():
        signup = SignupRequest.objects.select_for_update().filter(pk=signup.pk).first()
        if signup is None:
            raise ValidationError("This link was already used. Log in instead.")
        user = user_create_verified(email=signup.email, password=None, full_name=signup.full_name)
        user.password = signup.password  # hashed when the form was sent
        user.save(update_fields=["password"])
        tenant, _ = organisation_provision(name=signup.organisation_name, slug=organisation_slug, owner=user)
        signup.delete()
    return tenant, user


def organisation_provision(
    *,
    name: str,
    slug: str,
    owner: User | None = None,
    owner_email: str = "",
    owner_password: str | None = None,
    plan: str = Tenant.Plan.FREE,
    region: str = "",
) -> tuple[Tenant, User]:
    """Creates a tenant with its owner (an existing user, or a new one) in one all-or-nothing step."""
    with transaction.atomic():
        if owner is None:
            email = _clean_email(owner_email, "owner_email")
            owner = User.objects.filter(email__iexact=email).first() or User.objects.create_user(
                email=email, password=owner_password
            )
        tenant = tenant_create(name=name, slug=slug, plan=plan, region=region)
        Membership.objects.create(user=owner, tenant=tenant, role=Role.OWNER)
    return tenant, owner


def _owner_count(tenant: Tenant) -> int:
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER).count()


def membership_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    if not can_manage(actor.role, membership.role) or not can_grant(actor.role, role):
        raise PermissionDenied("Your role does not allow this change.")
    with transaction.atomic():
        # Lock the tenant's owners so two concurrent demotions cannot leave it without one.
        list(Membership.objects.select_for_update().filter(tenant=membership.tenant, role=Role.OWNER))
        if membership.role == Role.OWNER and role != Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ValidationError({"role": ["The last owner cannot be demoted. Make someone else an owner first."]})
        old_role, membership.role = membership.role, role
        membership.save(update_fields=["role"])
        if old_role != role:
            publish(
                "member.role_changed",
                {
                    "membership_id": membership.pk,
                    "user_id": membership.user_id,
                    "email": membership.user.email,
                    "old_role": old_role,
                    "new_role": role,
                },
                tenant=membership.tenant,
                actor=actor.user,
            )
    return membership


def membership_remove(*, actor: Membership, membership: Membership) -> None:
    leaving = actor.pk == membership.pk
    if not leaving and not can_manage(actor.role, membership.role):
        raise PermissionDenied("Your role does not allow removing this member.")
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(tenant=membership.tenant, role=Role.OWNER))
        if leaving and not can_leave(membership=membership):
            raise ValidationError(leave_blocker(membership=membership))
        if membership.role == Role.OWNER and _owner_count(membership.tenant) == 1:
            raise ValidationError("The last owner cannot be removed. Make someone else an owner first.")
        payload = {
            "membership_id": membership.pk,
            "user_id": membership.user_id,
            "email": membership.user.email,
            "role": membership.role,
            "left": leaving,
        }
        membership.delete()
        publish("member.removed", payload, tenant=membership.tenant, actor=actor.user)


def invitation_create(*, actor: Membership, email: str, role: str) -> tuple[Invitation, str]:
    """Invites `email` to the actor's tenant. Returns the invitation and the token of its link."""
    if not has_permission(actor.role, "members.invite"):
        raise PermissionDenied("Your role does not allow inviting members.")
    email = _clean_email(email)
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    if not can_grant(actor.role, role):
        raise ValidationError({"role": ["You cannot invite someone with a role above your own."]})
    tenant = actor.tenant
    if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
        raise ValidationError({"email": [f"{email} is already a member."]})
    if not Invitation.objects.pending().filter(tenant=tenant, email__iexact=email).exists():
        limit_check(tenant=tenant, quantity="seats")  # the plan's members (a renewed invitation takes none)
    token = Invitation.new_token()
    with transaction.atomic():
        # A new invitation replaces any pending one for the same address.
        Invitation.objects.pending().filter(tenant=tenant, email__iexact=email).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            role=role,
            token_hash=hash_token(token),
            invited_by=actor.user,
            expires_at=timezone.now() + timedelta(days=settings.HUB_INVITATION_MAX_AGE_DAYS),
        )
        publish(
            "invitation.sent",
            {
                "invitation_id": invitation.pk,
                "email": email,
                "role": role,
                "expires_at": invitation.expires_at.isoformat(),
            },
            tenant=tenant,
            actor=actor.user,
        )
        transaction.on_commit(lambda: _send_invitation(invitation, token))
    return invitation, token


def invitation_url(invitation: Invitation, token: str) -> str:
    return tenant_url(invitation.tenant, f"/invitations/{token}/")


def _send_invitation(invitation: Invitation, token: str) -> None:
    context = {"invitation": invitation, "url": invitation_url(invitation, token)}
    email_message(
        subject=email_subject(f"You are invited to join {invitation.tenant.name}", invitation.tenant),
        to=[invitation.email],
        text=render_to_string("identity/email/invitation.txt", context),
        html_template="identity/email/invitation.html",
        context=context,
        tenant=invitation.tenant,
    ).send()


def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    if not has_permission(actor.role, "members.invite") or invitation.tenant_id != actor.tenant_id:
        raise PermissionDenied("Your role does not allow revoking invitations.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


def invitation_for_token(*, tenant: Tenant, token: str) -> Invitation | None:
    return Invitation.objects.filter(tenant=tenant, token_hash=hash_token(token)).first()


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Joins `user` to the invitation's tenant. A link works once and only before it expires."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at or invitation.revoked_at:
            raise ValidationError("This invitation has already been used or was withdrawn.")
        if invitation.is_expired:
            raise ValidationError("This invitation has expired. Ask for a new one.")
        if user.email.lower() != invitation.email.lower():
            raise ValidationError(f"This invitation is for {invitation.email}. Log in with that address.")
        membership, joined = Membership.objects.get_or_create(
            user=user, tenant=invitation.tenant, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        publish(
            "invitation.accepted",
            {
                "invitation_id": invitation.pk,
                "email": invitation.email,
                "role": invitation.role,
                "user_id": user.pk,
                "invited_by_id": invitation.invited_by_id,
            },
            tenant=invitation.tenant,
            actor=user,
        )
        if joined:
            publish(
                "member.joined",
                {"membership_id": membership.pk, "user_id": user.pk, "email": user.email, "role": membership.role},
                tenant=invitation.tenant,
                actor=user,
            )
    return membership


def user_create_verified(*, email: str, password: str | None, full_name: str = "") -> User:
    """A new account whose address counts as verified (a link sent to it was followed)."""
    from allauth.account.models import EmailAddress

    user = user_create(email=email, password=password, full_name=full_name)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def invitation_accept_new_user(*, invitation: Invitation, password: str, full_name: str = "") -> User:
    """Creates the invited person's account and joins it to the tenant, both or neither.
    The invitation reached the address, so the address counts as verified."""
    with transaction.atomic():
        user = user_create_verified(email=invitation.email, password=password, full_name=full_name)
        invitation_accept(invitation=invitation, user=user)
    return user


def invitation_accept_by_link(*, invitation: Invitation) -> User:
    """Joins the invited address's account (created without a password if there is none) to the
    tenant on the strength of the link alone: for a tenant whose identity provider signs that
    address in, which then logs the person in. The link reached the address, the same proof an
    emailed log-in code gives."""
    with transaction.atomic():
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            user = user_create_verified(email=invitation.email, password=None)
        invitation_accept(invitation=invitation, user=user)
    return user


def profile_update(
    *, user: User, full_name: str, time_zone: str | None = None, avatar=None, remove_avatar: bool = False
) -> User:
    """Changes the user's name and, when given, their time zone ("" follows the organisation's) and
    avatar (an uploaded picture, or remove_avatar)."""
    errors = {}
    if time_zone:
        try:
            validate_time_zone(time_zone)
        except ValidationError as exc:
            errors["time_zone"] = exc.messages
    if avatar is not None:
        try:
            image_validate(avatar)
        except ValidationError as exc:
            errors["avatar"] = exc.messages
    if errors:
        raise ValidationError(errors)
    user.full_name = (full_name or "").strip()[:150]
    if time_zone is not None:
        user.time_zone = time_zone
    with transaction.atomic():
        image_store(user.avatar, upload=avatar, remove=remove_avatar)
        user.save(update_fields=["full_name", "time_zone", "avatar"])
    return user


# --- The home page -----------------------------------------------------------------------------

HOME_ACTIONS = ("up", "down", "hide", "show", "order")


def home_layout_change(*, membership: Membership, action: str, key: str = "", order=None) -> dict:
    """Changes this member's home page: move a widget up or down, hide or show it, or put the
    shown widgets in `order` (drag and drop). Unknown widgets are refused."""
    shown, hidden = home_widgets(membership=membership)
    keys = [w.key for w in shown]
    hidden_keys = [w.key for w in hidden]
    known = set(keys) | set(hidden_keys)
    if action not in HOME_ACTIONS:
        raise ValidationError({"action": [f"Choose one of: {', '.join(HOME_ACTIONS)}."]})
    if action == "order":
        order = [k for k in (order or []) if k]
        if set(order) != set(keys) or len(order) != len(keys):
            raise ValidationError({"order": ["Send every shown widget once."]})
        keys = order
    elif key not in known:
        raise ValidationError({"key": ["There is no such widget on your home page."]})
    elif action in ("up", "down") and key in keys:
        i = keys.index(key)
        j = i - 1 if action == "up" else i + 1
        if 0 <= j < len(keys):
            keys[i], keys[j] = keys[j], keys[i]
    elif action == "hide" and key in keys:
        keys.remove(key)
        hidden_keys.append(key)
    elif action == "show" and key in hidden_keys:
        hidden_keys.remove(key)
        keys.append(key)
    membership.home_layout = {"order": keys + hidden_keys, "hidden": hidden_keys}
    membership.save(update_fields=["home_layout"])
    return membership.home_layout
