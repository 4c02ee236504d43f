from google.protobuf import field_mask_pb2 as _field_mask_pb2
from strata.common.v1 import actor_pb2 as _actor_pb2
from strata.common.v1 import blob_pb2 as _blob_pb2
from strata.ingest.v1 import media_pb2 as _media_pb2
from strata.ingest.v1 import metric_pb2 as _metric_pb2
from strata.ingest.v1 import run_pb2 as _run_pb2
from strata.ingest.v1 import upload_pb2 as _upload_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateRunRequest(_message.Message):
    __slots__ = ("parent", "run_id", "display_name", "job_type", "group", "tags", "notes", "config_json", "resume", "allow_out_of_order_steps", "provenance")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    ALLOW_OUT_OF_ORDER_STEPS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    run_id: str
    display_name: str
    job_type: str
    group: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    notes: str
    config_json: str
    resume: _run_pb2.ResumeMode
    allow_out_of_order_steps: bool
    provenance: _actor_pb2.Provenance
    def __init__(self, parent: _Optional[str] = ..., run_id: _Optional[str] = ..., display_name: _Optional[str] = ..., job_type: _Optional[str] = ..., group: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., notes: _Optional[str] = ..., config_json: _Optional[str] = ..., resume: _Optional[_Union[_run_pb2.ResumeMode, str]] = ..., allow_out_of_order_steps: bool = ..., provenance: _Optional[_Union[_actor_pb2.Provenance, _Mapping]] = ...) -> None: ...

class CreateRunResponse(_message.Message):
    __slots__ = ("run", "resumed")
    RUN_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    resumed: bool
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., resumed: bool = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class UpdateRunRequest(_message.Message):
    __slots__ = ("run", "update_mask")
    RUN_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class FinishRunRequest(_message.Message):
    __slots__ = ("name", "state", "exit_code")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: _run_pb2.RunState
    exit_code: int
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[_run_pb2.RunState, str]] = ..., exit_code: _Optional[int] = ...) -> None: ...

class FinishRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _run_pb2.Run
    def __init__(self, run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ...) -> None: ...

class DeleteRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteRunResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SendHeartbeatRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class SendHeartbeatResponse(_message.Message):
    __slots__ = ("should_stop",)
    SHOULD_STOP_FIELD_NUMBER: _ClassVar[int]
    should_stop: bool
    def __init__(self, should_stop: bool = ...) -> None: ...

class StreamOpen(_message.Message):
    __slots__ = ("run", "stream_id")
    RUN_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    run: str
    stream_id: str
    def __init__(self, run: _Optional[str] = ..., stream_id: _Optional[str] = ...) -> None: ...

class StreamOpened(_message.Message):
    __slots__ = ("committed_sequence", "next_step", "max_batch_points")
    COMMITTED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEP_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_POINTS_FIELD_NUMBER: _ClassVar[int]
    committed_sequence: int
    next_step: int
    max_batch_points: int
    def __init__(self, committed_sequence: _Optional[int] = ..., next_step: _Optional[int] = ..., max_batch_points: _Optional[int] = ...) -> None: ...

class StreamMetricsRequest(_message.Message):
    __slots__ = ("open", "batch")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    open: StreamOpen
    batch: _metric_pb2.MetricBatch
    def __init__(self, open: _Optional[_Union[StreamOpen, _Mapping]] = ..., batch: _Optional[_Union[_metric_pb2.MetricBatch, _Mapping]] = ...) -> None: ...

class StreamMetricsResponse(_message.Message):
    __slots__ = ("opened", "ack")
    OPENED_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    opened: StreamOpened
    ack: _metric_pb2.MetricAck
    def __init__(self, opened: _Optional[_Union[StreamOpened, _Mapping]] = ..., ack: _Optional[_Union[_metric_pb2.MetricAck, _Mapping]] = ...) -> None: ...

class FindMissingBlobsRequest(_message.Message):
    __slots__ = ("parent", "digests")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    digests: _containers.RepeatedCompositeFieldContainer[_blob_pb2.BlobDigest]
    def __init__(self, parent: _Optional[str] = ..., digests: _Optional[_Iterable[_Union[_blob_pb2.BlobDigest, _Mapping]]] = ...) -> None: ...

class FindMissingBlobsResponse(_message.Message):
    __slots__ = ("missing", "challenges")
    MISSING_FIELD_NUMBER: _ClassVar[int]
    CHALLENGES_FIELD_NUMBER: _ClassVar[int]
    missing: _containers.RepeatedCompositeFieldContainer[_blob_pb2.BlobDigest]
    challenges: _containers.RepeatedCompositeFieldContainer[_upload_pb2.PossessionChallenge]
    def __init__(self, missing: _Optional[_Iterable[_Union[_blob_pb2.BlobDigest, _Mapping]]] = ..., challenges: _Optional[_Iterable[_Union[_upload_pb2.PossessionChallenge, _Mapping]]] = ...) -> None: ...

class ProveBlobPossessionRequest(_message.Message):
    __slots__ = ("parent", "proofs")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PROOFS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    proofs: _containers.RepeatedCompositeFieldContainer[_upload_pb2.PossessionProof]
    def __init__(self, parent: _Optional[str] = ..., proofs: _Optional[_Iterable[_Union[_upload_pb2.PossessionProof, _Mapping]]] = ...) -> None: ...

