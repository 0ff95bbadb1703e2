"""What a connector raises when a call fails, for the workflow engine to show and to retry or not.

Every failure of a connector action is a ConnectorError: its message says what happened in words
(the service, the status and the service's own reason), `retryable` whether trying again later
may help (the service is down, timed out, rate-limited, answered 5xx) or not (bad input, a 4xx, a
credential the service refuses)."""


class ConnectorError(Exception):
    def __init__(self, message: str, retryable: bool = False, *, status: int | None = None):
        super().__init__(message)
        self.message, self.retryable, self.status = message, retryable, status


class CredentialError(ConnectorError):
    """The credential is missing, expired, revoked or refused: a person must fix the connection."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message, retryable=False, status=status)


class InputError(ConnectorError):
    """The action's inputs do not match its schema (nothing was sent)."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message, retryable=False)
        self.errors = errors or {}
