from google.protobuf import timestamp_pb2 as _timestamp_pb2
from strata.common.v1 import blob_pb2 as _blob_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MediaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_TYPE_UNSPECIFIED: _ClassVar[MediaType]
    MEDIA_TYPE_IMAGE: _ClassVar[MediaType]
    MEDIA_TYPE_PLOTLY: _ClassVar[MediaType]
    MEDIA_TYPE_HTML: _ClassVar[MediaType]
    MEDIA_TYPE_TABLE: _ClassVar[MediaType]
    MEDIA_TYPE_HISTOGRAM: _ClassVar[MediaType]
    MEDIA_TYPE_TEXT: _ClassVar[MediaType]
    MEDIA_TYPE_AUDIO: _ClassVar[MediaType]
    MEDIA_TYPE_VIDEO: _ClassVar[MediaType]
MEDIA_TYPE_UNSPECIFIED: MediaType
MEDIA_TYPE_IMAGE: MediaType
MEDIA_TYPE_PLOTLY: MediaType
MEDIA_TYPE_HTML: MediaType
MEDIA_TYPE_TABLE: MediaType
MEDIA_TYPE_HISTOGRAM: MediaType
MEDIA_TYPE_TEXT: MediaType
MEDIA_TYPE_AUDIO: MediaType
MEDIA_TYPE_VIDEO: MediaType

class MediaEntry(_message.Message):
    __slots__ = ("key", "step", "index", "type", "blob", "metadata_json", "create_time")
    KEY_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    key: str
    step: int
    index: int
    type: MediaType
    blob: _blob_pb2.BlobDigest
    metadata_json: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., step: _Optional[int] = ..., index: _Optional[int] = ..., type: _Optional[_Union[MediaType, str]] = ..., blob: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ..., metadata_json: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
