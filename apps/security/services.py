"""Security writes: raising incidents from what the rules found, the responses (by a person or
automatic), closing incidents, the tenant's rule settings, and storing posture scans.

Bad input is refused with ValidationError saying why (a closed incident, a response that does
not apply, an owner who would leave nobody to unlock them); the pages show the message.
"""

import logging
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.api.services import api_key_revoke
from apps.core.events import publish
from apps.identity import sessions
from apps.identity.mfa import user_has_factor
from apps.identity.models import Membership, User
from apps.identity.roles import Role, can_manage

from . import detect
from .models import (
    SEVERITY_RANK,
    Action,
    FactorRequirement,
    Incident,
    IncidentResponse,
    PostureScan,
    RuleSetting,
    Severity,
)
from .posture import tenant_posture
from .rules import RULES, rule_label

log = logging.getLogger(__name__)
ERASED_DOMAIN = "@erased.invalid"  # identity's anonymised accounts: never unlocked


# --- Rule settings -----------------------------------------------------------------------------------


def rule_state(code: str) -> tuple[bool, list[str]]:
    """(enabled, automatic responses) of a rule in the tenant being served."""
    found = RuleSetting.objects.filter(rule=code).first()
    if found is None:
        return True, []
    return found.enabled, [a for a in found.auto_actions if a in RULES[code].actions]


def rule_setting_update(
    *, tenant, actor: User | None, rule: str, enabled: bool, auto_actions: list[str]
) -> RuleSetting:
    if rule not in RULES:
        raise ValidationError({"rule": ["There is no such rule."]})
    wrong = [a for a in auto_actions if a not in RULES[rule].actions]
    if wrong:
        raise ValidationError({"auto_actions": [f"“{Action(wrong[0]).label}” does not apply to this rule."]})
    with transaction.atomic():
        setting, _ = RuleSetting.objects.get_or_create(rule=rule)
        setting.enabled, setting.auto_actions = enabled, list(dict.fromkeys(auto_actions))
        setting.save()
        publish(
            "security.rule_changed",
            {"rule": rule, "rule_label": rule_label(rule), "enabled": enabled, "auto_actions": setting.auto_actions},
            tenant=tenant, actor=actor,
        )  # fmt: skip
    return setting


# --- Incidents ---------------------------------------------------------------------------------------


def incident_raise(*, tenant, finding: detect.Finding, request=None) -> Incident | None:
    """Raises the incident of a finding, once per rule, subject and window (None: the rule is off,
    or this one was raised already), then runs the rule's automatic responses."""
    rule = RULES[finding.rule]
    enabled, automatic = rule_state(rule.code)
    if not enabled:
        return None
    if not detect.first_in_window(
        schema=tenant.schema_name, rule=rule.code, subject=finding.subject, window=rule.window
    ):
        return None
    occurred = datetime.fromtimestamp(finding.occurred_at, UTC)
    dedup_key = f"{finding.subject}:{int(finding.occurred_at // rule.window)}"[:200]
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                rule=rule.code, severity=rule.severity, dedup_key=dedup_key, summary=finding.summary[:300],
                user_id=finding.user_id, email=finding.email or "", ip_address=finding.ip or None,
                api_key_id=finding.api_key_id, details=finding.details, occurred_at=occurred,
            )  # fmt: skip
            serious = SEVERITY_RANK[Severity(rule.severity)] >= SEVERITY_RANK[Severity.HIGH]
            publish(
                "security.serious_incident_raised" if serious else "security.incident_raised",
                {
                    "incident_id": incident.pk, "rule": rule.code, "rule_label": rule.label,
                    "severity": rule.severity, "summary": incident.summary, "user_id": finding.user_id,
                    "ip_address": finding.ip or None, "api_key_id": finding.api_key_id,
                },
                tenant=tenant,
            )  # fmt: skip
    except IntegrityError:
        return None  # raised already in this window (by another process, or Redis forgot the mark)
    for action in automatic:
        try:
            incident_respond(tenant=tenant, incident=incident, action=action, automatic=True, request=request)
        except (ValidationError, PermissionDenied) as refused:
            log.info("automatic %s on incident %s not taken: %s", action, incident.pk, _message(refused))
    return incident


