"""The file formats of logged images, audio and video, told by their first bytes (never by a name a
client chose): the SDK records the format, the console serves the bytes with the matching content
type, the report export inlines them with it. Shared by the client and the server."""

from __future__ import annotations

# format -> content type, by kind
IMAGE = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
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


def sniff_image(head: bytes) -> str:
    """The format of image bytes from their first 1 KiB: png, jpeg, gif, webp, svg (by its root
    element), or "" when none matches."""
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] == b"GIF8":
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return "svg" if b"<svg" in head[:1024].lower() else ""


def content_type(kind: str, head: bytes) -> str:
    """The content type to serve an image ("image", from its first 1 KiB), audio ("audio") or video
    ("video") with; application/octet-stream when the bytes are not a format of that kind."""
    if kind == "image":
        return IMAGE.get(sniff_image(head), "application/octet-stream")
    table = AUDIO if kind == "audio" else VIDEO if kind == "video" else {}
    return table.get(sniff(head), "application/octet-stream")
