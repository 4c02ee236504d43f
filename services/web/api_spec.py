"""What each console API endpoint takes and answers, declared next to it, and the only way to read a query.

An endpoint is declared with `@declare(Param(...), ..., response=..., body=...)`: its query parameters
(type, required, default, limits, allowed values), its request body and the JSON shape of its answer.
The handler reads every query parameter through the readers here (`string`, `integer`, `boolean`,
`strings`, `page`), which find the running endpoint's declaration (Starlette puts the endpoint in the
request scope) and take the limits, default and error message from it; reading a name the endpoint does
not declare raises `UndeclaredParameter` (a 500 and a failing test, never a silent gap). The OpenAPI
document (`openapi.py`) is built from these declarations alone, so what it says is what the handler does.

A bad value is refused as the console always has: 400 with the stable reason and the parameter as
`field` (INVALID_ARGUMENT: not a number, not true/false, not one of the allowed values; OUT_OF_RANGE:
outside the limits; FIELD_REQUIRED: a required one absent; a declaration may name its own reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from starlette.requests import Request

from .bridge import ApiError

Kind = Literal["string", "integer", "boolean", "strings"]
F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__api_spec__"
STEP_LIMIT = 2**62  # the largest step bound the console passes on (the services' int64, with room)


@dataclass(frozen=True)
class Param:
    """One query parameter. `strings` is a repeated one (?k=a&k=b). `missing` replaces the message of
    an absent required value; `invalid` (reason, message) that of a value outside `enum` or `pattern`
    (an absent required value included, when there is a pattern or an enum)."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    default: str | int | bool | None = None
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()
    pattern: str = ""
    missing: str = ""
    invalid: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.kind == "integer":
            self.limits()

    def limits(self) -> tuple[int, int]:
        """(minimum, maximum) of an integer: every one declares both, so no value reaches a service
        unchecked."""
        if self.minimum is None or self.maximum is None:
            raise ValueError(f"the integer ?{self.name}= needs its limits (minimum and maximum)")
        return self.minimum, self.maximum

    def schema(self) -> dict[str, Any]:
        """The parameter's JSON Schema (OpenAPI 3.1)."""
        if self.kind == "strings":
            return {"type": "array", "items": {"type": "string"}}
        out: dict[str, Any] = {"type": self.kind}
        extra = {"minimum": self.minimum, "maximum": self.maximum, "default": self.default}
        out.update({k: v for k, v in extra.items() if v is not None})
        if self.enum:
            out["enum"] = list(self.enum)
        if self.pattern:
            out["pattern"] = self.pattern
        return out


@dataclass(frozen=True)
class Spec:
    """An endpoint's declaration: query parameters, request body and 200 answer (JSON Schemas).
    `produces` lists the media types of an answer that is bytes rather than JSON."""

    params: tuple[Param, ...] = ()
    response: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    produces: tuple[str, ...] = ()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


class UndeclaredParameter(LookupError):
    """A handler read a query parameter its endpoint does not declare (a programming error)."""


def declare(
    *params: Param,
    response: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    produces: tuple[str, ...] = (),
) -> Callable[[F], F]:
    """Attach the endpoint's Spec to its handler (the handler itself is unchanged)."""
    names = [p.name for p in params]
    if len(names) != len(set(names)):
        raise ValueError(f"a query parameter is declared twice: {names}")
    spec = Spec(params, response, body, produces)

    def attach(handler: F) -> F:
        setattr(handler, ATTRIBUTE, spec)
        return handler

    return attach


def spec_of(endpoint: Any) -> Spec | None:
    """The endpoint's declaration, None when it has none."""
    found = getattr(endpoint, ATTRIBUTE, None)
    return found if isinstance(found, Spec) else None


def declared(request: Request, name: str, kind: Kind) -> Param:
    """The running endpoint's declaration of `name`, which must be of `kind`."""
    endpoint = request.scope.get("endpoint")
    spec = spec_of(endpoint)
    param = spec.param(name) if spec else None
    label = getattr(endpoint, "__name__", repr(endpoint))
    if param is None:
        raise UndeclaredParameter(f"{label} reads ?{name}= but does not declare it")
    if param.kind != kind:
        raise UndeclaredParameter(f"{label} reads ?{name}= as {kind}, declared as {param.kind}")
    return param