def incidents_raise(*, tenant, findings: list[detect.Finding], request=None) -> list[Incident]:
    raised = [incident_raise(tenant=tenant, finding=f, request=request) for f in findings]
    return [i for i in raised if i is not None]


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def incident_close(*, tenant, incident: Incident, actor: User, status: str, note: str = "") -> Incident:
    if status not in (Incident.Status.RESOLVED, Incident.Status.DISMISSED):
        raise ValidationError("An incident is closed as resolved or dismissed.")
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if not locked.is_open:
            raise ValidationError(f"Incident #{locked.pk} is already {locked.get_status_display().lower()}.")
        locked.status, locked.resolved_at, locked.resolved_by = status, timezone.now(), actor
        locked.resolution = note[:500]
        locked.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
        publish(
            "security.incident_closed",
            {"incident_id": locked.pk, "status": status, "summary": locked.summary, "note": locked.resolution},
            tenant=tenant, actor=actor,
        )  # fmt: skip
    return locked


# --- Responses ---------------------------------------------------------------------------------------


def actions_for(incident: Incident) -> list[str]:
    """The responses that apply to an incident now (its rule's, and unlock after a lock)."""
    rule = RULES.get(incident.rule)
    if rule is None or not incident.is_open:
        return []
    key = incident.api_key if incident.api_key_id else None
    actions = [a for a in rule.actions if a != Action.REVOKE_KEY or (key is not None and key.revoked_at is None)]
    if incident.user_id is None:
        actions = [a for a in actions if a == Action.REVOKE_KEY]
    user = User.objects.filter(pk=incident.user_id).first() if incident.user_id else None
    if user is not None and not user.is_active and Action.LOCK_ACCOUNT in actions:
        actions.remove(Action.LOCK_ACCOUNT)
        if incident.responses.filter(action=Action.LOCK_ACCOUNT).exists():
            actions.append(Action.UNLOCK_ACCOUNT)
    return actions


def incident_respond(
    *, tenant, incident: Incident, action: str, actor: User | None = None, automatic: bool = False, request=None
) -> IncidentResponse:
    """Takes one response on an open incident and records it (audited, and published as an event).
    `request` is the request being served, when it is the subject's own log-in: its session ends too."""
    if action not in Action.values:
        raise ValidationError("There is no such response.")
    incident = Incident.objects.select_related("api_key").get(pk=incident.pk)
    if not incident.is_open:
        raise ValidationError(
            f"Incident #{incident.pk} is {incident.get_status_display().lower()}: responses are for open incidents."
        )
    if action not in actions_for(incident):
        raise ValidationError(f"“{Action(action).label}” does not apply to this incident.")
    user = User.objects.filter(pk=incident.user_id).first() if incident.user_id else None
    if action != Action.REVOKE_KEY and user is None:
        raise ValidationError("The account this incident is about no longer exists.")
    outcome = {
        Action.END_SESSIONS: _end_sessions,
        Action.LOCK_ACCOUNT: _lock,
        Action.UNLOCK_ACCOUNT: _unlock,
        Action.REVOKE_KEY: _revoke,
        Action.REQUIRE_MFA: _require_factor,
    }[Action(action)](tenant=tenant, incident=incident, user=user, actor=actor, request=request)
    with transaction.atomic():
        response = IncidentResponse.objects.create(
            incident=incident, action=action, automatic=automatic, actor=actor, outcome=outcome[:300]
        )
        publish(
            "security.incident_responded",
            {"incident_id": incident.pk, "action": action, "automatic": automatic, "outcome": response.outcome},
            tenant=tenant, actor=actor,
        )  # fmt: skip
    return response


def _end_current(request, user: User) -> None:
    """The log-in being served is the subject's own: it ends with the others."""
    if request is not None and getattr(request, "user", None) == user and hasattr(request, "session"):
        request.session.flush()


