"""The one error type of the Strata client, and the stable error reasons of the public schema.

Every failed RPC raises `StrataError` with:
  * `.code`    -- the `grpc.StatusCode`,
  * `.reason`  -- a stable UPPER_SNAKE string from `strata.common.v1.ErrorReason` (without the
                  `ERROR_REASON_` prefix), e.g. "INVALID_NAME"; branch on this, never on the message,
  * `.details` -- the unpacked `google.rpc` details (ErrorInfo, BadRequest, ResourceInfo, RetryInfo),
  * `.field`   -- the offending field for INVALID_ARGUMENT (from BadRequest.FieldViolation).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import grpc
from google.rpc import error_details_pb2, status_pb2

from strata.common.v1 import error_reason_names

ERROR_DOMAIN = "strata.dev"


class _Reasons(error_reason_names.ErrorReasonNames):
    """Attribute access to every reason: `Reason.INVALID_NAME == "INVALID_NAME"` (generated from the
    schema, so a misspelt reason is a type error), and `"INVALID_NAME" in Reason`."""

    def __contains__(self, reason: object) -> bool:
        return isinstance(reason, str) and reason in error_reason_names.ALL


Reason = _Reasons()


class StrataError(Exception):
    """A failed Strata RPC (or a client-side failure with the same shape)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        *,
        field: str | None = None,
        details: list[object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.field = field
        self.details = details or []

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.code.name} {self.reason}: {self.message}{where}"

    @property
    def retry_delay(self) -> float | None:
        for d in self.details:
            if isinstance(d, error_details_pb2.RetryInfo):
                return float(d.retry_delay.ToTimedelta().total_seconds())
        return None

    @classmethod
    def from_rpc_error(cls, err: grpc.RpcError) -> StrataError:
        """Unpack a grpc error (sync or aio) into a StrataError, reading google.rpc.Status details."""
        code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN
        message = err.details() if callable(getattr(err, "details", None)) else str(err)
        reason, field, details = _reason_for_code(code), None, []
        status = _status_from_metadata(err)
        if status is not None:
            message = status.message or message or ""
            for any_detail in status.details:
                for typ in (
                    error_details_pb2.ErrorInfo,
                    error_details_pb2.BadRequest,
                    error_details_pb2.ResourceInfo,
                    error_details_pb2.RetryInfo,
                    error_details_pb2.PreconditionFailure,
                ):
                    if any_detail.Is(typ.DESCRIPTOR):
                        msg = typ()
                        any_detail.Unpack(msg)
                        details.append(msg)
                        if isinstance(msg, error_details_pb2.ErrorInfo) and msg.reason:
                            reason = msg.reason
                        if isinstance(msg, error_details_pb2.BadRequest) and msg.field_violations:
                            field = msg.field_violations[0].field
        return cls(code, reason, message or "", field=field, details=details)


def _status_from_metadata(err: grpc.RpcError) -> status_pb2.Status | None:
    # types-grpcio types these as `_Metadatum` objects; sync and aio calls both yield (key, value) pairs
    trailing = cast(
        "Iterable[tuple[str, Any]] | None",
        err.trailing_metadata() if callable(getattr(err, "trailing_metadata", None)) else None,
    )
    for key, value in trailing or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status()
            status.ParseFromString(value)
            return status
    return None


def _reason_for_code(code: grpc.StatusCode) -> str:
    """Reason used when a server (or proxy) sent no ErrorInfo."""
    return {
        grpc.StatusCode.UNAVAILABLE: Reason.BACKEND_UNAVAILABLE,
        grpc.StatusCode.UNIMPLEMENTED: Reason.NOT_IMPLEMENTED,
        grpc.StatusCode.NOT_FOUND: Reason.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED: Reason.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED: Reason.PERMISSION_DENIED,
        grpc.StatusCode.ALREADY_EXISTS: Reason.ALREADY_EXISTS,
        grpc.StatusCode.ABORTED: Reason.CONFLICT,
    }.get(code, Reason.INTERNAL)
