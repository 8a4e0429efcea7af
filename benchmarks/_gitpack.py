"""Git objects written straight into one pack file, for histories of 100,000+ commits.

Why not ``git fast-import``: for every commit it re-sorts, re-serialises, hashes
and delta-searches each tree on the changed path, so a commit under a
``models/`` folder of 10,000 entries costs it several milliseconds of C, and
the 230,000 commits of a 100,000-version history took over half an hour (0.8 ms
a commit at 1,000 models, growing with the folder). Here the one large tree is
never rebuilt: :class:`SortedTree` hashes each new version from slices of a
snapshot plus the few changed entries, and stores it as a delta against that
snapshot made from the same slices (no delta search). Snapshots come in levels
(a full copy every 16,384 writes, then deltas of deltas), so no delta chain is
longer than four and the pack stays small. What is left per commit is SHA-1
over the tree's bytes, which git's content addressing makes unavoidable.

Every other object (blobs, small trees, commits) is written whole and
zlib-compressed. :meth:`PackWriter.finish` writes the pack's trailer and its
version-2 index, so git reads the result as it reads any pack.

Example:
    >>> pack = PackWriter(Path(".git"))  # doctest: +SKIP
    >>> blob = pack.add(BLOB, b"hello\\n")  # doctest: +SKIP
    >>> tree = pack.add(TREE, entry(FILE_MODE, b"a.txt", blob))  # doctest: +SKIP
    >>> pack.finish()  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

COMMIT, TREE, BLOB = 1, 2, 3
_OFS_DELTA = 6
_TYPE_NAMES = {COMMIT: b"commit", TREE: b"tree", BLOB: b"blob"}
FILE_MODE, DIR_MODE = b"100644", b"40000"
# zlib level 1: level 6 costs 3x the time for a few per cent of size on records this
# small. Trees and deltas (mostly object ids, which do not compress) are stored
# uncompressed in a zlib frame: setting up a compressor costs ~20 us an object.
_LEVEL = 1


def entry(mode: bytes, name: bytes, sha: bytes) -> bytes:
    """One tree entry in git's binary form (``MODE NAME\\0`` + 20-byte id)."""
    return mode + b" " + name + b"\0" + sha


def sort_key(name: bytes, *, folder: bool) -> bytes:
    """Git's tree order: a folder sorts as if its name ended with ``/``."""
    return name + b"/" if folder else name


def small_tree(entries: dict[bytes, bytes]) -> bytes:
    """A tree's content from ``sort_key -> entry``."""
    return b"".join(entries[key] for key in sorted(entries))


def commit_bytes(
    tree: bytes, parents: list[bytes], author: bytes, committer: bytes, message: bytes
) -> bytes:
    """A commit object's content, as ``git commit`` or fast-import writes it."""
    head = [b"tree " + tree.hex().encode()]
    head += [b"parent " + parent.hex().encode() for parent in parents]
    head += [b"author " + author, b"committer " + committer]
    return b"\n".join(head) + b"\n\n" + message


