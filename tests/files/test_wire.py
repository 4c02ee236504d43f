"""The hand-rolled codecs of bulk transfer messages speak exactly protobuf's wire format, so generated
clients and servers in any language interoperate with them."""

from __future__ import annotations

import os

import pytest
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import upload_pb2
from strata.registry.v1 import registry_service_pb2 as rpb
from strata.wire import transfer as wire

OFFSETS = [0, 1, 127, 128, 300, 2**31, 2**40 + 7, -5]


@pytest.mark.parametrize("offset", OFFSETS)
def test_encoded_chunks_parse_as_the_generated_message(offset: int) -> None:
    data = os.urandom(777)
    got = pb.UploadChunksRequest.FromString(wire.encode_chunk(offset, data, 0xDEADBEEF))
    assert got == pb.UploadChunksRequest(
        chunk=upload_pb2.UploadChunk(offset=offset, data=data, crc32c=0xDEADBEEF)
    )


@pytest.mark.parametrize("offset", OFFSETS)
def test_generated_chunks_decode_to_the_same_fields(offset: int) -> None:
    data = os.urandom(1000)
    raw = pb.UploadChunksRequest(
        chunk=upload_pb2.UploadChunk(offset=offset, data=data, crc32c=42)
    ).SerializeToString()
    msg = wire.decode_upload_chunks_request(raw)
    assert msg.WhichOneof("kind") == "chunk"
    assert (msg.chunk.offset, bytes(msg.chunk.data), msg.chunk.crc32c) == (offset, data, 42)


def test_session_messages_round_trip_and_unknown_fields_are_skipped() -> None:
    name = "entities/e/projects/p/uploads/abc"
    assert pb.UploadChunksRequest.FromString(wire.encode_session(name)).session == name
    raw = pb.UploadChunksRequest(session=name).SerializeToString()
    unknown = (
        b"\x28\x96\x01" + b"\x31" + bytes(8) + b"\x3a\x02hi" + b"\x45" + bytes(4)
    )  # fields 5-8, all wire types
    msg = wire.decode_upload_chunks_request(unknown + raw)
    assert (msg.WhichOneof("kind"), msg.session) == ("session", name)
    assert wire.decode_upload_chunks_request(b"").WhichOneof("kind") is None


@pytest.mark.parametrize(
    "bad", [b"\x12\x05abc", b"\x08", b"\x0b", b"\x12\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"]
)
def test_truncated_or_malformed_input_is_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        wire.decode_upload_chunks_request(bad)


@pytest.mark.parametrize("offset", OFFSETS)
def test_read_responses_match_the_generated_messages_both_ways(offset: int) -> None:
    data = os.urandom(4096)
    assert rpb.ReadBlobResponse.FromString(wire.encode_read_response(offset, memoryview(data))) == (
        rpb.ReadBlobResponse(offset=offset, data=data)
    )
    got_offset, got = wire.decode_read_response(
        pb.ReadRunFileResponse(offset=offset, data=data).SerializeToString()
    )
    assert (got_offset, bytes(got)) == (offset, data)
