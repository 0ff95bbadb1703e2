"""The benchmark's production settings for threat_detect_ms: what a log-in costs besides detection
is kept (sessions in Redis, the audit entry, the Sessions row), but the password check is MD5 (the
check itself is measured by login_p95_ms; at 200 log-ins a second Argon2id alone needs more cores
than this machine has) and allauth's per-address limits are off (the load comes from one host)."""

from bench.settings import *  # noqa: F403
from bench.settings import PASSWORD_HASHERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
ACCOUNT_RATE_LIMITS = False
HUB_LOGIN_IP_LOCK_THRESHOLD = 1_000_000
