"""The error model: domain exceptions, and the one place that maps any exception to a gRPC status.

Handlers and domain code raise the subclasses below (`InvalidArgument(field, reason, message)`, ...).
`to_status()` turns any exception into a `google.rpc.Status` with an `ErrorInfo` (stable reason,
domain "strata.dev") and the detail that fits the code (BadRequest, ResourceInfo, RetryInfo).
asyncpg, minio and OS errors are classified here too; anything unknown becomes INTERNAL with a generic
message, and the interceptor logs the traceback.
"""

from __future__ import annotations

import asyncio

import asyncpg
import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from strata.errors import ERROR_DOMAIN, Reason

__all__ = [
    "Aborted",
    "AlreadyExists",
    "DeadlineExceeded",
    "FailedPrecondition",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "Reason",
    "ResourceExhausted",
    "ServiceError",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "classify",
    "to_status",
]


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    code = grpc.StatusCode.INTERNAL

    def __init__(self, reason: str, message: str, **metadata: str) -> None:
        if reason not in Reason:
            raise ValueError(f"unknown error reason {reason!r}: add it to strata.common.v1.ErrorReason")
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = {k: str(v) for k, v in metadata.items()}

    def extra_details(self) -> list[object]:
        return []


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, reason: str, message: str, **metadata: str) -> None:
        super().__init__(reason, message, field=field, **metadata)
        self.field = field

    def extra_details(self) -> list[object]:
        return [
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=self.field, description=self.message, reason=self.reason
                    )
                ]
            )
        ]


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND

    def __init__(
        self,
        resource_type: str,
        resource_name: str,
        message: str | None = None,
        reason: str = Reason.NOT_FOUND,
    ) -> None:
        super().__init__(
            reason,
            message or f"{resource_type} {resource_name!r} not found",
            resource_type=resource_type,
            resource_name=resource_name,
        )
        self.resource_type, self.resource_name = resource_type, resource_name

    def extra_details(self) -> list[object]:
        return [
            error_details_pb2.ResourceInfo(resource_type=self.resource_type, resource_name=self.resource_name)
        ]


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(ServiceError):
    code = grpc.StatusCode.ABORTED


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Unimplemented(ServiceError):
    code = grpc.StatusCode.UNIMPLEMENTED

    def __init__(self, rpc: str, issue: str) -> None:
        super().__init__(Reason.NOT_IMPLEMENTED, f"{rpc} is not implemented yet ({issue})")


class Internal(ServiceError):
    code = grpc.StatusCode.INTERNAL


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE

    def __init__(
        self, message: str, retry_after: float = 1.0, reason: str = Reason.BACKEND_UNAVAILABLE
    ) -> None:
        super().__init__(reason, message)
        self.retry_after = retry_after

    def extra_details(self) -> list[object]:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(self.retry_after * 1000))
        return [error_details_pb2.RetryInfo(retry_delay=delay)]


_PG_UNAVAILABLE = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)


# Input PostgreSQL or asyncpg refuse as data, when a check upstream missed it: still the caller's
# error (nothing was written: the statement failed), never INTERNAL or a retryable UNAVAILABLE.
_PG_BAD_TEXT = (
    asyncpg.exceptions.CharacterNotInRepertoireError,
    asyncpg.exceptions.UntranslatableCharacterError,
)
_PG_OUT_OF_RANGE = (
    asyncpg.exceptions.NumericValueOutOfRangeError,
    asyncpg.exceptions.DatetimeFieldOverflowError,
)


def classify(exc: BaseException) -> ServiceError | None:
    """Map a known infrastructure exception to a ServiceError; None means 'unexpected'."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, _PG_BAD_TEXT):
        return InvalidArgument("request", Reason.INVALID_TEXT, "a text field holds U+0000 or invalid Unicode")
    # type(...) is: asyncpg raises the bare class for a query argument it cannot encode (an int past int64)
    if isinstance(exc, _PG_OUT_OF_RANGE) or type(exc) is asyncpg.exceptions.DataError:
        return InvalidArgument("request", Reason.OUT_OF_RANGE, "a value is out of the stored type's range")
    if isinstance(exc, (asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError)):
        return Aborted(Reason.CONFLICT, "concurrent update conflicted; retry")
    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return AlreadyExists(Reason.ALREADY_EXISTS, "resource already exists")
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        return DeadlineExceeded(Reason.INTERNAL, "query cancelled: deadline exceeded")
    if isinstance(exc, _PG_UNAVAILABLE) or isinstance(exc, (ConnectionError, OSError, asyncio.TimeoutError)):
        return Unavailable(f"storage backend unavailable: {type(exc).__name__}")
    if type(exc).__module__.startswith(("minio", "urllib3")):
        return Unavailable(f"object store unavailable: {type(exc).__name__}")
    return None


# A status travels in trailing metadata (clients refuse more than 8-16 KiB of it), and messages often
# quote the caller's input: every text of a status is clipped so no input can make the error itself
# undeliverable.
MAX_MESSAGE_CHARS, MAX_METADATA_CHARS = 512, 128  # in UTF-8 bytes


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (an ellipsis marks the cut)."""
    if len(text) <= limit // 4 or len(text.encode("utf-8", "surrogatepass")) <= limit:
        return text
    return text.encode("utf-8", "surrogatepass")[: limit - 3].decode("utf-8", "ignore") + "…"


def to_status(exc: BaseException) -> tuple[status_pb2.Status, bool]:
    """Build the google.rpc.Status for an exception; the bool says whether it was unexpected."""
    err = classify(exc)
    unexpected = err is None
    if err is None:
        err = Internal(Reason.INTERNAL, "internal error; the server logged the details")
    err.message = clip(err.message, MAX_MESSAGE_CHARS)
    err.metadata = {k: clip(v, MAX_METADATA_CHARS) for k, v in err.metadata.items()}
    if isinstance(err, NotFound):
        err.resource_name = clip(err.resource_name, MAX_METADATA_CHARS)
    if isinstance(err, InvalidArgument):
        err.field = clip(err.field, MAX_METADATA_CHARS)
    info = error_details_pb2.ErrorInfo(reason=err.reason, domain=ERROR_DOMAIN, metadata=err.metadata)
    details = []
    for detail in [info, *err.extra_details()]:
        packed = any_pb2.Any()
        packed.Pack(detail)
        details.append(packed)
    code = getattr(code_pb2, err.code.name)
    return status_pb2.Status(code=code, message=err.message, details=details), unexpected