def _end_sessions(*, tenant, incident, user, actor, request) -> str:
    ended = sessions.session_end_in(user=user, tenant=tenant)  # this organisation's only
    _end_current(request, user)
    return f"Ended {ended} session{'s' if ended != 1 else ''} of {user.email} in this organisation."


def _actor_membership(tenant, actor: User | None) -> Membership | None:
    return Membership.objects.filter(tenant=tenant, user=actor).first() if actor is not None else None


def _lock(*, tenant, incident, user, actor, request) -> str:
    membership = Membership.objects.filter(tenant=tenant, user=user).first()
    if membership is None:
        raise ValidationError(f"{user.email} is not a member of this organisation: their account is not yours to lock.")
    if actor is not None and actor.pk == user.pk:
        raise ValidationError("You cannot lock your own account.")
    mine = _actor_membership(tenant, actor)
    if actor is not None and (mine is None or not can_manage(mine.role, membership.role)):
        raise PermissionDenied("Only an owner can lock an owner's account.")
    if membership.role == Role.OWNER:
        others = Membership.objects.filter(tenant=tenant, role=Role.OWNER, user__is_active=True).exclude(user=user)
        if not others.exists():
            raise ValidationError(f"{user.email} is the only owner: locking them would leave nobody to unlock them.")
    elsewhere = Membership.objects.filter(user=user).exclude(tenant=tenant).count()
    if elsewhere:
        # One account serves every organisation: a lock here would lock them out of the others too.
        raise ValidationError(
            f"{user.email} also belongs to {elsewhere} other organisation{'s' if elsewhere != 1 else ''}: "
            "end their sessions here and require a second factor instead (the platform's operators can "
            "lock the account itself)."
        )
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    ended = sessions.session_end_others(user=user, keep_session_key=None)
    _end_current(request, user)
    return f"Locked {user.email}'s account: they cannot log in until it is unlocked; {ended} session(s) ended."


def _unlock(*, tenant, incident, user, actor, request) -> str:
    if user.email.endswith(ERASED_DOMAIN):
        raise ValidationError("This account was erased: it cannot be unlocked.")
    if not incident.responses.filter(action=Action.LOCK_ACCOUNT).exists():
        raise ValidationError("Only an account this incident locked is unlocked from it.")
    membership = Membership.objects.filter(tenant=tenant, user=user).first()
    mine = _actor_membership(tenant, actor)
    if membership is None or (actor is not None and (mine is None or not can_manage(mine.role, membership.role))):
        raise PermissionDenied("Only an owner can unlock an owner's account, and only a member's.")
    User.objects.filter(pk=user.pk).update(is_active=True)
    return f"Unlocked {user.email}'s account: they can log in again."


def _revoke(*, tenant, incident, user, actor, request) -> str:
    key = incident.api_key
    if key is None:
        raise ValidationError("The API key of this incident no longer exists.")
    if key.revoked_at is not None:
        raise ValidationError(f"The API key “{key.name}” is already revoked.")
    api_key_revoke(actor=_actor_membership(tenant, actor), key=key)
    return f"Revoked the API key “{key.name}” ({key.prefix}…): calls with it get 401."


def _require_factor(*, tenant, incident, user, actor, request) -> str:
    FactorRequirement.objects.get_or_create(user=user, defaults={"incident": incident, "required_by": actor})
    if user_has_factor(user=user):
        return f"{user.email} must check their second factor at every log-in to this organisation."
    return f"{user.email} must add a second factor at their next log-in before they reach anything."


def factor_required(*, user_id: int) -> bool:
    return FactorRequirement.objects.filter(user_id=user_id).exists()


# --- Posture scans -----------------------------------------------------------------------------------


def posture_scan_run(*, tenant, actor: User | None = None) -> PostureScan:
    """Checks the posture of `tenant` (its schema current) and stores the result; `actor` is the
    admin who asked (None: the daily check or the command)."""
    posture = tenant_posture(tenant)
    return PostureScan.objects.create(
        score=posture.score, grade=posture.grade, checked_at=posture.checked_at, checked_by=actor,
        findings=[finding.as_dict() for finding in posture.findings],
    )  # fmt: skip
