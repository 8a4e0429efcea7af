"""Where the registry is: a checkout, a git URL at a revision, the published site's JSON API."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from loader_fixtures import ROWS, Registry, copy_registry, set_alias
from site_builders import write_api

from builders import commit, git
from registry_gen import load_model
from registry_gen.cache import ArtifactCache
from registry_gen.errors import (
    ArtifactError,
    GitError,
    InvalidRegistry,
    ModelNotFound,
    OfflineMiss,
    UsageError,
    VersionNotFound,
)
from registry_gen.locate import GitRegistry, SiteRegistry, locate, parse_location
from registry_gen.uri import ModelUri

pytestmark = pytest.mark.usefixtures("cache_dir")  # a cold cache for every test


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (".", ("local", ".", None)),
        ("/srv/registry", ("local", "/srv/registry", None)),
        ("/srv/registry.git", ("git", "/srv/registry.git", None)),
        ("/srv/registry.git#v2", ("git", "/srv/registry.git", "v2")),
        ("/srv/checkout#main", ("git", "/srv/checkout", "main")),
        ("git+https://host/org/reg.git@v2", ("git", "https://host/org/reg.git", "v2")),
        ("git+https://host/org/reg", ("git", "https://host/org/reg", None)),
        ("git+ssh://git@host/org/reg.git@main", ("git", "ssh://git@host/org/reg.git", "main")),
        ("git+file:///srv/reg.git@abc123", ("git", "file:///srv/reg.git", "abc123")),
        ("https://host/org/reg.git#feature/x", ("git", "https://host/org/reg.git", "feature/x")),
        ("https://host/org/reg.git", ("git", "https://host/org/reg.git", None)),
        ("git@github.com:org/reg.git", ("git", "git@github.com:org/reg.git", None)),
        ("git@github.com:org/reg.git#v1", ("git", "git@github.com:org/reg.git", "v1")),
        ("https://org.github.io/registry", ("site", "https://org.github.io/registry/", None)),
        ("http://127.0.0.1:8000/", ("site", "http://127.0.0.1:8000/", None)),
    ],
)
def test_parse_location(text: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_location(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "/srv/reg.git#--upload-pack=x",
        "/srv/r.git#a..b",
        "git+https://h/r.git@-x",
        "/srv/r.git#a b",
    ],
)
def test_bad_locations_and_revisions_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_location(text)


def test_outside_any_repository_the_error_says_what_to_do(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="REGISTRY_GEN_URI"):
        locate()
    with pytest.raises(UsageError, match="not a registry"):
        locate(tmp_path)


def test_resolver_rules() -> None:
    from registry_gen.resolve import resolve

    versions = {1: "Production", 2: "Staging", 3: "Production", 4: "None"}
    stages = ["None", "Staging", "Production", "Archived"]

    def pick(uri: str) -> int:
        return resolve(ModelUri.parse(uri), versions, {"champion": 1}, stages)

    assert pick("models:/m/PRODUCTION") == 3
    assert pick("models:/m/latest") == 4
    assert pick("models:/m@champion") == 1
    assert pick("models:/m/2") == 2
    with pytest.raises(VersionNotFound, match="none in Archived"):
        pick("models:/m/archived")
    with pytest.raises(VersionNotFound, match="not a stage"):
        pick("models:/m/Shadow")


# ---------------------------------------------------------------------------
# A checkout: only the model's own folder is read


def test_a_broken_other_model_does_not_block_a_load(reg: Registry, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path)
    broken = copy.root / "models" / "broken" / "model.yaml"
    broken.parent.mkdir()
    broken.write_text("name: broken\nunknown_key: 1\n")

    assert load_model("models:/churn/1", registry=copy.root).version == 1

    record = copy.root / "models" / "churn" / "2" / "version.yaml"
    record.write_text(record.read_text() + "sneaky: yes\n")
    with pytest.raises(InvalidRegistry, match=r"version\.yaml"):
        load_model("models:/churn/1", registry=copy.root)


def test_a_symlinked_model_folder_is_refused(reg: Registry, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path)
    (copy.root / "models" / "alias-of-churn").symlink_to(copy.root / "models" / "churn")
    with pytest.raises(Exception, match="symlink"):
        load_model("models:/alias-of-churn/1", registry=copy.root)


# ---------------------------------------------------------------------------
# A git URL at a revision


@pytest.fixture
def bare(reg: Registry, tmp_path: Path) -> Path:
    """A bare clone of the registry (what a git host holds), with a tag v1."""
    bare = tmp_path / "registry.git"
    git(tmp_path, "clone", "-q", "--bare", str(reg.root), str(bare))
    git(bare, "tag", "v1", "main")
    return bare


def test_load_from_a_git_url_at_a_revision(
    reg: Registry, bare: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="registry_gen")
    sha = git(bare, "rev-parse", "main").strip()
    locations: list[str | Path] = [
        f"{bare}#main",
        f"git+file://{bare}@v1",
        f"{bare}#{sha}",
        str(bare),
        bare,
    ]
    for location in locations:
        model = load_model("models:/churn@champion", registry=location)
        assert model.version == 3, location
        np.testing.assert_array_equal(model.predict(ROWS), reg.models["churn/3"].predict(ROWS))
    # The clone is made once per URL and reused.
    assert caplog.text.count(f"cloning {bare} into") == 1

    # A new commit on main is fetched by the next load; the tag still names the old one.
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    set_alias(work, "churn", "champion", 2)
    commit(work, "Move champion to v2")
    git(work, "push", "-q", "origin", "main")

    assert load_model("models:/churn@champion", registry=f"{bare}#main").version == 2
    assert load_model("models:/churn@champion", registry=f"{bare}#v1").version == 3
    assert load_model("models:/churn@champion", registry=f"{bare}#{sha}").version == 3


def test_git_errors_and_offline(bare: Path, cache_dir: Path) -> None:
    with pytest.raises(GitError, match="'nope' is not a branch, tag or commit"):
        load_model("models:/churn/1", registry=f"{bare}#nope")
    with pytest.raises(ModelNotFound, match="'ghost'"):
        load_model("models:/ghost/1", registry=f"{bare}#main")
    with pytest.raises(GitError, match="clone failed"):
        load_model("models:/churn/1", registry=f"{bare.parent / 'missing.git'}#main")

    other = ArtifactCache(cache_dir.parent / "other-cache")
    registry = GitRegistry(str(bare), "main", cache=other, offline=True)
    with pytest.raises(OfflineMiss, match="not been cloned"):
        registry.resolve(ModelUri.parse("models:/churn/1"))


def test_a_bad_revision_never_reaches_git(cache_dir: Path) -> None:
    with pytest.raises(GitError, match="invalid revision"):
        GitRegistry("/srv/registry.git", "--upload-pack=x", cache=ArtifactCache(cache_dir))


# ---------------------------------------------------------------------------
# The published website's JSON API


class EtagHandler(SimpleHTTPRequestHandler):
    """Static files with strong ETags and If-None-Match → 304, as GitHub Pages does."""

    requests: list[tuple[str, str | None, int]]

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.requests.append((self.path, self.headers.get("If-None-Match"), 404))
            self.send_error(404)
            return
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.requests.append((self.path, etag, 304))
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.requests.append((self.path, self.headers.get("If-None-Match"), 200))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


def write_site(reg: Registry, site: Path) -> None:
    """The JSON API as the site build writes it (registry_gen.site.api)."""
    write_api(reg.root, site)


@pytest.fixture
def site(reg: Registry, tmp_path: Path) -> Iterator[tuple[str, Path, list[Any]]]:
    root = tmp_path / "site"
    write_site(reg, root)
    seen: list[tuple[str, str | None, int]] = []
    handler = type("Handler", (EtagHandler,), {"requests": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root, seen
    finally:
        server.shutdown()
        server.server_close()


def test_load_from_the_published_site_with_etag_revalidation(
    reg: Registry,
    site: tuple[str, Path, list[Any]],
) -> None:
    url, _root, seen = site
    model = load_model("models:/churn/production", registry=url)
    assert model.version == 3
    np.testing.assert_array_equal(model.predict(ROWS), reg.models["churn/3"].predict(ROWS))
    md5 = reg.md5("churn", 3)
    # The artifact's bytes come from the site too (issue 12.3: the remote is a local folder).
    assert [(path, status) for path, _etag, status in seen] == [
        ("/api/index.json", 200),
        ("/api/models/churn.json", 200),
        (f"/api/objects/files/md5/{md5[:2]}/{md5[2:]}", 200),
    ]

    seen.clear()
    assert load_model("models:/churn@champion", registry=url).version == 3
    assert [(path, status) for path, _etag, status in seen] == [
        ("/api/index.json", 304),
        ("/api/models/churn.json", 304),
    ]
    assert all(etag and etag.startswith('"') for _path, etag, _status in seen)

    folder = load_model("models:/onnxy/1", registry=url)  # a .dir artifact via the site
    assert folder.md5.endswith(".dir")


def test_a_changed_site_is_read_again(reg: Registry, site: tuple[str, Path, list[Any]]) -> None:
    url, root, seen = site
    assert load_model("models:/churn@champion", registry=url).version == 3
    document = root / "api" / "models" / "churn.json"
    data = json.loads(document.read_text())
    data["aliases"]["champion"] = 1
    document.write_text(json.dumps(data))

    assert load_model("models:/churn@champion", registry=url).version == 1
    documents = [entry for entry in seen if not entry[0].startswith("/api/objects/")]
    assert documents[-1] == ("/api/models/churn.json", documents[-1][1], 200)


def test_site_offline_uses_only_cached_responses(
    reg: Registry,
    site: tuple[str, Path, list[Any]],
    cache_dir: Path,
) -> None:
    url, _root, seen = site
    with pytest.raises(OfflineMiss, match=r"api/index\.json"):
        load_model("models:/churn/2", registry=url, offline=True)
    load_model("models:/churn/2", registry=url)
    seen.clear()
    assert load_model("models:/churn/Staging", registry=url, offline=True).version == 2
    assert seen == []


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("path", "models/churn/3/../../../etc/passwd", "unsafe artifact path"),
        ("path", "models/other/3/model.skops", "not under models/churn/3/"),
        ("md5", "../../x", "no valid md5"),
        ("format", "exec", "unknown artifact format"),
        ("version", "3; rm", "not a version number"),
        ("stage", "Prod uction", "not a valid stage"),
    ],
)
def test_hostile_site_json_is_refused(
    reg: Registry,
    site: tuple[str, Path, list[Any]],
    where: str,
    value: str,
    message: str,
) -> None:
    url, root, _seen = site
    document = root / "api" / "models" / "churn.json"
    data = json.loads(document.read_text())
    entry = data["versions"][2]
    if where in {"version", "stage"}:
        entry[where] = value
    else:
        entry["artifact"][where] = value
    document.write_text(json.dumps(data))

    with pytest.raises(ArtifactError, match=message):
        load_model("models:/churn/3", registry=url)


def test_site_format_and_missing_model(site: tuple[str, Path, list[Any]], cache_dir: Path) -> None:
    url, root, _seen = site
    with pytest.raises(ModelNotFound, match="'ghost'"):
        SiteRegistry(url, cache=ArtifactCache(cache_dir)).resolve(ModelUri.parse("models:/ghost/1"))
    index = root / "api" / "index.json"
    document = json.loads(index.read_text())
    document["format"] = 2
    index.write_text(json.dumps(document))
    with pytest.raises(ArtifactError, match="upgrade registry-gen"):
        load_model("models:/churn/1", registry=url)


def test_a_version_without_an_artifact_hash_only_fails_itself(
    reg: Registry,
    site: tuple[str, Path, list[Any]],
) -> None:
    url, root, _seen = site
    document = root / "api" / "models" / "churn.json"
    data = json.loads(document.read_text())
    data["versions"][0]["artifact"]["md5"] = None  # v1 was never tracked by DVC
    document.write_text(json.dumps(data))

    assert load_model("models:/churn/2", registry=url).version == 2
    with pytest.raises(ArtifactError, match="tracked by DVC"):
        load_model("models:/churn/1", registry=url)


# ---------------------------------------------------------------------------
# A checkout resolved again from its saved resolution (stat-validated)


def _saved_files(cache_dir: Path) -> list[Path]:
    folder = cache_dir / "resolved"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _resolve(root: Path, uri: str, cache_dir: Path) -> Any:
    return locate(root, cache=ArtifactCache(cache_dir)).resolve(ModelUri.parse(uri))


@pytest.mark.parametrize(
    "uri",
    [
        "models:/churn/Production",
        "models:/churn/staging",
        "models:/churn@champion",
        "models:/churn/latest",
        "models:/churn/1",
        "models:/onnxy/Production",
    ],
)
def test_a_saved_resolution_answers_every_uri_form_like_a_full_one(
    reg: Registry,
    cache_dir: Path,
    uri: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = _resolve(reg.root, uri, cache_dir)  # full, then saved
    [saved_file] = _saved_files(cache_dir)
    assert oct(saved_file.parent.stat().st_mode & 0o777) == oct(0o700)
    assert oct(saved_file.stat().st_mode & 0o777) == oct(0o600)

    import registry_gen.store

    def no_parsing(*_args: Any) -> None:
        raise AssertionError("the saved resolution should have answered")

    monkeypatch.setattr(registry_gen.store, "build_index", no_parsing)
    for asked in {uri, "models:/churn/Production", "models:/churn/2"}:
        if ModelUri.parse(asked).name == ModelUri.parse(uri).name:
            again = _resolve(reg.root, asked, cache_dir)
            assert again.uri == ModelUri.parse(asked)
    assert _resolve(reg.root, uri, cache_dir) == full


def test_a_changed_checkout_is_resolved_again(
    reg: Registry, tmp_path: Path, cache_dir: Path
) -> None:
    copy = copy_registry(reg, tmp_path)
    assert _resolve(copy.root, "models:/churn/latest", cache_dir).version == 3
    before = _saved_files(cache_dir)[0].read_bytes()

    # A new version folder: the listing of models/churn/ changed.
    new = copy.root / "models" / "churn" / "4"
    new.mkdir()
    for file in (copy.root / "models" / "churn" / "3").iterdir():
        if file.is_file():
            (new / file.name).write_bytes(file.read_bytes())
    record = new / "version.yaml"
    record.write_text(
        record.read_text()
        .replace("version: 3", "version: 4")
        .replace("stage: Production", "stage: Staging")
    )
    assert _resolve(copy.root, "models:/churn/latest", cache_dir).version == 4
    assert _resolve(copy.root, "models:/churn/Staging", cache_dir).version == 4
    assert _saved_files(cache_dir)[0].read_bytes() != before

    # An in-place edit of a pointer (same size): its signature changed.
    pointer = new / "model.skops.dvc"
    pointer.write_text(pointer.read_text().replace(reg.md5("churn", 3), reg.md5("churn", 1)))
    assert _resolve(copy.root, "models:/churn/4", cache_dir).md5 == reg.md5("churn", 1)

    # A removed pointer: the folder's listing changed.
    pointer.unlink()
    with pytest.raises(ArtifactError, match=r"model\.skops\.dvc is missing"):
        _resolve(copy.root, "models:/churn/4", cache_dir)

    # registry.yaml appearing (or changing) is seen too: here it drops stage Staging.
    (copy.root / "registry.yaml").write_text(
        "stages: [None, Production, Archived]\ntransitions: {}\n"
    )
    with pytest.raises((InvalidRegistry, VersionNotFound)):
        _resolve(copy.root, "models:/churn/Staging", cache_dir)


def test_a_racily_clean_file_is_checked_by_content(
    reg: Registry, tmp_path: Path, cache_dir: Path
) -> None:
    """A second edit within one timestamp tick leaves the stat signature unchanged: the
    saved sha256 of files written just before the save catches it (simulated here)."""
    copy = copy_registry(reg, tmp_path)
    assert _resolve(copy.root, "models:/churn@champion", cache_dir).version == 3
    [saved_file] = _saved_files(cache_dir)
    saved = json.loads(saved_file.read_text())
    assert "models/churn/model.yaml" in saved["contents"]  # just copied: racy

    set_alias(copy.root, "churn", "champion", 1)
    # Pretend the timestamps did not move: the saved signature matches the new file.
    info = (copy.root / "models/churn/model.yaml").lstat()
    saved["files"]["models/churn/model.yaml"] = [
        info.st_mode,
        info.st_size,
        info.st_mtime_ns,
        info.st_ino,
        info.st_ctime_ns,
    ]
    saved_file.write_text(json.dumps(saved))

    assert _resolve(copy.root, "models:/churn@champion", cache_dir).version == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.update(versions={"3": {**d["versions"]["3"], "path": "../../../etc/passwd"}}),
        lambda d: d.update(versions={"3": {**d["versions"]["3"], "md5": "../x"}}),
        lambda d: d.update(versions={"3": {**d["versions"]["3"], "format": "exec"}}),
        lambda d: d.update(versions={"-1": d["versions"]["3"]}),
        lambda d: d.update(aliases={"../x": 3}),
        lambda d: d.update(stages="Production"),
        lambda d: d["files"].update({"../outside": None}),
        lambda d: d.update(listings={}),
        lambda d: d.update(root="/elsewhere"),
        lambda d: d.update(format=99),
    ],
)
def test_a_hostile_or_stale_saved_resolution_is_never_used(
    reg: Registry,
    cache_dir: Path,
    tamper: Any,
) -> None:
    expected = _resolve(reg.root, "models:/churn/Production", cache_dir)
    [saved_file] = _saved_files(cache_dir)
    data = json.loads(saved_file.read_text())
    tamper(data)
    saved_file.write_text(json.dumps(data))

    assert _resolve(reg.root, "models:/churn/Production", cache_dir) == expected
    saved_file.write_text("{not json")
    assert _resolve(reg.root, "models:/churn/Production", cache_dir) == expected


def test_broken_records_and_failed_resolutions_are_not_saved(
    reg: Registry, tmp_path: Path, cache_dir: Path
) -> None:
    copy = copy_registry(reg, tmp_path)
    broken = copy.root / "models" / "broken" / "model.yaml"
    broken.parent.mkdir()
    broken.write_text("name: broken\nunknown_key: 1\n")
    with pytest.raises(InvalidRegistry):
        _resolve(copy.root, "models:/broken/1", cache_dir)
    with pytest.raises(VersionNotFound):
        _resolve(copy.root, "models:/churn/9", cache_dir)
    assert _saved_files(cache_dir) == []
    (copy.root / "models" / "churn" / "evil").symlink_to(copy.root / "models" / "onnxy")
    assert _resolve(copy.root, "models:/churn/1", cache_dir).version == 1
    assert _saved_files(cache_dir) == []  # a symlink in the folder: never saved


# ---------------------------------------------------------------------------
# One resolver: the same answer and the same message from every kind of registry


@pytest.mark.parametrize("uri", ["models:/churn/9", "models:/churn@gold", "models:/churn/Shadow"])
def test_every_registry_kind_gives_the_resolvers_message(
    reg: Registry,
    bare: Path,
    site: tuple[str, Path, list[Any]],
    cache_dir: Path,
    uri: str,
) -> None:
    url, _root, _seen = site
    messages = set()
    for location in [str(reg.root), f"{bare}#main", url]:
        with pytest.raises(VersionNotFound) as error:
            load_model(uri, registry=location)
        messages.add(str(error.value))
    assert len(messages) == 1, messages
