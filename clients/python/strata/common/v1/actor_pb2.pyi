from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ActorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTOR_KIND_UNSPECIFIED: _ClassVar[ActorKind]
    ACTOR_KIND_USER: _ClassVar[ActorKind]
    ACTOR_KIND_SERVICE_ACCOUNT: _ClassVar[ActorKind]
    ACTOR_KIND_SYSTEM: _ClassVar[ActorKind]
    ACTOR_KIND_LOCAL: _ClassVar[ActorKind]
ACTOR_KIND_UNSPECIFIED: ActorKind
ACTOR_KIND_USER: ActorKind
ACTOR_KIND_SERVICE_ACCOUNT: ActorKind
ACTOR_KIND_SYSTEM: ActorKind
ACTOR_KIND_LOCAL: ActorKind

class Actor(_message.Message):
    __slots__ = ("name", "kind")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ActorKind
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ActorKind, str]] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("os_user", "hostname", "git_commit", "git_dirty", "git_remote", "command", "runtime")
    OS_USER_FIELD_NUMBER: _ClassVar[int]
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    GIT_COMMIT_FIELD_NUMBER: _ClassVar[int]
    GIT_DIRTY_FIELD_NUMBER: _ClassVar[int]
    GIT_REMOTE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_FIELD_NUMBER: _ClassVar[int]
    os_user: str
    hostname: str
    git_commit: str
    git_dirty: bool
    git_remote: str
    command: _containers.RepeatedScalarFieldContainer[str]
    runtime: str
    def __init__(self, os_user: _Optional[str] = ..., hostname: _Optional[str] = ..., git_commit: _Optional[str] = ..., git_dirty: bool = ..., git_remote: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., runtime: _Optional[str] = ...) -> None: ...
