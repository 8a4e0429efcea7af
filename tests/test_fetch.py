"""Fetching one object by md5 through DVC: repo remotes, bare URLs, folders, faults."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from loader_fixtures import Registry, copy_registry

from registry_gen.cache import ArtifactCache
from registry_gen.errors import ArtifactError, HashMismatch
from registry_gen.fetch import DvcSource, RemoteObjectMissing, fetch_artifact


@pytest.fixture
def cache(tmp_path: Path) -> ArtifactCache:
    return ArtifactCache(tmp_path / "cache")


def test_fetch_a_file_through_the_repository_remote(reg: Registry, cache: ArtifactCache) -> None:
    md5 = reg.md5("churn", 1)
    path = fetch_artifact(md5, DvcSource(repo_root=reg.root), cache, info={"uri": "x"})

    assert path == cache.path_for(md5)
    assert path.read_bytes() == (reg.root / "models/churn/1/model.skops").read_bytes()
    assert cache.list_entries()[0].info["uri"] == "x"
    # A second fetch finds the entry under the lock and does not download again.
    assert fetch_artifact(md5, DvcSource(repo_root=reg.root), cache) == path


def test_fetch_a_folder_by_its_dir_md5(reg: Registry, cache: ArtifactCache) -> None:
    md5 = reg.md5("onnxy", 1)
    path = fetch_artifact(md5, DvcSource(repo_root=reg.root), cache)

    source = reg.root / "models/onnxy/1/model"
    assert sorted(p.name for p in path.iterdir()) == sorted(p.name for p in source.iterdir())
    for file in source.iterdir():
        assert (path / file.name).read_bytes() == file.read_bytes()
    cache.verify(md5)


def test_fetch_from_a_bare_remote_url(reg: Registry, cache: ArtifactCache) -> None:
    """What a registry read from its website does: only the remote's URL is known."""
    md5 = reg.md5("churn", 2)
    path = fetch_artifact(md5, DvcSource(url=str(reg.remote)), cache)
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5


def test_fetch_from_a_dvc2_layout_remote(
    reg: Registry, cache: ArtifactCache, tmp_path: Path
) -> None:
    md5 = reg.md5("churn", 3)
    legacy = tmp_path / "legacy-remote"
    (legacy / md5[:2]).mkdir(parents=True)
    shutil.copyfile(reg.object_path(md5), legacy / md5[:2] / md5[2:])

    path = fetch_artifact(md5, DvcSource(url=str(legacy)), cache)  # tries both layouts
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5


def test_missing_and_corrupt_objects(reg: Registry, cache: ArtifactCache, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path, own_remote=True)
    gone, bad = reg.md5("churn", 1), reg.md5("churn", 2)
    copy.object_path(gone).unlink()
    copy.object_path(bad).chmod(0o644)
    copy.object_path(bad).write_bytes(b"flipped bits")

    with pytest.raises(RemoteObjectMissing, match=f"no object {gone}"):
        fetch_artifact(gone, DvcSource(repo_root=copy.root), cache)
    with pytest.raises(HashMismatch, match="Nothing was cached"):
        fetch_artifact(bad, DvcSource(repo_root=copy.root), cache)
    assert cache.list_entries() == []
    assert list((cache.root / "tmp").iterdir()) == []


def test_a_corrupt_file_inside_a_folder_artifact(
    reg: Registry, cache: ArtifactCache, tmp_path: Path
) -> None:
    copy = copy_registry(reg, tmp_path, own_remote=True)
    weights = hashlib.md5((reg.root / "models/onnxy/1/model/weights.bin").read_bytes()).hexdigest()
    copy.object_path(weights).chmod(0o644)
    copy.object_path(weights).write_bytes(b"0" * 8)

    with pytest.raises(HashMismatch, match=r"weights\.bin"):
        fetch_artifact(reg.md5("onnxy", 1), DvcSource(repo_root=copy.root), cache)
    assert cache.list_entries() == []
    assert list((cache.root / "tmp").iterdir()) == []


def test_a_registry_without_a_remote(reg: Registry, cache: ArtifactCache, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path)
    (copy.root / ".dvc" / "config").write_text("")
    with pytest.raises(ArtifactError, match="dvc remote add"):
        fetch_artifact(reg.md5("churn", 1), DvcSource(repo_root=copy.root), cache)


def test_a_source_names_exactly_one_place() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        DvcSource()
    with pytest.raises(ValueError, match="exactly one"):
        DvcSource(repo_root=Path(), url="s3://b")


