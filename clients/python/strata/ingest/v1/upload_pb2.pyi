from google.protobuf import timestamp_pb2 as _timestamp_pb2
from strata.common.v1 import blob_pb2 as _blob_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPLOAD_STATE_UNSPECIFIED: _ClassVar[UploadState]
    UPLOAD_STATE_OPEN: _ClassVar[UploadState]
    UPLOAD_STATE_COMMITTED: _ClassVar[UploadState]
    UPLOAD_STATE_ABORTED: _ClassVar[UploadState]
    UPLOAD_STATE_EXPIRED: _ClassVar[UploadState]
UPLOAD_STATE_UNSPECIFIED: UploadState
UPLOAD_STATE_OPEN: UploadState
UPLOAD_STATE_COMMITTED: UploadState
UPLOAD_STATE_ABORTED: UploadState
UPLOAD_STATE_EXPIRED: UploadState

class UploadSession(_message.Message):
    __slots__ = ("name", "expected_size", "expected_sha256", "committed_offset", "max_chunk_size", "state", "create_time", "expire_time", "blob")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHA256_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_OFFSET_FIELD_NUMBER: _ClassVar[int]
    MAX_CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    name: str
    expected_size: int
    expected_sha256: str
    committed_offset: int
    max_chunk_size: int
    state: UploadState
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    blob: _blob_pb2.BlobDigest
    def __init__(self, name: _Optional[str] = ..., expected_size: _Optional[int] = ..., expected_sha256: _Optional[str] = ..., committed_offset: _Optional[int] = ..., max_chunk_size: _Optional[int] = ..., state: _Optional[_Union[UploadState, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., blob: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ...) -> None: ...

class UploadChunk(_message.Message):
    __slots__ = ("offset", "data", "crc32c")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CRC32C_FIELD_NUMBER: _ClassVar[int]
    offset: int
    data: bytes
    crc32c: int
    def __init__(self, offset: _Optional[int] = ..., data: _Optional[bytes] = ..., crc32c: _Optional[int] = ...) -> None: ...

class RunFile(_message.Message):
    __slots__ = ("path", "blob", "create_time")
    PATH_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    path: str
    blob: _blob_pb2.BlobDigest
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, path: _Optional[str] = ..., blob: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ByteRange(_message.Message):
    __slots__ = ("offset", "length")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    offset: int
    length: int
    def __init__(self, offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class PossessionChallenge(_message.Message):
    __slots__ = ("digest", "nonce", "ranges", "expire_time")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    digest: _blob_pb2.BlobDigest
    nonce: bytes
    ranges: _containers.RepeatedCompositeFieldContainer[ByteRange]
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, digest: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ..., nonce: _Optional[bytes] = ..., ranges: _Optional[_Iterable[_Union[ByteRange, _Mapping]]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PossessionProof(_message.Message):
    __slots__ = ("digest", "nonce", "proof_sha256")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    PROOF_SHA256_FIELD_NUMBER: _ClassVar[int]
    digest: _blob_pb2.BlobDigest
    nonce: bytes
    proof_sha256: str
    def __init__(self, digest: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ..., nonce: _Optional[bytes] = ..., proof_sha256: _Optional[str] = ...) -> None: ...
