"""The tenant dashboard pages every organisation has. Thin: validate, call a service, render."""

from allauth.account.signals import user_signed_up
from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.images import image_response
from apps.core.tables import data_table, table_action_done
from apps.tenancy.models import Tenant
from apps.tenancy.regions import region_label, region_of
from apps.tenancy.services import public_url, tenant_delete, tenant_settings_update

from . import entry, services
from .decorators import tenant_member_required
from .forms import (
    AcceptInvitationSignupForm,
    CreateOrganisationForm,
    DeleteOrganisationForm,
    InviteForm,
    OrganisationForm,
    ProfileForm,
    RoleForm,
    SignupFinishForm,
)
from .handover import handover_mfa_verified, handover_redeem, handover_url
from .mfa import MFA_STATE_KEY
from .models import Membership
from .roles import Role, can_grant, has_permission
from .selectors import checklist, home_widgets, invitation_pending_list, member_list, membership_get
from .tables import AuditTable, InvitationsTable, MembersTable

BACKEND = "django.contrib.auth.backends.ModelBackend"


@tenant_member_required()
def home(request):
    membership = request.membership
    shown, hidden = home_widgets(membership=membership)
    steps = checklist(membership=membership)
    context = {
        "widgets": shown,
        "hidden_widgets": hidden,
        "checklist": steps,
        "checklist_done": all(done for _, done in steps),
    }
    return render(request, "identity/home.html", context)


@require_POST
@tenant_member_required()
def home_layout(request):
    """Moves, hides or shows a home widget (buttons, without JS), or saves the order dragged into
    place (hub's home.js). htmx gets the page back (it swaps the grid); others go home."""
    try:
        services.home_layout_change(
            membership=request.membership,
            action=request.POST.get("action", ""),
            key=request.POST.get("key", ""),
            order=request.POST.getlist("order"),
        )
    except ValidationError as exc:
        if request.headers.get("HX-Request"):
            return HttpResponse(" ".join(exc.messages), status=400)
        messages.error(request, " ".join(exc.messages))
    if request.headers.get("HX-Request"):
        return home(request)
    return redirect("home")


def _members_page(request, invite_form=None, status=200):
    actor = request.membership
    grantable = [(value, label) for value, label in Role.choices if can_grant(actor.role, value)]
    can_invite = has_permission(actor.role, "members.invite")
    members = data_table(
        request, MembersTable, member_list(tenant=request.tenant), actor=actor, grantable_roles=grantable
    )
    if members.response:
        return members.response
    invitations = None
    if can_invite:
        invitations = data_table(
            request, InvitationsTable, invitation_pending_list(tenant=request.tenant).order_by("email"), prefix="inv-"
        )
        if invitations.response:
            return invitations.response
    if invite_form is None and can_invite:
        invite_form = InviteForm()
    if invite_form is not None:
        invite_form.fields["role"].choices = grantable
    context = {
        "members": members,
        "invitations": invitations,
        "invite_form": invite_form,
        "can_invite": can_invite,
    }
    return render(request, "identity/members.html", context, status=status)


@tenant_member_required("members.view")
def members(request):
    return _members_page(request)


@require_POST
@tenant_member_required("members.invite")
def member_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, _ = services.invitation_create(
                actor=request.membership, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("members")
    return _members_page(request, invite_form=form, status=400)


def _membership_in_tenant(request, pk) -> Membership:
    # Looked up inside the current tenant only: another tenant's ids are simply not found.
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, tenant=request.tenant)


@require_POST
@tenant_member_required("members.manage")
def member_change_role(request, pk):
    membership = _membership_in_tenant(request, pk)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("role") or "Choose a role.")
        services.membership_change_role(actor=request.membership, membership=membership, role=form.cleaned_data["role"])
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return table_action_done(request) or redirect("members")
    messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return table_action_done(request) or redirect("members")


@require_POST
@tenant_member_required("tenant.view")
def member_remove(request, pk):
    membership = _membership_in_tenant(request, pk)
    leaving = membership.pk == request.membership.pk  # delete() clears membership.pk
    try:
        services.membership_remove(actor=request.membership, membership=membership)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("members")
    if leaving:  # nothing of this tenant is theirs any more: back to the public site
        return HttpResponseRedirect(public_url("/?left=1"))
    messages.success(request, f"{membership.user.email} was removed.")
    return redirect("members")


@require_POST
@tenant_member_required("members.invite")
def invitation_revoke(request, pk):
    invitation = get_object_or_404(invitation_pending_list(tenant=request.tenant), pk=pk)
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    return redirect("members")


