"""The file formats of logged audio and video, told by their first bytes (never by a name a client
chose): the SDK records the format, the console serves the bytes with the matching content type, the
report export inlines them with it. Shared by the client and the server."""

from __future__ import annotations

# (format, content type) of audio files, by signature
AUDIO = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg", "flac": "audio/flac"}
VIDEO = {"mp4": "video/mp4", "webm": "video/webm", "ogg": "video/ogg", "gif": "image/gif"}


def sniff(head: bytes) -> str:
    """The format of audio or video bytes from their first 12 bytes: wav, mp3, ogg, flac, mp4, webm,
    gif, or "" when none matches."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:4] == b"GIF8":
        return "gif"
    return ""


def content_type(kind: str, head: bytes) -> str:
    """The content type to serve audio ("audio") or video ("video") bytes with;
    application/octet-stream when the bytes are not a format of that kind."""
    table = AUDIO if kind == "audio" else VIDEO if kind == "video" else {}
    return table.get(sniff(head), "application/octet-stream")
