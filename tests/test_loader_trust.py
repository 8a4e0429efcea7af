"""Issue 10, the loader's classes: remotes and credentials (3), the cache's neighbours (9),
specific trust (10) and one-line errors (11), each on real parts: real HTTP servers on
127.0.0.1 and 127.0.0.2, a real git registry with DVC, real cache folders, real pickles."""

from __future__ import annotations

import errno
import hashlib
import json
import pickle
import threading
import tomllib
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from loader_fixtures import Registry, copy_registry

from builders import commit, git
from registry_gen import load_model
from registry_gen._cache_guard import UnsafeCache
from registry_gen._dvc import DvcSource
from registry_gen._http_remote import CrossOriginRedirect
from registry_gen.cache import ArtifactCache
from registry_gen.errors import ArtifactError, UntrustedFormat
from registry_gen.fetch import fetch_artifact
from registry_gen.formats import artifact_sha256, load_artifact

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("cache_dir")  # a cold, private cache for every test


class _Server:
    """A real HTTP server serving ``folder`` (ignoring Range, like http.server does)."""

    def __init__(self, host: str, folder: Path, redirect_to: str | None = None) -> None:
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_GET(self) -> None:
                owner.requests.append({"path": self.path, **dict(self.headers)})
                if redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", redirect_to + self.path)
                    self.end_headers()
                    return
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[list[_Server]]:
    started: list[_Server] = []
    yield started
    for server in started:
        server.close()


def _http_remote(root: Path, url: str, *, credentials: bool = True) -> None:
    (root / ".dvc" / "config").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {url}\n"
    )
    if credentials:
        (root / ".dvc" / "config.local").write_text(
            "['remote \"storage\"']\n    auth = basic\n    user = alice\n    password = s3cret\n"
        )


# -- 3: remotes come from the base configuration; credentials never change host -------------


def test_a_redirect_to_another_host_is_never_followed_nor_sent_credentials(
    reg: Registry,
    tmp_path: Path,
    servers: list[_Server],
) -> None:
    attacker = _Server("127.0.0.2", reg.remote)
    servers.append(attacker)
    remote = _Server("127.0.0.1", reg.remote, redirect_to=attacker.url)
    servers.append(remote)
    copy = copy_registry(reg, tmp_path)
    _http_remote(copy.root, remote.url)

    with pytest.raises(CrossOriginRedirect, match="another host"):
        load_model("models:/churn/1", registry=copy.root)
    assert remote.requests and remote.requests[0]["Authorization"].startswith("Basic ")
    assert attacker.requests == []  # not followed: the header never reached 127.0.0.2


def test_a_checked_out_pull_request_cannot_choose_the_remote(
    reg: Registry,
    tmp_path: Path,
    servers: list[_Server],
) -> None:
    good = _Server("127.0.0.1", reg.remote)
    attacker = _Server("127.0.0.2", reg.remote)
    servers.extend([good, attacker])
    copy = copy_registry(reg, tmp_path)
    _http_remote(copy.root, good.url)
    commit(copy.root, "The remote is served over HTTP")
    git(copy.root, "checkout", "-q", "-b", "pr")
    _http_remote(copy.root, attacker.url)  # the PR edits .dvc/config
    commit(copy.root, "PR: move the remote")

    model = load_model("models:/churn/1", registry=copy.root)
    assert model.version == 1
    assert attacker.requests == []
    assert all(r["Authorization"].startswith("Basic ") for r in good.requests)


def test_a_pull_request_moving_a_non_http_remote_is_refused(reg: Registry, tmp_path: Path) -> None:
    import shutil

    copy = copy_registry(reg, tmp_path)
    elsewhere = tmp_path / "attacker-remote"
    shutil.copytree(reg.remote, elsewhere)
    git(copy.root, "checkout", "-q", "-b", "pr")
    config = copy.root / ".dvc" / "config"
    config.write_text(config.read_text().replace(str(reg.remote), str(elsewhere)))
    commit(copy.root, "PR: move the remote")

    with pytest.raises(ArtifactError, match="not the base configuration's"):
        load_model("models:/churn/1", registry=copy.root)
    git(copy.root, "checkout", "-q", "main")  # the base branch's own checkout loads
    assert load_model("models:/churn/1", registry=copy.root).version == 1