class ProveBlobPossessionResponse(_message.Message):
    __slots__ = ("accepted", "rejected")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    accepted: _containers.RepeatedCompositeFieldContainer[_blob_pb2.BlobDigest]
    rejected: _containers.RepeatedCompositeFieldContainer[_blob_pb2.BlobDigest]
    def __init__(self, accepted: _Optional[_Iterable[_Union[_blob_pb2.BlobDigest, _Mapping]]] = ..., rejected: _Optional[_Iterable[_Union[_blob_pb2.BlobDigest, _Mapping]]] = ...) -> None: ...

class BlobContent(_message.Message):
    __slots__ = ("digest", "data")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    digest: _blob_pb2.BlobDigest
    data: bytes
    def __init__(self, digest: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class BatchUploadBlobsRequest(_message.Message):
    __slots__ = ("parent", "blobs")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    BLOBS_FIELD_NUMBER: _ClassVar[int]
    parent: str
    blobs: _containers.RepeatedCompositeFieldContainer[BlobContent]
    def __init__(self, parent: _Optional[str] = ..., blobs: _Optional[_Iterable[_Union[BlobContent, _Mapping]]] = ...) -> None: ...

class BatchUploadBlobsResponse(_message.Message):
    __slots__ = ("stored",)
    STORED_FIELD_NUMBER: _ClassVar[int]
    stored: _containers.RepeatedCompositeFieldContainer[_blob_pb2.BlobDigest]
    def __init__(self, stored: _Optional[_Iterable[_Union[_blob_pb2.BlobDigest, _Mapping]]] = ...) -> None: ...

class CreateUploadSessionRequest(_message.Message):
    __slots__ = ("parent", "expected_size", "expected_sha256")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHA256_FIELD_NUMBER: _ClassVar[int]
    parent: str
    expected_size: int
    expected_sha256: str
    def __init__(self, parent: _Optional[str] = ..., expected_size: _Optional[int] = ..., expected_sha256: _Optional[str] = ...) -> None: ...

class CreateUploadSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _upload_pb2.UploadSession
    def __init__(self, session: _Optional[_Union[_upload_pb2.UploadSession, _Mapping]] = ...) -> None: ...

class GetUploadSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetUploadSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _upload_pb2.UploadSession
    def __init__(self, session: _Optional[_Union[_upload_pb2.UploadSession, _Mapping]] = ...) -> None: ...

class UploadChunksRequest(_message.Message):
    __slots__ = ("session", "chunk")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    session: str
    chunk: _upload_pb2.UploadChunk
    def __init__(self, session: _Optional[str] = ..., chunk: _Optional[_Union[_upload_pb2.UploadChunk, _Mapping]] = ...) -> None: ...

class UploadChunksResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _upload_pb2.UploadSession
    def __init__(self, session: _Optional[_Union[_upload_pb2.UploadSession, _Mapping]] = ...) -> None: ...

class CommitUploadRequest(_message.Message):
    __slots__ = ("name", "sha256")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    name: str
    sha256: str
    def __init__(self, name: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class CommitUploadResponse(_message.Message):
    __slots__ = ("session", "blob")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    session: _upload_pb2.UploadSession
    blob: _blob_pb2.BlobDigest
    def __init__(self, session: _Optional[_Union[_upload_pb2.UploadSession, _Mapping]] = ..., blob: _Optional[_Union[_blob_pb2.BlobDigest, _Mapping]] = ...) -> None: ...

class AbortUploadRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class AbortUploadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddRunFilesRequest(_message.Message):
    __slots__ = ("run", "files")
    RUN_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    run: str
    files: _containers.RepeatedCompositeFieldContainer[_upload_pb2.RunFile]
    def __init__(self, run: _Optional[str] = ..., files: _Optional[_Iterable[_Union[_upload_pb2.RunFile, _Mapping]]] = ...) -> None: ...

class AddRunFilesResponse(_message.Message):
    __slots__ = ("files",)
    FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[_upload_pb2.RunFile]
    def __init__(self, files: _Optional[_Iterable[_Union[_upload_pb2.RunFile, _Mapping]]] = ...) -> None: ...

class ListRunFilesRequest(_message.Message):
    __slots__ = ("run", "page_size", "page_token")
    RUN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run: str
    page_size: int
    page_token: str
    def __init__(self, run: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunFilesResponse(_message.Message):
    __slots__ = ("files", "next_page_token")
    FILES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[_upload_pb2.RunFile]
    next_page_token: str
    def __init__(self, files: _Optional[_Iterable[_Union[_upload_pb2.RunFile, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReadRunFileRequest(_message.Message):
    __slots__ = ("run", "path", "offset", "length")
    RUN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    run: str
    path: str
    offset: int
    length: int
    def __init__(self, run: _Optional[str] = ..., path: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class ReadRunFileResponse(_message.Message):
    __slots__ = ("offset", "data")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    offset: int
    data: bytes
    def __init__(self, offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class AddMediaEntriesRequest(_message.Message):
    __slots__ = ("run", "entries")
    RUN_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    run: str
    entries: _containers.RepeatedCompositeFieldContainer[_media_pb2.MediaEntry]
    def __init__(self, run: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[_media_pb2.MediaEntry, _Mapping]]] = ...) -> None: ...

class AddMediaEntriesResponse(_message.Message):
    __slots__ = ("added",)
    ADDED_FIELD_NUMBER: _ClassVar[int]
    added: int
    def __init__(self, added: _Optional[int] = ...) -> None: ...
