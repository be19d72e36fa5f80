"""OpenAI-shaped HTTP errors: ``{"error": {"message", "type", "param", "code"}}``.

Handlers raise :class:`APIError`; the app turns it into a JSON response (or, once a stream
has started, into an ``error`` event inside the stream). Messages name the problem and the
fix; they never echo credentials.
"""

from __future__ import annotations

from typing import Any

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}


class APIError(Exception):
    """An error answered to the client with HTTP ``status``."""

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, self.param, self.code)


def error_body(
    status: int, message: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The JSON body of an error answer."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def bad_request(message: str, param: str | None = None) -> APIError:
    return APIError(400, message, param=param, code="invalid_value" if param else None)


def internal_error(exc: BaseException) -> APIError:
    """A failure while running the served component: its type and message (no traceback)."""
    return APIError(500, f"the server failed to answer: {type(exc).__name__}: {exc}")