class PackWriter:
    """Appends objects to one pack under ``GIT_DIR/objects/pack``; :meth:`finish` indexes it.

    Objects are deduplicated by id, so writing the same content twice is free.
    Memory is about 100 bytes an object (its id, offset and CRC), kept for the index.
    """

    def __init__(self, git_dir: Path) -> None:
        self._dir = git_dir / "objects" / "pack"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._path = self._dir / "tmp_generated.pack"
        self._file: BinaryIO = open(self._path, "wb")  # noqa: SIM115 - closed in finish()
        self._file.write(b"PACK" + struct.pack(">II", 2, 0))
        self._offset = 12
        self._shas: list[bytes] = []
        self._offsets = array("Q")
        self._crcs = array("I")
        self._seen: set[bytes] = set()

    @property
    def objects(self) -> int:
        return len(self._shas)

    def add(self, kind: int, data: bytes) -> bytes:
        """Store ``data`` as a whole object of ``kind``; its 20-byte id."""
        digest = hashlib.sha1(b"%s %d\0" % (_TYPE_NAMES[kind], len(data)))
        digest.update(data)
        sha = digest.digest()
        if sha not in self._seen:
            body = _stored(data) if kind == TREE else zlib.compress(data, _LEVEL)
            self._append(sha, _entry_header(kind, len(data)), body)
        return sha

    def add_full(self, kind: int, data: bytes) -> tuple[bytes, int]:
        """Like :meth:`add`, also giving the object's offset (a delta base)."""
        sha = self.add(kind, data)
        return sha, self.offset_of(sha)

    def add_delta(self, sha: bytes, base_offset: int, delta: bytes) -> int:
        """Store the object ``sha`` as ``delta`` against the object at ``base_offset``."""
        if sha in self._seen:
            return self.offset_of(sha)
        header = _entry_header(_OFS_DELTA, len(delta)) + _ofs(self._offset - base_offset)
        return self._append(sha, header, _stored(delta))

    def offset_of(self, sha: bytes) -> int:
        # Rare (only for duplicated delta bases), so a scan from the end is fine.
        for index in range(len(self._shas) - 1, -1, -1):
            if self._shas[index] == sha:
                return self._offsets[index]
        raise KeyError(sha.hex())

    def _append(self, sha: bytes, header: bytes, body: bytes) -> int:
        offset = self._offset
        self._file.write(header)
        self._file.write(body)
        self._crcs.append(zlib.crc32(body, zlib.crc32(header)))
        self._shas.append(sha)
        self._offsets.append(offset)
        self._seen.add(sha)
        self._offset += len(header) + len(body)
        return offset

    def finish(self) -> Path:
        """Write the trailer and the index, and move both into place; the pack's path."""
        self._seen.clear()
        self._file.seek(8)
        self._file.write(struct.pack(">I", len(self._shas)))
        self._file.close()
        digest = hashlib.sha1()
        with open(self._path, "rb") as pack:
            while chunk := pack.read(1 << 22):
                digest.update(chunk)
        pack_sha = digest.digest()
        with open(self._path, "ab") as pack:
            pack.write(pack_sha)
        name = f"pack-{pack_sha.hex()}"
        index = self._dir / f"{name}.idx"
        self._write_index(self._dir / "tmp_generated.idx", pack_sha)
        final = self._dir / f"{name}.pack"
        self._path.rename(final)
        (self._dir / "tmp_generated.idx").rename(index)
        return final

    def _write_index(self, path: Path, pack_sha: bytes) -> None:
        shas, offsets, crcs = self._shas, self._offsets, self._crcs
        order = sorted(range(len(shas)), key=shas.__getitem__)
        fanout = [0] * 256
        for sha in shas:
            fanout[sha[0]] += 1
        digest = hashlib.sha1()
        with open(path, "wb") as out:

            def write(data: bytes) -> None:
                digest.update(data)
                out.write(data)

            write(b"\377tOc" + struct.pack(">I", 2))
            write(struct.pack(">256I", *accumulate(fanout)))
            write(b"".join(shas[i] for i in order))
            write(struct.pack(f">{len(order)}I", *(crcs[i] for i in order)))
            large: list[int] = []
            small: list[int] = []
            for i in order:
                if offsets[i] < 0x8000_0000:
                    small.append(offsets[i])
                else:
                    small.append(0x8000_0000 | len(large))
                    large.append(offsets[i])
            write(struct.pack(f">{len(small)}I", *small))
            write(struct.pack(f">{len(large)}Q", *large))
            write(pack_sha)
            out.write(digest.digest())


@dataclass(frozen=True)
class _Snapshot:
    """One stored version of a :class:`SortedTree`, with what slicing it needs."""

    keys: list[bytes]  # sort keys, in order
    offsets: array[int]  # byte offset of entry i; offsets[-1] is the size
    view: memoryview  # the content
    pack_offset: int  # where it is in the pack (a delta base)


