"""Identity's personal data (the registry's exporter and eraser, run while serving one tenant).

A person has one account across organisations. Export: their account, their membership and the
invitations of this organisation, their sessions and second factors (names, never secrets).
Erase: their membership and this organisation's invitations to them go, their sessions end; once
they belong to no organisation at all, the account itself is anonymised (its address replaced by
an undeliverable one, name and avatar cleared, password unusable, factors deleted, inactive).
"""

from django.db import connection, transaction

from apps.core.registry import PersonalData

from .models import (
    EmailDevice,
    Invitation,
    Membership,
    RecoveryCodeDevice,
    SignupRequest,
    SMSDevice,
    TOTPDevice,
    User,
    UserSession,
)
from .sessions import session_end_others

_ACCOUNT = "The person's account: log-in, their name shown to colleagues."
_FACTOR = "Second factors of the log-in."
_FACTOR_NOTE = "Deleted when the account is anonymised (it belongs to no organisation any more)."
HOLDS = (
    PersonalData(
        "identity.User", ("identity", "preferences"), ("email", "full_name", "time_zone", "date_joined"), _ACCOUNT,
        note="Anonymised once the person belongs to no organisation: one account serves all of them.",
    ),
    PersonalData(
        "identity.Membership", ("identity",), ("role", "created"), "Who belongs to the organisation, in which role.",
        erasure="delete",
    ),
    PersonalData(
        "identity.Invitation", ("identity",), ("email", "role", "created", "accepted_at"),
        "Invitations to join the organisation.", erasure="delete",
    ),
    PersonalData(
        "identity.SignupRequest", ("identity",), ("email", "full_name", "organisation_name", "created"),
        "A sign-up waiting for its e-mail address to be confirmed (expires).", erasure="delete",
    ),
    PersonalData("identity.TOTPDevice", ("security",), ("name",), _FACTOR, erasure="delete", note=_FACTOR_NOTE),
    PersonalData("identity.RecoveryCodeDevice", ("security",), ("name",), _FACTOR, erasure="delete", note=_FACTOR_NOTE),
    PersonalData("identity.EmailDevice", ("security",), ("name",), _FACTOR, erasure="delete", note=_FACTOR_NOTE),
    PersonalData("identity.SMSDevice", ("security",), ("name",), _FACTOR, erasure="delete", note=_FACTOR_NOTE),
    PersonalData(
        "identity.UserSession", ("security", "network"), ("ip_address", "user_agent", "created", "last_activity"),
        "Signed-in sessions, so the person can see and end them.", erasure="delete",
    ),
)  # fmt: skip
FACTORS = (TOTPDevice, RecoveryCodeDevice, EmailDevice, SMSDevice)


def personal_data_export(*, user) -> dict:
    here = {"tenant__schema_name": connection.schema_name}  # the organisation being served
    return {
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "time_zone": user.time_zone,
            "date_joined": user.date_joined,
        },
        "membership": list(Membership.objects.filter(**here, user=user).values("role", "created")),
        "invitations": list(
            Invitation.objects.filter(**here, email__iexact=user.email).values(
                "email", "role", "created", "accepted_at"
            )
        ),
        "sessions": list(
            UserSession.objects.filter(user=user).values("ip_address", "user_agent", "created", "last_activity")
        ),
        "second_factors": [
            {"kind": m._meta.verbose_name, "name": d.name} for m in FACTORS for d in m.objects.filter(user=user)
        ],
    }


def personal_data_erase(*, user) -> int:
    here = {"tenant__schema_name": connection.schema_name}  # the organisation being served
    with transaction.atomic():
        count = Membership.objects.filter(**here, user=user).delete()[0]
        count += Invitation.objects.filter(**here, email__iexact=user.email).delete()[0]
        count += Invitation.objects.filter(**here, invited_by=user).update(invited_by=None)
        count += session_end_others(user=user, keep_session_key=None)
        if not Membership.objects.filter(user=user).exists():
            count += account_anonymise(user=user)
    return count


def account_anonymise(*, user: User) -> int:
    """The account of a person erased from their last organisation: nothing in it names them."""
    count = SignupRequest.objects.filter(email__iexact=user.email).delete()[0]
    for model in FACTORS:
        count += model.objects.filter(user=user).delete()[0]
    if user.avatar:
        user.avatar.delete(save=False)
    user.email = f"erased-{user.pk}@erased.invalid"
    user.full_name = ""
    user.time_zone = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    return count + 1
