from google.protobuf import timestamp_pb2 as _timestamp_pb2
from strata.common.v1 import actor_pb2 as _actor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_FINISHED: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]
    RUN_STATE_KILLED: _ClassVar[RunState]
    RUN_STATE_CRASHED: _ClassVar[RunState]

class ResumeMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESUME_MODE_UNSPECIFIED: _ClassVar[ResumeMode]
    RESUME_MODE_NEVER: _ClassVar[ResumeMode]
    RESUME_MODE_ALLOW: _ClassVar[ResumeMode]
    RESUME_MODE_MUST: _ClassVar[ResumeMode]
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_FINISHED: RunState
RUN_STATE_FAILED: RunState
RUN_STATE_KILLED: RunState
RUN_STATE_CRASHED: RunState
RESUME_MODE_UNSPECIFIED: ResumeMode
RESUME_MODE_NEVER: ResumeMode
RESUME_MODE_ALLOW: ResumeMode
RESUME_MODE_MUST: ResumeMode

class Run(_message.Message):
    __slots__ = ("name", "run_id", "display_name", "state", "job_type", "group", "tags", "notes", "config_json", "summary", "exit_code", "author", "provenance", "create_time", "update_time", "heartbeat_time", "finish_time", "allow_out_of_order_steps", "next_step", "point_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISH_TIME_FIELD_NUMBER: _ClassVar[int]
    ALLOW_OUT_OF_ORDER_STEPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEP_FIELD_NUMBER: _ClassVar[int]
    POINT_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    run_id: str
    display_name: str
    state: RunState
    job_type: str
    group: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    notes: str
    config_json: str
    summary: _containers.RepeatedCompositeFieldContainer[MetricSummary]
    exit_code: int
    author: _actor_pb2.Actor
    provenance: _actor_pb2.Provenance
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    heartbeat_time: _timestamp_pb2.Timestamp
    finish_time: _timestamp_pb2.Timestamp
    allow_out_of_order_steps: bool
    next_step: int
    point_count: int
    def __init__(self, name: _Optional[str] = ..., run_id: _Optional[str] = ..., display_name: _Optional[str] = ..., state: _Optional[_Union[RunState, str]] = ..., job_type: _Optional[str] = ..., group: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., notes: _Optional[str] = ..., config_json: _Optional[str] = ..., summary: _Optional[_Iterable[_Union[MetricSummary, _Mapping]]] = ..., exit_code: _Optional[int] = ..., author: _Optional[_Union[_actor_pb2.Actor, _Mapping]] = ..., provenance: _Optional[_Union[_actor_pb2.Provenance, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., heartbeat_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., finish_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., allow_out_of_order_steps: bool = ..., next_step: _Optional[int] = ..., point_count: _Optional[int] = ...) -> None: ...

class MetricSummary(_message.Message):
    __slots__ = ("key", "last", "last_step", "min", "min_step", "max", "max_step", "mean", "count", "finite_count", "override_json")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MIN_STEP_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MAX_STEP_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FINITE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_JSON_FIELD_NUMBER: _ClassVar[int]
    key: str
    last: float
    last_step: int
    min: float
    min_step: int
    max: float
    max_step: int
    mean: float
    count: int
    finite_count: int
    override_json: str
    def __init__(self, key: _Optional[str] = ..., last: _Optional[float] = ..., last_step: _Optional[int] = ..., min: _Optional[float] = ..., min_step: _Optional[int] = ..., max: _Optional[float] = ..., max_step: _Optional[int] = ..., mean: _Optional[float] = ..., count: _Optional[int] = ..., finite_count: _Optional[int] = ..., override_json: _Optional[str] = ...) -> None: ...
