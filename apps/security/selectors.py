"""Security reads for the pages."""

from django.db.models import Count

from apps.identity.models import User

from . import geo
from .models import FactorRequirement, Incident, PostureScan, RuleSetting
from .rules import RULES


def incident_list():
    return Incident.objects.all()


def open_counts() -> dict[str, int]:
    """Open incidents by severity."""
    rows = Incident.objects.filter(status=Incident.Status.OPEN).values("severity").annotate(n=Count("id"))
    return {row["severity"]: row["n"] for row in rows}


def rule_rows() -> list[dict]:
    """Every rule with the tenant's setting (on, automatic responses) and whether it can run here."""
    settings_ = {s.rule: s for s in RuleSetting.objects.all()}
    has_geo = geo.configured()
    rows = []
    for rule in RULES.values():
        found = settings_.get(rule.code)
        rows.append(
            {
                "rule": rule,
                "enabled": found.enabled if found else True,
                "auto_actions": [a for a in (found.auto_actions if found else []) if a in rule.actions],
                "unavailable": rule.needs_place and not has_geo,
            }
        )
    return rows


def subject_user(incident: Incident) -> User | None:
    return User.objects.filter(pk=incident.user_id).first() if incident.user_id else None


def factor_requirements():
    return FactorRequirement.objects.all()


def posture_scan_list(*, limit: int = 10) -> list[PostureScan]:
    """The last scans, newest first."""
    return list(PostureScan.objects.select_related("checked_by")[:limit])


def posture_scan_last() -> PostureScan | None:
    """The newest scan of the tenant being served (what the monthly report cites), or None."""
    return PostureScan.objects.first()