def test_a_git_url_at_a_pull_request_revision_reads_the_default_branch_remote(
    reg: Registry,
    tmp_path: Path,
) -> None:
    import shutil

    copy = copy_registry(reg, tmp_path)
    elsewhere = tmp_path / "attacker-remote"
    shutil.copytree(reg.remote, elsewhere)
    git(copy.root, "checkout", "-q", "-b", "pr")
    config = copy.root / ".dvc" / "config"
    config.write_text(config.read_text().replace(str(reg.remote), str(elsewhere)))
    commit(copy.root, "PR: move the remote")
    git(copy.root, "checkout", "-q", "main")

    with pytest.raises(ArtifactError, match="not the base configuration's"):
        load_model("models:/churn/1", registry=f"{copy.root}#pr")
    assert load_model("models:/churn/1", registry=f"{copy.root}#main").version == 1


def test_a_cache_made_under_a_group_friendly_umask_is_still_private(
    reg: Registry,
    tmp_path: Path,
) -> None:
    import os

    old = os.umask(0o002)
    try:
        for _ in range(2):  # cold, then warm: every entry it wrote passes the checks
            assert (
                load_model(
                    "models:/onnxy/1", registry=reg.root, cache_dir=tmp_path / "cache"
                ).version
                == 1
            )
            assert (
                load_model(
                    "models:/churn/3", registry=reg.root, cache_dir=tmp_path / "cache"
                ).version
                == 3
            )
    finally:
        os.umask(old)


def test_a_remote_that_ignores_range_requests_serves_whole_objects(
    reg: Registry,
    tmp_path: Path,
    servers: list[_Server],
) -> None:
    remote = _Server("127.0.0.1", reg.remote)  # http.server answers 200 to any Range
    servers.append(remote)
    copy = copy_registry(reg, tmp_path)
    _http_remote(copy.root, remote.url, credentials=False)
    model = load_model("models:/onnxy/1", registry=copy.root)  # a folder: several objects
    assert model.version == 1
    assert all("Authorization" not in r for r in remote.requests)


