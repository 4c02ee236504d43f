"""RPCs whose behaviour belongs to a later piece of work answer UNIMPLEMENTED (reason NOT_IMPLEMENTED)
with a message naming what is missing: never fake data."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import ServiceDescriptor

from .errors import Unimplemented


def fill_pending(descriptor: ServiceDescriptor, note: str):  # type: ignore[no-untyped-def]
    """Class decorator: every RPC of `descriptor` the class does not define raises Unimplemented."""

    def decorate(cls: type) -> type:
        for method in descriptor.methods:
            if not _defined(cls, method.name):
                setattr(cls, method.name, _pending(f"{descriptor.full_name}/{method.name}", note))
        return cls

    return decorate


def _defined(cls: type, name: str) -> bool:
    """Defined by the class or a mixin of it (not by the generated *Servicer base, which aborts)."""
    return any(name in klass.__dict__ for klass in cls.__mro__ if not klass.__module__.endswith("_pb2_grpc"))


def _pending(rpc: str, note: str):  # type: ignore[no-untyped-def]
    async def handler(self: Any, request: Any, context: Any) -> Any:
        raise Unimplemented(rpc, note)

    handler.__name__ = rpc.rsplit("/", 1)[-1]
    return handler
