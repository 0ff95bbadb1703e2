"""Identity's rows in a tenant's backup (apps.tenancy.backup writes and restores them)."""

from apps.core.registry import BackupPart

from .models import Invitation, hash_token


def _pending_invitations(model, tenant):
    return model.objects.pending().filter(tenant=tenant)


def _adjust_invitation(invitation, context):
    if type(invitation).objects.filter(token_hash=invitation.token_hash).exists():
        # The original tenant still holds this link (a restore as a new slug): the copy gets a
        # token nobody has, so the invitation shows as pending and can be sent again.
        invitation.token_hash = hash_token(Invitation.new_token())
        context.notes.append(f"invitation of {invitation.email} gets a new link: send it again")
    return invitation


BACKUP_PARTS = [
    BackupPart("identity.Membership", members=True),
    BackupPart("identity.Invitation", rows=_pending_invitations, adjust=_adjust_invitation),
    # The log-in policy and SAML/SSO connection (one row per tenant).
    BackupPart("identity.TenantSecurity"),
    BackupPart("identity.UserSession", skip_reason="browser sessions end with the tenant they were on"),
]