def test_a_large_object_from_a_server_without_range_support(
    tmp_path: Path,
    servers: list[_Server],
) -> None:
    data = hashlib.sha256(b"seed").digest() * (7 * 1024 * 1024 // 32)  # 7 MiB, > one block
    md5 = hashlib.md5(data).hexdigest()
    target = tmp_path / "remote" / "files" / "md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    remote = _Server("127.0.0.1", tmp_path / "remote")
    servers.append(remote)
    cache = ArtifactCache(tmp_path / "cache")
    path = fetch_artifact(md5, DvcSource(url=remote.url), cache)
    assert path.read_bytes() == data
    assert all("Range" not in r for r in remote.requests)


# -- 9: the cache trusts only this user ----------------------------------------------------


def test_a_symlinked_cache_root_is_refused(reg: Registry, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o700)
    (tmp_path / "cache").symlink_to(real)
    with pytest.raises(UnsafeCache, match="is a symlink"):
        load_model("models:/churn/1", registry=reg.root, cache_dir=tmp_path / "cache")
    assert list(real.iterdir()) == []


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (eval, (f"open({self.marker!r}, 'w').write('ran')",))


def test_a_group_writable_cache_with_a_planted_object_never_runs_it(
    reg: Registry,
    tmp_path: Path,
) -> None:
    cache_dir = tmp_path / "cache"
    load_model("models:/churn/3", registry=reg.root, cache_dir=cache_dir)  # warm it
    [pickled] = list((cache_dir / "objects").glob("*/*.obj-*.pickle"))
    cache_dir.chmod(0o775)  # a shared cache: a neighbour plants a pickle and its sidecar
    marker = tmp_path / "payload-ran"
    data = pickle.dumps(_Evil(marker))
    pickled.write_bytes(data)
    sidecar = pickled.with_name(pickled.name + ".json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "sha256": hashlib.sha256(data).hexdigest()}))

    with pytest.raises(UnsafeCache, match="writable by group or others"):
        load_model("models:/churn/3", registry=reg.root, cache_dir=cache_dir)
    assert not marker.exists()


def test_a_world_writable_entry_folder_is_refused(reg: Registry, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    load_model("models:/churn/2", registry=reg.root, cache_dir=cache_dir)
    [prefix] = [p for p in (cache_dir / "objects").iterdir()]
    prefix.chmod(0o777)
    with pytest.raises(UnsafeCache, match=str(prefix)):
        load_model("models:/churn/2", registry=reg.root, cache_dir=cache_dir)


def test_a_cache_entry_of_another_user_is_refused(tmp_path: Path) -> None:
    import os

    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    cache = ArtifactCache(tmp_path / "cache")
    data = b"bytes"
    digest = hashlib.md5(data).hexdigest()
    with cache.writer(digest) as writer:
        tmp = cache.temp_path(digest)
        tmp.write_bytes(data)
        entry = writer.publish_file(tmp, {})
    os.chown(entry, 65534, 65534)
    with pytest.raises(UnsafeCache, match="belongs to uid 65534"):
        cache.get(digest)


# -- 10: trust by the reviewed sha256, formats by their bytes --------------------------------


def _set_sha256(root: Path, name: str, sha256: str) -> None:
    record = root / "models" / name / "1" / "version.yaml"
    text = record.read_text()
    record.write_text(text.replace("  format: pickle\n", f"  format: pickle\n  sha256: {sha256}\n"))
    assert f"sha256: {sha256}" in record.read_text()


def test_a_pickle_loads_by_its_reviewed_sha256_and_only_by_it(
    reg: Registry,
    tmp_path: Path,
) -> None:
    copy = copy_registry(reg, tmp_path)
    pickled = copy.root / "models" / "pickled" / "1" / "model.pkl"
    _set_sha256(copy.root, "pickled", artifact_sha256(pickled))
    model = load_model("models:/pickled/1", registry=copy.root)  # no trust_pickle
    assert model.version == 1

    # evil/1 records the sha256 of other bytes: refused, and its payload never runs
    # (it would write its marker at unpickling).
    _set_sha256(copy.root, "evil", artifact_sha256(pickled))
    with pytest.raises(UntrustedFormat, match="not the reviewed"):
        load_model("models:/evil/1", registry=copy.root)


def test_a_pickle_recorded_as_skops_or_onnx_is_refused_by_its_bytes(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    for fmt, name in [
        ("skops", "model.skops"),
        ("onnx", "model.onnx"),
        ("safetensors", "model.safetensors"),
    ]:
        path = tmp_path / name
        path.write_bytes(pickle.dumps(_Evil(marker)))
        with pytest.raises(UntrustedFormat, match="holds pickle content"):
            load_artifact(path, fmt)
    assert not marker.exists()


def test_an_mlflow_folder_is_gated_like_a_pickle(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(UntrustedFormat, match="mlflow folder"):
        load_artifact(tmp_path, "mlflow")


def test_registration_records_the_sha256_of_a_gated_format(tmp_path: Path) -> None:
    from registry_gen._registration import version_record

    artifact = tmp_path / "model.pkl"
    artifact.write_bytes(pickle.dumps([1, 2]))
    record = version_record(1, "None", artifact, "pickle", created_by="me", fields={})
    assert record.artifact.sha256 == hashlib.sha256(artifact.read_bytes()).hexdigest()
    import skops.io

    skops_like = tmp_path / "model.skops"  # a real skops file: registration reads its types
    skops.io.dump({"weights": [1, 2]}, skops_like)
    assert (
        version_record(1, "None", skops_like, "skops", created_by="me", fields={}).artifact.sha256
        is None
    )


def test_the_minimum_versions_have_the_safety_we_rely_on() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    # skops moved from the base install to the sklearn extra (issue 12.1): same minimum.
    deps = project["dependencies"] + extras["sklearn"] + extras["torch"]
    assert "skops>=0.13,<1" in deps  # 0.12 fixed trusted-type bypasses; 0.13 the Card fallback
    assert any(d.startswith("torch>=2.10") for d in deps)  # weights_only bypasses before 2.10


# -- 11: one-line errors -------------------------------------------------------------------


def test_a_full_disk_during_a_download_is_one_line_and_leaves_nothing(
    reg: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import registry_gen.fetch as fetch

    real_copy = fetch._copy

    def full_disk(source: Any, out: Any, *_rest: Any) -> None:
        out.write(source.read(10))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fetch, "_copy", full_disk)
    cache = ArtifactCache(tmp_path / "cache")
    with pytest.raises(ArtifactError, match="the disk is full") as caught:
        fetch_artifact(reg.md5("churn", 1), DvcSource(repo_root=reg.root), cache)
    assert "\n" not in str(caught.value)
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
    assert cache.list_entries() == []
    monkeypatch.setattr(fetch, "_copy", real_copy)
    assert fetch_artifact(reg.md5("churn", 1), DvcSource(repo_root=reg.root), cache).is_file()


def test_a_nul_in_a_folder_manifest_is_one_line(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    data = b"weights"
    file_md5 = hashlib.md5(data).hexdigest()
    manifest = json.dumps([{"md5": file_md5, "relpath": "a\x00b"}]).encode()
    dir_md5 = hashlib.md5(manifest).hexdigest() + ".dir"
    for md5, body in ((dir_md5, manifest), (file_md5, data)):
        target = remote / "files" / "md5" / md5[:2] / md5[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    cache = ArtifactCache(tmp_path / "cache")
    with pytest.raises(ArtifactError, match="control character") as caught:
        fetch_artifact(dir_md5, DvcSource(url=str(remote)), cache)
    assert "\n" not in str(caught.value)
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