def test_progress_goes_to_the_listener_and_the_library_never_prints(
    reg: Registry, cache: ArtifactCache, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was: a tqdm bar drawn by the library on a terminal. The library never prints (issue
    11.5): it reports to registry_gen.progress, which the CLI draws (tests/test_reader.py)."""
    from registry_gen.progress import listening

    seen: list[tuple[str, str]] = []
    size = reg.object_path(reg.md5("churn", 3)).stat().st_size
    with listening(lambda label, what: seen.append((label, what))):
        fetch_artifact(
            reg.md5("churn", 3), DvcSource(repo_root=reg.root), cache, label="churn v3", size=size
        )
    assert seen and all(label == "churn v3" for label, _ in seen)
    assert seen[-1][1].startswith("downloading 100%")
    fetch_artifact(reg.md5("churn", 2), DvcSource(repo_root=reg.root), cache)
    assert capsys.readouterr() == ("", "")


def test_a_broken_download_resumes_where_it_stopped(
    reg: Registry, cache: ArtifactCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    import registry_gen.fetch as fetch

    md5 = reg.md5("churn", 1)
    real_read = fetch._Reader.read
    calls = {"n": 0}

    def broken(self: fetch._Reader, size: int) -> bytes:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ArtifactError("could not read: connection reset")
        return real_read(self, 100)

    monkeypatch.setattr(fetch._Reader, "read", broken)
    with pytest.raises(ArtifactError, match="connection reset"):
        fetch_artifact(md5, DvcSource(repo_root=reg.root), cache)
    part = cache.partial_path(md5)
    assert part.stat().st_size == 100  # kept for the next attempt
    monkeypatch.setattr(fetch._Reader, "read", real_read)
    opened: list[int] = []
    real_open = fetch._open

    def spy(remote: object, candidates: list[str], offset: int, what: str) -> object:
        opened.append(offset)
        return real_open(remote, candidates, offset, what)  # type: ignore[arg-type]

    monkeypatch.setattr(fetch, "_open", spy)
    path = fetch_artifact(md5, DvcSource(repo_root=reg.root), cache)
    assert opened == [100]
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5
    assert not part.exists()


def test_a_stale_partial_that_does_not_verify_is_downloaded_again(
    reg: Registry, cache: ArtifactCache
) -> None:
    md5 = reg.md5("churn", 1)
    part = cache.partial_path(md5)
    part.write_bytes(b"bytes of something else")
    part.chmod(0o600)
    path = fetch_artifact(md5, DvcSource(repo_root=reg.root), cache)
    assert hashlib.md5(path.read_bytes()).hexdigest() == md5


def test_the_read_path_never_imports_dvc(reg: Registry, tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from registry_gen.cache import ArtifactCache\n"
        "from registry_gen.fetch import DvcSource, fetch_artifact\n"
        f"fetch_artifact({reg.md5('onnxy', 1)!r}, DvcSource(repo_root=Path({str(reg.root)!r})),"
        f" ArtifactCache({str(tmp_path / 'c')!r}))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dvc', 'dvc_data')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_download_command_shows_progress_on_a_terminal_unless_quiet(
    reg: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from registry_gen.cli import _output, main

    def download(*options: str, cache: str) -> tuple[int, str, str]:
        monkeypatch.setenv("REGISTRY_GEN_CACHE", str(tmp_path / cache))
        result = CliRunner().invoke(
            main, ["-C", str(reg.root), *options, "download", "models:/churn/3"]
        )
        return result.exit_code, result.stdout, result.stderr

    code, out, err = download(cache="piped")
    assert code == 0 and out.strip().endswith(reg.md5("churn", 3)[2:]) and err == ""
    monkeypatch.setattr(_output, "stderr_is_terminal", lambda: True)
    code, out, err = download(cache="terminal")
    assert code == 0, err
    assert "churn v3: downloading 100%" in err
    assert download("--quiet", cache="quiet")[2] == ""


def test_resuming_over_http_with_and_without_range_support(
    reg: Registry, cache: ArtifactCache
) -> None:
    """A server that honours Range sends the rest (206), one that ignores it the whole object
    (200, written from the start), and a partial that is already whole gets a 416."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    ranges: list[str | None] = []

    class Ranged(SimpleHTTPRequestHandler):
        honour = True

        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            asked = self.headers.get("Range")
            ranges.append(asked)
            path = Path(self.translate_path(self.path))
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            start = int(asked.removeprefix("bytes=").rstrip("-")) if asked else 0
            if asked and self.honour and start >= len(data):
                self.send_error(416)
                return
            body = data[start:] if asked and self.honour else data
            self.send_response(206 if asked and self.honour else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Ranged, directory=str(reg.remote)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    md5 = reg.md5("churn", 2)
    whole = reg.object_path(md5).read_bytes()
    try:
        for honour, kept, expected in (
            (True, 50, "bytes=50-"),
            (False, 50, "bytes=50-"),
            (True, len(whole), f"bytes={len(whole)}-"),
        ):
            Ranged.honour = honour
            ranges.clear()
            cache.remove(md5)
            part = cache.partial_path(md5)
            part.write_bytes(whole[:kept])
            part.chmod(0o600)
            path = fetch_artifact(md5, DvcSource(url=url), cache)
            assert path.read_bytes() == whole
            assert ranges[0] == expected
    finally:
        server.shutdown()
        server.server_close()
