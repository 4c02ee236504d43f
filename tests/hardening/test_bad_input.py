# --- found by the fuzzer ---


def test_an_error_quoting_huge_input_is_still_delivered(srv, c) -> None:  # type: ignore[no-untyped-def]
    """A status quoting a 5,000-character name must fit the client's metadata limit (8 KiB) and keep its
    ErrorInfo; a client would otherwise see RESOURCE_EXHAUSTED without details."""
    for name in ["é" * 5000, "x" * 70_000]:
        with pytest.raises(Exception) as e:
            c.iam.GetProject(iam.GetProjectRequest(name=name))
        assert e.value.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)  # type: ignore[attr-defined]
        assert e.value.reason  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("seconds", "nanos"), [(2**62, 0), (-(2**62), 0), (10**12, 0), (1, -5), (0, 2_000_000_000)]
)
def test_durations_out_of_range(srv, c, seconds, nanos) -> None:  # type: ignore[no-untyped-def]
    from google.protobuf import duration_pb2

    ttl = duration_pb2.Duration(seconds=seconds, nanos=nanos)
    project = iam_pb2.Project(name=PARENT, default_ttl=ttl)
    req = iam.UpdateProjectRequest(
        project=project, update_mask=field_mask_pb2.FieldMask(paths=["default_ttl"])
    )
    refused(srv, lambda: c.iam.UpdateProject(req), "project.default_ttl", Reason.OUT_OF_RANGE)


@pytest.mark.parametrize(("seconds", "nanos"), [(2**62, 0), (-(2**40), 0), (253_402_300_800, 0), (0, -1)])
def test_timestamps_out_of_range(srv, c, seconds, nanos) -> None:  # type: ignore[no-untyped-def]
    from google.protobuf import timestamp_pb2

    when = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    refused(
        srv,
        lambda: c.iam.CreateApiKey(iam.CreateApiKeyRequest(expire_time=when)),
        "expire_time",
        Reason.OUT_OF_RANGE,
    )
    audit = iam.ListAuditEventsRequest(filter=iam.AuditFilter(start_time=when))
    refused(srv, lambda: c.iam.ListAuditEvents(audit), "start_time", Reason.OUT_OF_RANGE)
