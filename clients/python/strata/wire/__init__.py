"""Grammars and wire codecs shared by the Strata client and the Strata server (stable, public API).

The server (`strata_server`) imports these modules instead of keeping its own copy, so a rule that
both sides check is defined once and cannot drift:

  metric_keys  the metric-key grammar: allowed characters, length, reserved names, per-run limit
               (checked by the SDK when a key is first logged, and by ingest and query on the server).
  paths        the path rule of run files and artifact manifests (length, characters, segments), and
               `printable`, the escaping every listing uses to show a stored path.
  transfer     hand-rolled protobuf wire codecs for the bulk-data messages of file transfers
               (UploadChunksRequest, ReadBlobResponse, ReadRunFileResponse): the same wire format as
               the generated classes, with fewer copies of the payload.
  fields       field-by-field conversion between messages and dataclasses: same-named fields are
               copied, only the ones that differ are spelled out (both directions, server and SDK).
  markdown     a report's Markdown blocks as safe HTML (no raw HTML, safe links only), the same in
               the HTML export and in the console's report page.

Changing any of them is a change to the protocol between clients and servers: keep them backwards
compatible.
"""