def _missing(param: Param) -> ApiError:
    return ApiError(400, "FIELD_REQUIRED", param.missing or f"{param.name}= is required", param.name)


def _invalid(param: Param, default: str) -> ApiError:
    reason, message = param.invalid or ("INVALID_ARGUMENT", default)
    return ApiError(400, reason, message, param.name)


def string(request: Request, name: str) -> str:
    """?name= as text: the declared default (or "") when absent, checked against enum and pattern."""
    param = declared(request, name, "string")
    default = "" if param.default is None else str(param.default)
    value = request.query_params.get(name, default)
    if param.enum and value not in param.enum:
        raise _invalid(param, f"{name} must be one of {', '.join(param.enum)}")
    if param.pattern and not re.search(param.pattern, value):
        raise _invalid(param, f"{name} must match {param.pattern}")
    if param.required and not value:
        raise _missing(param)
    return value


def optional_integer(request: Request, name: str) -> int | None:
    """?name= as an integer within the declared limits; the declared default (maybe None) when absent."""
    param = declared(request, name, "integer")
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if param.required:
            raise _missing(param)
        return None if param.default is None else int(param.default)
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "INVALID_ARGUMENT", f"{name} must be an integer", name) from None
    lo, hi = param.limits()
    if not lo <= value <= hi:
        raise ApiError(400, "OUT_OF_RANGE", f"{name} must be in [{lo}, {hi}]", name)
    return value


def integer(request: Request, name: str) -> int:
    """`optional_integer` of a parameter declared with a default."""
    value = optional_integer(request, name)
    if value is None:
        raise UndeclaredParameter(f"?{name}= is read as always set but declares no default")
    return value


def boolean(request: Request, name: str) -> bool:
    """?name=true|1 or false|0 (absent: the declared default, else False); anything else is
    INVALID_ARGUMENT."""
    param = declared(request, name, "boolean")
    raw = request.query_params.get(name, "").lower()
    if raw not in ("", "0", "1", "true", "false"):
        raise ApiError(400, "INVALID_ARGUMENT", f"{name} must be true or false", name)
    return bool(param.default) if raw == "" else raw in ("1", "true")


def strings(request: Request, name: str) -> list[str]:
    """A repeated parameter (?k=a&k=b), empty values dropped; a required one needs at least one."""
    param = declared(request, name, "strings")
    values = [v for v in request.query_params.getlist(name) if v]
    if param.required and not values:
        raise _missing(param)
    return values


def paged(default: int, maximum: int) -> tuple[Param, Param]:
    """The declaration of a List endpoint's `page_size` (1..maximum, `default`) and `page_token`."""
    return (
        Param("page_size", "integer", "items per page", default=default, minimum=1, maximum=maximum),
        Param("page_token", "string", "the previous page's next_page_token; absent for the first page"),
    )


def page(request: Request) -> dict[str, Any]:
    """`page_size` and `page_token` from the query (as declared by `paged`), as request fields."""
    return {"page_size": integer(request, "page_size"), "page_token": string(request, "page_token")}


# JSON Schema helpers for the answers and bodies declared next to the endpoints.
STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
NUMBER: dict[str, Any] = {"type": ["number", "null"]}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
OBJECT: dict[str, Any] = {"type": "object"}
TOKEN: dict[str, Any] = {"type": "string", "description": "the next page's page_token; empty on the last"}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def obj(required: tuple[str, ...] | None = None, **properties: dict[str, Any]) -> dict[str, Any]:
    """An object with these properties; all of them are always present unless `required` says which."""
    return properties_object(properties, tuple(properties) if required is None else required)


def properties_object(properties: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


def listing(key: str, item: dict[str, Any] | None = None) -> dict[str, Any]:
    """One page of a List call: `{key: [item...], "next_page_token": ...}`."""
    return properties_object({key: array(item or OBJECT), "next_page_token": TOKEN}, (key, "next_page_token"))
