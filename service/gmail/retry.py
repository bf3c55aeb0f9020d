"""How a failed Gmail call is classified, how long to wait before the next try, what to raise.

Rate limits (429, and 403 ``rateLimitExceeded``) mean Google did not do the work: safe to
repeat. 5xx answers and network errors are *ambiguous*: the work may have been done, so
only idempotent calls repeat them blindly; sends check first (see ``client.send_draft``).
"""

from __future__ import annotations

import http.client
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError, MediaUploadSizeError

from service.errors import GmailClientError, GmailTransientError

log = logging.getLogger(__name__)

_RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_PUBLIC = {
    400: "Gmail refused the request.",
    401: "Gmail did not accept the sign-in; reopen the add-on and try again.",
    403: "Gmail refused access to this mailbox.",
    404: "The draft or message no longer exists in Gmail.",
    413: "The message is larger than Gmail's 35 MB limit.",
}
BUSY = "Gmail is busy or unreachable; try again in a moment."
NOT_CONFIRMED = ("Gmail did not confirm whether the message was sent; check the Sent folder "
                 "before sending again.")


@dataclass(frozen=True)
class Failure:
    kind: str                        # "rate", "server", "network", "client"
    status: int | None = None
    retry_after: float | None = None
    reason: str = ""                 # Google's reason code, or the exception class
    message: str = ""                # Google's message (never message contents)

    @property
    def transient(self) -> bool:
        return self.kind in ("rate", "server", "network")

    @property
    def ambiguous(self) -> bool:
        """The request may have taken effect although it failed."""
        return self.kind in ("server", "network")

    def describe(self) -> str:
        return f"HTTP {self.status} {self.reason}".strip() if self.status else self.reason


def _retry_after(value: str | None, clock: Callable[[], float]) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - clock())
    except (TypeError, ValueError):
        return None


def _google_error(content: bytes) -> tuple[str, str]:
    try:
        err = json.loads(content)["error"]
        errors = err.get("errors") or [{}]
        return str(errors[0].get("reason", err.get("status", ""))), str(err.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return "", ""


def classify(exc: BaseException, clock: Callable[[], float]) -> Failure | None:
    """The Failure an exception from the client library means, or None if it is not one."""
    if isinstance(exc, HttpError):
        status = int(exc.resp.status)
        reason, message = _google_error(exc.content)
        after = _retry_after(exc.resp.get("retry-after"), clock)
        if status == 429 or (status == 403 and reason in _RATE_REASONS):
            return Failure("rate", status, after, reason, message)
        if status >= 500:
            return Failure("server", status, after, reason, message)
        return Failure("client", status, None, reason, message)
    if isinstance(exc, RefreshError):  # Gmail answered 401 and a bare access token cannot refresh
        return Failure("client", 401, None, "authError", "access token rejected")
    if isinstance(exc, MediaUploadSizeError):
        return Failure("client", 413, None, "uploadTooLarge", str(exc))
    if isinstance(exc, OSError | http.client.HTTPException | httplib2.HttpLib2Error
                  | TransportError):
        return Failure("network", None, None, type(exc).__name__)
    return None


def client_error(failure: Failure, operation: str) -> GmailClientError:
    status = failure.status or 400
    return GmailClientError(_PUBLIC.get(status, _PUBLIC[400]), http_status=status,
                            detail=f"{operation}: {failure.describe()}: {failure.message}")


def transient_error(failure: Failure, operation: str, attempts: int) -> GmailTransientError:
    return GmailTransientError(BUSY, detail=f"{operation}: {failure.describe()} "
                                            f"after {attempts} attempt(s)")


class Backoff:
    """Exponential backoff with jitter that honours Retry-After, within a retry budget."""

    def __init__(self, retries: int, base: float, sleep: Callable[[float], None],
                 rng: random.Random, *, max_delay: float = 8.0,
                 max_retry_after: float = 30.0) -> None:
        self.retries = retries
        self.base = base
        self.sleep = sleep
        self.rng = rng
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after

    def delay(self, attempt: int) -> float:
        """Half the exponential step fixed, half random: spreads clients that failed together."""
        step = min(self.max_delay, self.base * 2.0 ** attempt)
        return step / 2 + self.rng.uniform(0, step / 2)

    def wait(self, operation: str, attempt: int, failure: Failure) -> None:
        """Sleep before try ``attempt + 2``, or raise when the budget or Retry-After says stop."""
        if attempt >= self.retries:
            raise transient_error(failure, operation, attempt + 1)
        pause = self.delay(attempt)
        if failure.retry_after is not None:
            if failure.retry_after > self.max_retry_after:
                raise transient_error(failure, operation, attempt + 1)
            pause = max(pause, failure.retry_after)
        log.warning("gmail %s failed (%s); retry %d of %d in %.2fs", operation,
                    failure.describe(), attempt + 1, self.retries, pause)
        self.sleep(pause)
