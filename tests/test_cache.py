"""The content-addressed artifact cache: verification, atomic publication, locking, pruning."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from registry_gen._cache_guard import UnsafeCache
from registry_gen.cache import ArtifactCache, default_cache_dir, parse_manifest
from registry_gen.errors import ArtifactError, HashMismatch, UsageError


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def put(cache: ArtifactCache, data: bytes, uri: str = "models:/m/1") -> Path:
    digest = md5(data)
    with cache.writer(digest) as writer:
        tmp = cache.temp_path(digest)
        tmp.write_bytes(data)
        return writer.publish_file(tmp, {"uri": uri})


def manifest_for(files: dict[str, bytes]) -> tuple[bytes, str]:
    entries = [{"md5": md5(data), "relpath": rel} for rel, data in sorted(files.items())]
    raw = json.dumps(entries).encode()
    return raw, md5(raw) + ".dir"


def test_the_cache_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REGISTRY_GEN_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("REGISTRY_GEN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "registry-gen"


def test_publish_get_and_private_permissions(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    path = put(cache, b"model bytes")

    assert cache.get(md5(b"model bytes")) == path
    assert path.read_bytes() == b"model bytes"
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
    [entry] = cache.list_entries()
    assert (entry.md5, entry.size, entry.info["uri"]) == (md5(b"model bytes"), 11, "models:/m/1")


def test_wrong_bytes_are_never_published(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    digest = md5(b"expected")
    with cache.writer(digest) as writer:
        tmp = cache.temp_path(digest)
        tmp.write_bytes(b"something else")
        with pytest.raises(HashMismatch, match="Nothing was cached"):
            writer.publish_file(tmp, {})
    assert not tmp.exists()
    assert cache.get(digest) is None
    assert cache.list_entries() == []


def test_a_tampered_entry_is_deleted_on_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    path = put(cache, b"good")
    path.write_bytes(b"evil")

    assert cache.get(md5(b"good")) is None
    assert "corrupt" in caplog.text
    assert not path.exists()
    assert cache.list_entries() == []


def test_a_symlink_in_place_of_an_entry_is_refused(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    path = put(cache, b"good")
    outside = tmp_path / "outside"
    outside.write_bytes(b"good")
    path.unlink()
    path.symlink_to(outside)

    with pytest.raises(HashMismatch, match="not a regular file"):
        cache.verify(md5(b"good"))
    # Issue 10 (9): a symlinked entry is refused with a clear error, never followed.
    with pytest.raises(UnsafeCache, match="is a symlink"):
        cache.get(md5(b"good"))
    assert outside.exists()


def test_folder_entries_are_verified_file_by_file(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    files = {"model.onnx": b"graph", "sub/weights.bin": b"weights"}
    raw, digest = manifest_for(files)
    with cache.writer(digest) as writer:
        tmp = cache.temp_path(digest)
        for rel, data in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        path = writer.publish_dir(tmp, raw, {})
    assert cache.get(digest) == path

    (path / "extra.txt").write_bytes(b"planted")
    assert cache.get(digest) is None  # an unexpected file fails verification
    assert not path.exists()


def test_a_folder_with_a_wrong_file_is_not_published(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    raw, digest = manifest_for({"a.bin": b"right"})
    with cache.writer(digest) as writer:
        tmp = cache.temp_path(digest)
        tmp.mkdir()
        (tmp / "a.bin").write_bytes(b"wrong")
        with pytest.raises(HashMismatch, match=r"'a\.bin'"):
            writer.publish_dir(tmp, raw, {})
    assert not tmp.exists()
    assert cache.get(digest) is None


@pytest.mark.parametrize("relpath", ["../escape", "/etc/passwd", "a/../../b", "", "a\\..\\b"])
def test_manifests_with_unsafe_paths_are_refused(relpath: str) -> None:
    raw = json.dumps([{"md5": md5(b"x"), "relpath": relpath}]).encode()
    with pytest.raises(ArtifactError, match=r"unsafe path|malformed"):
        parse_manifest(raw, md5(raw) + ".dir")


def test_a_manifest_that_does_not_match_its_md5(tmp_path: Path) -> None:
    raw, _ = manifest_for({"a": b"a"})
    with pytest.raises(HashMismatch):
        parse_manifest(raw, md5(b"other") + ".dir")


def test_md5s_are_validated_before_they_become_paths(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    for bad in ["../../etc/passwd", "ABCDEF" * 6, "0" * 31, "0" * 32 + "/x"]:
        with pytest.raises(UsageError):
            cache.path_for(bad)


def test_the_writer_lock_serialises_two_writers(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    data = b"shared artifact"
    digest = md5(data)
    order: list[str] = []

    def first() -> None:
        with cache.writer(digest) as writer:
            order.append("first in")
            time.sleep(0.3)
            tmp = cache.temp_path(digest)
            tmp.write_bytes(data)
            writer.publish_file(tmp, {})
            order.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    while not order:
        time.sleep(0.01)
    with cache.writer(digest) as writer:
        order.append("second in")
        assert writer.entry is not None  # the second writer finds the finished entry
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_leftover_partial_downloads_are_removed_under_the_lock(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    digest = md5(b"data")
    leftover = cache.temp_path(digest)
    leftover.write_bytes(b"da")  # a download killed halfway
    with cache.writer(digest) as writer:
        assert writer.entry is None
        assert not leftover.exists()


def test_prune_by_age_and_by_size(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    old = put(cache, b"o" * 100, "models:/m/1")
    middle = put(cache, b"m" * 200, "models:/m/2")
    new = put(cache, b"n" * 300, "models:/m/3")
    now = time.time()
    os.utime(old, (now - 40 * 86400, now - 40 * 86400))
    os.utime(middle, (now - 10 * 86400, now - 10 * 86400))

    assert [e.info["uri"] for e in cache.list_entries()] == [
        "models:/m/3",
        "models:/m/2",
        "models:/m/1",
    ]
    doomed = cache.prune(older_than_days=30, dry_run=True)
    assert [e.path for e in doomed] == [old]
    assert old.exists()

    assert [e.path for e in cache.prune(older_than_days=30)] == [old]
    assert not old.exists()
    assert [e.path for e in cache.prune(keep_bytes=400)] == [middle]
    assert [e.path for e in cache.list_entries()] == [new]
    with pytest.raises(UsageError):
        cache.prune()


def test_using_an_entry_marks_it_recently_used(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    path = put(cache, b"x")
    past = time.time() - 100 * 86400
    os.utime(path, (past, past))
    cache.get(md5(b"x"))
    assert cache.prune(older_than_days=30) == []


def test_check_md5_is_strict() -> None:
    from registry_gen.cache import check_md5

    for good in ["d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e.dir"]:
        assert check_md5(good) == good
    for bad in [
        "D41D8CD98F00B204E9800998ECF8427E",
        "d41d8cd98f00b204",
        "../etc",
        "",
        "d41d8cd98f00b204e9800998ecf8427e.dirx",
        "d41d8cd98f00b204e9800998ecf8427e\n",
    ]:
        with pytest.raises(UsageError):
            check_md5(bad)


KEY = "0123456789abcdef0123456789abcdef"


def test_object_cache_round_trip_with_a_private_pickle_and_its_sidecar(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    entry = put(cache, b"artifact bytes")
    digest = md5(b"artifact bytes")
    assert cache.get_object(digest, KEY) is None

    pickled = cache.put_object(digest, KEY, {"weights": [1, 2, 3]}, {"uri": "models:/m/1"})
    assert pickled is not None and pickled.parent == entry.parent
    assert stat.S_IMODE(pickled.stat().st_mode) == 0o600
    sidecar = json.loads(pickled.with_name(pickled.name + ".json").read_text())
    assert sidecar["sha256"] == hashlib.sha256(pickled.read_bytes()).hexdigest()
    assert cache.get_object(digest, KEY) == {"weights": [1, 2, 3]}
    assert cache.get_object(digest, "f" * 32) is None  # another key: a miss

    pickled.chmod(0o666)  # writable by others: not ours to trust any more (issue 10, 9)
    with pytest.raises(UnsafeCache, match="writable by group or others"):
        cache.get_object(digest, KEY)


def test_object_cache_keys_and_missing_entries(tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    digest = md5(b"never cached")
    with pytest.raises(UsageError):
        cache.object_path(digest, "../../x")
    assert cache.put_object(digest, KEY, [1], {}) is None  # no artifact entry: no orphan
    put(cache, b"x")
    assert cache.put_object(md5(b"x"), KEY, lambda: 1, {}) is None  # cannot be pickled