def _organisation_settings_page(request, form=None, delete_form=None, status=200):
    tenant = request.tenant
    form = form or OrganisationForm(initial={"name": tenant.name, "time_zone": tenant.time_zone})
    if not tenant.logo:
        form.fields.pop("remove_logo", None)  # nothing to remove
    context = {
        "form": form,
        "delete_form": delete_form or DeleteOrganisationForm(tenant=tenant),
        "region": region_label(region_of(tenant.schema_name)),
    }
    return render(request, "identity/organisation_settings.html", context, status=status)


@tenant_member_required("audit.view")
def audit_log(request):
    # The tenant's own schema holds its own log: other tenants' entries are not there.
    entries = LogEntry.objects.select_related("content_type", "actor").order_by("-timestamp", "-pk")
    table = data_table(request, AuditTable, entries)
    return table.response or render(request, "identity/audit_log.html", {"table": table})


@tenant_member_required("settings.change")
def organisation_settings(request):
    if request.method != "POST":
        return _organisation_settings_page(request)
    form = OrganisationForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            tenant_settings_update(
                tenant=request.tenant,
                name=data["name"],
                time_zone=data["time_zone"] or None,  # none chosen: unchanged
                logo=data["logo"],
                remove_logo=data["remove_logo"],
                actor=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Organisation settings saved.")
            return redirect("organisation_settings")
    request.tenant.refresh_from_db()  # a refused change leaves the page showing what is saved
    return _organisation_settings_page(request, form=form, status=400)


def organisation_logo(request):
    """The logo of this host's organisation (public: its log-in page and emails show it)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        raise Http404
    return image_response(tenant.logo, private=False)


@tenant_member_required()
def member_avatar(request, user_id):
    """A member's picture, for the members of the same organisation only."""
    membership = get_object_or_404(Membership.objects.select_related("user"), tenant=request.tenant, user_id=user_id)
    return image_response(membership.user.avatar, private=True)


@tenant_member_required()
def organisation_create(request):
    """A new organisation owned by the user (provisioned all or nothing), then its own host."""
    form = CreateOrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant, user = services.organisation_provision(
                name=form.cleaned_data["name"], slug=form.cleaned_data["slug"], owner=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            state = request.session.get(MFA_STATE_KEY)
            return HttpResponseRedirect(entry.switch_destination(user=user, tenant=tenant, state=state))
    return render(request, "identity/organisation_create.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@tenant_member_required("tenant.delete")
def organisation_delete(request):
    form = DeleteOrganisationForm(request.POST, tenant=request.tenant)
    if not form.is_valid():
        return _organisation_settings_page(request, delete_form=form, status=400)
    tenant_delete(tenant=request.tenant)  # its post_delete signal drops the routing caches
    return HttpResponseRedirect(public_url("/?deleted=1"))


@tenant_member_required()
def profile(request):
    user = request.user
    form = ProfileForm(initial={"full_name": user.full_name, "time_zone": user.time_zone})
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.profile_update(
                    user=user,
                    full_name=data["full_name"],
                    time_zone=data["time_zone"],
                    avatar=data["avatar"],
                    remove_avatar=data["remove_avatar"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Profile saved.")
                return redirect("profile")
        user.refresh_from_db()
    if not user.avatar:
        form.fields.pop("remove_avatar")  # nothing to remove
    return render(request, "identity/profile.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
@login_required
def switch_tenant(request, slug):
    """Sends the user to another of their organisations: logged in there by a one-time hand-over,
    or to its own log-in page when its policy wants its identity provider."""
    tenant = Tenant.objects.filter(slug=slug, status=Tenant.Status.ACTIVE).first()
    if tenant is None or membership_get(user=request.user, tenant=tenant) is None:
        raise Http404
    state = request.session.get(MFA_STATE_KEY)
    return HttpResponseRedirect(entry.switch_destination(user=request.user, tenant=tenant, state=state))


def _sso_login_page(request, message: str):
    messages.info(request, message)
    return redirect(entry.entry_path(entry.SSO_LOGIN))


def handover(request, token):
    redeemed = handover_redeem(token=token, tenant=request.tenant)
    if redeemed is None:
        messages.error(request, "That sign-in link has expired or was already used. Please log in.")
        return redirect("account_login")
    user_id, next_path = redeemed
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return redirect("account_login")
    state = entry.arrival_state(user=user, verified=handover_mfa_verified(token=token))
    verdict = entry.tenant_entry(tenant=request.tenant, user=user, state=state)
    if verdict == entry.SSO_LOGIN:
        return _sso_login_page(request, f"{request.tenant.name} signs in through its identity provider.")
    request.hub_handover = True
    request.hub_mfa_state = state
    login(request, user, backend=BACKEND)
    return redirect(entry.entry_path(verdict, next_path) if verdict else next_path)


def _after_joining(request, membership_message: str):
    """Where a session goes once its user has joined the tenant: in, or where its policy says."""
    state = request.session.get(MFA_STATE_KEY)
    verdict = entry.tenant_entry(tenant=request.tenant, user=request.user, state=state)
    if verdict == entry.SSO_LOGIN:
        logout(request)
        notice = f"{membership_message} {request.tenant.name} signs in through its identity provider."
        return _sso_login_page(request, notice)
    messages.success(request, membership_message)
    return redirect(entry.entry_path(verdict) if verdict else "home")


def invitation_accept(request, token):
    invitation = services.invitation_for_token(tenant=request.tenant, token=token)
    if invitation is None:
        return render(
            request, "identity/invitation.html", {"problem": "This invitation link is not valid."}, status=404
        )
    problem = None
    if invitation.accepted_at or invitation.revoked_at:
        problem = "This invitation has already been used or was withdrawn."
    elif invitation.is_expired:
        problem = "This invitation has expired. Ask the person who invited you for a new one."
    if problem:
        return render(request, "identity/invitation.html", {"problem": problem, "invitation": invitation}, status=410)

    User = get_user_model()
    existing = User.objects.filter(email__iexact=invitation.email).first()
    # The tenant may want this address to sign in through its IdP only: no password here then.
    sso_only = entry.sso_login_required(tenant=request.tenant, email=invitation.email)
    welcome = f"Welcome to {request.tenant.name}."
    form = None
    try:
        if request.user.is_authenticated:
            if request.method == "POST":
                services.invitation_accept(invitation=invitation, user=request.user)
                return _after_joining(request, welcome)
        elif sso_only:
            if request.method == "POST":
                # The link reached the address: that is the proof an emailed log-in code would be.
                services.invitation_accept_by_link(invitation=invitation)
                return _sso_login_page(request, f"{welcome} It signs in through its identity provider.")
        elif existing is None:
            form = AcceptInvitationSignupForm(request.POST or None)
            if request.method == "POST" and form.is_valid():
                try:
                    user = services.invitation_accept_new_user(
                        invitation=invitation,
                        password=form.cleaned_data["password1"],
                        full_name=form.cleaned_data["full_name"],
                    )
                except ValidationError as exc:
                    apply_errors(form, exc)
                else:
                    login(request, user, backend=BACKEND)
                    return _after_joining(request, welcome)
    except ValidationError as exc:
        context = {"problem": " ".join(exc.messages), "invitation": invitation}
        return render(request, "identity/invitation.html", context, status=400)
    context = {"invitation": invitation, "form": form, "existing": existing, "sso_only": sso_only}
    return render(request, "identity/invitation.html", context, status=400 if form and form.errors else 200)


def signup_finish(request, token):
    """The link of a sign-up email (public site): creates the account and its organisation, then
    hands the log-in over to the organisation's host. A button, not the link itself, does it, so
    mail scanners that open links use nothing up."""
    signup = services.signup_for_token(token=token)
    if signup is None:
        problem = "This link has expired or was already used. Sign up again, or log in if you already finished."
        return render(request, "identity/signup_finish.html", {"problem": problem}, status=410)
    form = SignupFinishForm(request.POST or None, initial={"slug": signup.organisation_slug})
    if request.method == "POST" and form.is_valid():
        try:
            tenant, user = services.signup_complete(signup=signup, organisation_slug=form.cleaned_data["slug"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            user_signed_up.send(sender=user.__class__, request=request, user=user)
            login(request, user, backend=BACKEND)
            return HttpResponseRedirect(handover_url(user=user, tenant=tenant))
    context = {"signup": signup, "form": form}
    return render(request, "identity/signup_finish.html", context, status=400 if form.errors else 200)


def landing(request):
    """The public site's front page; for a logged-in user, the organisations they belong to."""
    from .selectors import user_tenant_list

    memberships = user_tenant_list(user=request.user) if request.user.is_authenticated else []
    return render(request, "identity/landing.html", {"memberships": memberships})