class SortedTree:
    """A tree too large to rebuild per commit (``models/`` of a big registry).

    :meth:`set` changes an entry; :meth:`write` stores the current content and
    gives its id. A write is a delta against the latest snapshot, holding only
    the entries changed since it; every ``LEVELS[i]``-th write becomes a
    snapshot of level ``i`` (level 0 stored whole, level ``i`` as a delta
    against level ``i - 1``), so deltas stay small and chains stay short.
    """

    LEVELS = (16_384, 2_048, 256, 32)

    def __init__(self, pack: PackWriter) -> None:
        self._pack = pack
        self._keys: list[bytes] = []
        self._entries: list[bytes] = []
        self._snapshots: list[_Snapshot | None] = [None] * len(self.LEVELS)
        # Keys changed since each level's snapshot (a dict keeps them unique and cheap).
        self._changed: list[dict[bytes, None]] = [{} for _ in self.LEVELS]
        self._writes = 0

    def get(self, key: bytes) -> bytes | None:
        """The current entry for ``key``, or None."""
        index = bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            return self._entries[index]
        return None

    def set(self, key: bytes, value: bytes) -> bytes | None:
        """Put ``value`` (a whole entry) under ``key``; the entry it replaced, or None."""
        keys, entries = self._keys, self._entries
        index = bisect_left(keys, key)
        old = None
        if index < len(keys) and keys[index] == key:
            old = entries[index]
            entries[index] = value
        else:
            keys.insert(index, key)
            entries.insert(index, value)
        for changed in self._changed:
            changed[key] = None
        return old

    def write(self) -> bytes:
        """Store the current content; its id."""
        count = self._writes
        self._writes += 1
        level = next((i for i, every in enumerate(self.LEVELS) if count % every == 0), None)
        if level is None:
            return self.write_with({})
        content = b"".join(self._entries)
        if level == 0 or self._snapshots[level - 1] is None:
            level = 0
            sha, offset = self._pack.add_full(TREE, content)
        else:
            base = self._snapshots[level - 1]
            assert base is not None
            sha, delta = _against(base, self._overrides(self._changed[level - 1], {}))
            offset = self._pack.add_delta(sha, base.pack_offset, delta)
        snapshot = _Snapshot(
            list(self._keys),
            array("Q", accumulate(map(len, self._entries), initial=0)),
            memoryview(content),
            offset,
        )
        for lower in range(level, len(self.LEVELS)):
            self._snapshots[lower] = snapshot
            self._changed[lower] = {}
        return sha

    def write_with(self, overrides: dict[bytes, bytes | None]) -> bytes:
        """Store the current content changed by ``overrides`` (None removes); its id.

        This is how an older state is written without rebuilding it: the
        caller passes the entries that differed then.
        """
        base = self._snapshots[-1]
        assert base is not None, "write() first"
        sha, delta = _against(base, self._overrides(self._changed[-1], overrides))
        self._pack.add_delta(sha, base.pack_offset, delta)
        return sha

    def _overrides(
        self, changed: dict[bytes, None], extra: dict[bytes, bytes | None]
    ) -> dict[bytes, bytes | None]:
        result: dict[bytes, bytes | None] = {key: self.get(key) for key in changed}
        result.update(extra)
        return result


def _against(base: _Snapshot, overrides: dict[bytes, bytes | None]) -> tuple[bytes, bytes]:
    """The id of ``base`` with ``overrides`` applied, and the git delta that makes it."""
    keys, offsets = base.keys, base.offsets
    size = offsets[-1]
    parts: list[tuple[int, int] | bytes] = []
    position = 0
    for key in sorted(overrides):
        index = bisect_left(keys, key)
        start = offsets[index]
        if start > position:
            parts.append((position, start))
        value = overrides[key]
        if value is not None:
            parts.append(value)
        position = offsets[index + 1] if index < len(keys) and keys[index] == key else start
    if position < size:
        parts.append((position, size))
    total = sum(p[1] - p[0] if isinstance(p, tuple) else len(p) for p in parts)
    assert total, "git reads no delta shorter than 4 bytes: an empty tree cannot be one"
    digest = hashlib.sha1(b"tree %d\0" % total)
    delta = bytearray(_varint(size) + _varint(total))
    view = base.view
    for part in parts:
        if isinstance(part, tuple):
            digest.update(view[part[0] : part[1]])
            _copy(delta, part[0], part[1] - part[0])
        else:
            digest.update(part)
            for at in range(0, len(part), 127):
                chunk = part[at : at + 127]
                delta.append(len(chunk))
                delta += chunk
    return digest.digest(), bytes(delta)


def _copy(delta: bytearray, offset: int, size: int) -> None:
    """Append git delta copy instructions for ``size`` bytes of the base at ``offset``.

    Every offset and size byte is given (flags 0xFF), zero or not: git reads a
    flagged zero byte as zero, and one fixed form is cheaper to build here.
    """
    while size:
        chunk = min(size, 0xFF_FFFF)
        delta.append(0xFF)
        delta += offset.to_bytes(4, "little") + chunk.to_bytes(3, "little")
        offset += chunk
        size -= chunk


def _stored(data: bytes) -> bytes:
    """``data`` as a zlib stream of stored (uncompressed) deflate blocks."""
    out = bytearray(b"\x78\x01")
    for at in range(0, max(len(data), 1), 0xFFFF):
        block = data[at : at + 0xFFFF]
        final = at + 0xFFFF >= len(data)
        out.append(1 if final else 0)
        out += struct.pack("<HH", len(block), len(block) ^ 0xFFFF)
        out += block
    out += struct.pack(">I", zlib.adler32(data))
    return bytes(out)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _entry_header(kind: int, size: int) -> bytes:
    out = bytearray()
    byte = (kind << 4) | (size & 0x0F)
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def _ofs(distance: int) -> bytes:
    """An OFS_DELTA's distance back to its base, in git's offset encoding."""
    out = bytearray([distance & 0x7F])
    distance >>= 7
    while distance:
        distance -= 1
        out.insert(0, 0x80 | (distance & 0x7F))
        distance >>= 7
    return bytes(out)
