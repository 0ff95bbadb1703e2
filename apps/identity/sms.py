"""Text messages through a provider interface.

settings.HUB_SMS_BACKEND names a class with `send(*, to: str, body: str) -> str` (returns the
provider's message id, raises SMSError). Two ship with the hub:
- ConsoleSMSBackend (development): logs the message.
- TwilioSMSBackend: Twilio's REST API (POST /2010-04-01/Accounts/{sid}/Messages.json with HTTP
  basic auth); HUB_TWILIO_API_BASE points it at another host (the tests' local fake).
"""

import logging
import re

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class SMSError(Exception):
    pass


def normalise_number(number: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", number or "")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not E164.match(cleaned):
        raise ValidationError({"number": ["Enter the number in international form, e.g. +44 7700 900123."]})
    return cleaned


class ConsoleSMSBackend:
    def send(self, *, to: str, body: str) -> str:
        logger.warning("SMS to %s: %s", to, body)
        return "console"


class TwilioSMSBackend:
    def __init__(self):
        self.account_sid = settings.HUB_TWILIO_ACCOUNT_SID
        self.auth_token = settings.HUB_TWILIO_AUTH_TOKEN
        self.sender = settings.HUB_TWILIO_FROM
        self.api_base = settings.HUB_TWILIO_API_BASE.rstrip("/")

    def send(self, *, to: str, body: str) -> str:
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        try:
            response = requests.post(
                url,
                data={"To": to, "From": self.sender, "Body": body},
                auth=(self.account_sid, self.auth_token),
                timeout=10,
            )
        except requests.RequestException as exc:
            raise SMSError(f"The SMS provider could not be reached: {exc.__class__.__name__}") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("message", "")
            except ValueError:
                detail = response.text[:200]
            raise SMSError(f"The SMS provider refused the message ({response.status_code}): {detail}")
        return response.json().get("sid", "")


def sms_backend():
    return import_string(settings.HUB_SMS_BACKEND)()


def sms_send(*, to: str, body: str) -> str:
    return sms_backend().send(to=to, body=body)
