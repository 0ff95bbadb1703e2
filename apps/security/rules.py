"""The detection rules: what each looks for, in words, how serious it is and which responses
apply to what it finds. The thresholds are settings (HUB_THREAT_*, docs/security.md); a tenant
turns a rule off or picks its automatic responses on the rules page (RuleSetting)."""

from dataclasses import dataclass

from django.conf import settings

from .models import Action, Severity

PERSON = (Action.END_SESSIONS, Action.LOCK_ACCOUNT, Action.REQUIRE_MFA)


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    description: str
    severity: str
    actions: tuple[str, ...] = ()  # the responses that apply to its incidents
    needs_place: bool = False  # off without a GeoIP database
    window_setting: str = ""  # the setting holding its window (seconds): one incident per subject per window
    window_seconds: int = 0  # or a fixed window (neither: the history's length)

    @property
    def window(self) -> int:
        if self.window_seconds:
            return self.window_seconds
        if self.window_setting:
            return int(getattr(settings, self.window_setting))
        return int(settings.HUB_THREAT_HISTORY_DAYS) * 86400


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "brute_force", "Brute force from one address",
            "Failed log-ins for many different accounts from one address.",
            Severity.HIGH, window_setting="HUB_THREAT_BRUTE_FORCE_WINDOW",
        ),
        Rule(
            "credential_stuffing", "Credential stuffing",
            "Many different accounts failing to log in from many addresses in a short time, "
            "with a high share of failures.",
            Severity.CRITICAL, window_setting="HUB_THREAT_STUFFING_WINDOW",
        ),
        Rule(
            "new_country", "Log-in from a new country",
            "A member logged in from a country they had not logged in from before.",
            Severity.MEDIUM, PERSON, needs_place=True,
        ),
        Rule(
            "new_device", "Log-in from a new device",
            "A member logged in with a browser or system they had not used before.",
            Severity.LOW, PERSON,
        ),
        Rule(
            "impossible_travel", "Impossible travel",
            "Two log-ins of one member from places too far apart to travel between in the time between them.",
            Severity.HIGH, PERSON, needs_place=True, window_seconds=3600,
        ),
        Rule(
            "api_key_new_network", "API key used from a new network",
            "An API key was used from a network (a /24 for IPv4, a /48 for IPv6) it had never been used from.",
            Severity.MEDIUM, (Action.REVOKE_KEY,),
        ),
        Rule(
            "mass_deletion", "Mass deletion",
            "One person deleted or trashed many documents or folders in a few minutes.",
            Severity.HIGH, PERSON, window_setting="HUB_THREAT_MASS_WINDOW",
        ),
        Rule(
            "mass_download", "Mass download",
            "One person downloaded many documents in a few minutes.",
            Severity.HIGH, PERSON, window_setting="HUB_THREAT_MASS_WINDOW",
        ),
        Rule(
            "privilege_escalation", "Someone made owner",
            "A member was made an owner of the organisation (by a role change or an invitation).",
            Severity.HIGH, PERSON,
        ),
    )
}  # fmt: skip


def rule_label(code: str) -> str:
    rule = RULES.get(code)
    return rule.label if rule is not None else code.replace("_", " ").capitalize()
