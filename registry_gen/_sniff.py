"""What an artifact's bytes are, from their first bytes: a record's format must match them.

The loader picks a deserialiser by the format ``version.yaml`` names, so a
record could name a safe format for unsafe bytes (a pickle recorded as
``skops``, ``onnx`` or ``safetensors``) and hope a library falls back to
unpickling. Each format's loader therefore accepts only the kinds of content it
reads; anything else is refused before the library sees it.

=============  ==========================================================
kind           recognised by
=============  ==========================================================
zip            ``PK\\x03\\x04`` (skops; PyTorch's default ``torch.save``)
pickle         ``\\x80`` then a protocol byte 2-5
compressed     zlib, gzip, bz2, xz, lzma, lz4 magic (joblib's compressors)
safetensors    an 8-byte little-endian header length, then ``{``
protobuf       a first byte that is an ONNX ``ModelProto`` field tag
=============  ==========================================================

Example:
    >>> content_kind(b"PK\\x03\\x04rest", 100)
    'zip'
    >>> content_kind(b"\\x80\\x05\\x95", 100)
    'pickle'
"""

from __future__ import annotations

__all__ = ["ACCEPTED", "HEAD_BYTES", "content_kind"]

HEAD_BYTES = 16

_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "compressed"),  # gzip
    (b"BZh", "compressed"),
    (b"\xfd7zXZ\x00", "compressed"),
    (b"\x04\x22\x4d\x18", "compressed"),  # lz4 frame
    (b"\x5d\x00\x00", "compressed"),  # lzma alone
)
# ModelProto field tags (field << 3 | wire type): ir_version, producer_name,
# producer_version, domain, model_version, doc_string, graph, opset_import,
# metadata_props, training_info, functions.
_ONNX_FIRST = frozenset(b"\x08\x12\x1a\x22\x28\x32\x3a\x42\x72\xa2\xca")

# The kinds of content each format's loader reads.
ACCEPTED: dict[str, frozenset[str]] = {
    "skops": frozenset({"zip"}),
    "pickle": frozenset({"pickle"}),
    "joblib": frozenset({"pickle", "compressed"}),
    "pytorch": frozenset({"zip", "pickle"}),  # torch.load(weights_only=True) reads both
    "safetensors": frozenset({"safetensors"}),
    "onnx": frozenset({"protobuf"}),
}


def content_kind(head: bytes, size: int) -> str:
    """The kind of a file whose first bytes are ``head`` and whose size is ``size``.

    >>> content_kind(b"\\x08\\x07\\x12\\x08skl2onnx", 300)
    'protobuf'
    >>> content_kind(b"hello", 5)
    'unknown'
    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if head[:1] == b"x" and len(head) >= 2 and (head[0] * 256 + head[1]) % 31 == 0:
        return "compressed"  # zlib
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") <= size - 8:
        return "safetensors"
    if head[:1] and head[0] in _ONNX_FIRST:
        return "protobuf"
    return "unknown"
