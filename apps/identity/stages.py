"""The second-factor step of allauth's log-in: after the password (or a log-in code), a user with
a factor is not logged in until a code from one of their factors is checked."""

from allauth.account.stages import LoginStage
from allauth.core.internal.httpkit import headed_redirect_response

from .mfa import user_has_factor


class SecondFactorStage(LoginStage):
    key = "hub_second_factor"
    urlname = "mfa_verify"

    def handle(self):
        user = self.login.user
        if user is None or not user_has_factor(user=user):
            return None, True
        return headed_redirect_response("mfa_verify"), True
