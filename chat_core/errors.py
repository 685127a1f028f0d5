"""The protocol's error codes, their HTTP statuses, and the one exception that carries them."""

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_JSON = "bad_json"
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    NO_SUCH_USER = "no_such_user"
    NAME_TAKEN = "name_taken"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    LIMIT_REACHED = "limit_reached"  # a bound on what a session, an address or the server holds
    UNAVAILABLE = "unavailable"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    ErrorCode.BAD_JSON: 400,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.NO_SUCH_USER: 404,
    ErrorCode.NAME_TAKEN: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.LIMIT_REACHED: 429,
    ErrorCode.UNAVAILABLE: 503,
}


class ChatError(Exception):
    """A refusal the client can understand: a protocol code and one human sentence."""

    def __init__(self, code: ErrorCode, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retry_after = retry_after

    @property
    def status(self) -> int:
        return self.code.status

    def as_dict(self) -> dict[str, str]:
        return {"error": str(self.code), "detail": self.detail}
