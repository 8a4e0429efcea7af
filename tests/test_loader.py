"""load_model / download_artifacts end to end: real git, real DVC, a local-folder remote."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from loader_fixtures import (
    MARKER_ENV,
    ROWS,
    Registry,
    copy_registry,
    set_alias,
)

from registry_gen import download_artifacts, load_model
from registry_gen.cache import ArtifactCache
from registry_gen.cli import main
from registry_gen.errors import (
    HashMismatch,
    InvalidUri,
    ModelNotFound,
    NotFound,
    OfflineMiss,
    UntrustedFormat,
    VersionNotFound,
)
from registry_gen.fetch import RemoteObjectMissing

TESTS = Path(__file__).parent


pytestmark = pytest.mark.usefixtures("cache_dir")  # a cold cache for every test


def cache_is_clean(cache_dir: Path) -> list[str]:
    """Names of leftovers that must never survive a failure: partial downloads."""
    tmp = cache_dir / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.is_dir() else []


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/churn/Production", 3),
        ("models:/churn/production", 3),
        ("models:/churn/Staging", 2),
        ("models:/churn@champion", 3),
        ("models:/churn/latest", 3),
        ("models:/churn/1", 1),
    ],
)
def test_every_uri_form_loads_the_right_version(reg: Registry, uri: str, expected: int) -> None:
    model = load_model(uri, registry=reg.root)

    assert model.version == expected
    assert str(model.uri) == f"models:/churn/{expected}"
    assert model.md5 == reg.md5("churn", expected)
    native = reg.models[f"churn/{expected}"]
    assert type(model.unwrap()) is type(native)
    np.testing.assert_array_equal(model.predict(ROWS), native.predict(ROWS))


def test_cold_then_warm_load_uses_the_cache(
    reg: Registry, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="registry_gen")
    first = load_model("models:/churn/Production", registry=str(reg.root))
    assert any("fetching" in r.message for r in caplog.records)
    assert "models:/churn/Production → churn v3 (md5 " + reg.md5("churn", 3)[:8] in caplog.text
    assert first.path == ArtifactCache(cache_dir).path_for(reg.md5("churn", 3))
    assert oct(cache_dir.stat().st_mode & 0o777) == oct(0o700)

    caplog.clear()
    second = load_model("models:/churn/Production", registry=str(reg.root))
    assert not any("fetching" in r.message for r in caplog.records)
    np.testing.assert_array_equal(second.predict(ROWS), first.predict(ROWS))


@pytest.mark.slow
def test_a_warm_load_imports_no_dvc_git_or_network(reg: Registry, cache_dir: Path) -> None:
    load_model("models:/churn/Production", registry=reg.root)  # warm the cache
    code = (
        "import sys, numpy as np, registry_gen\n"
        f"m = registry_gen.load_model('models:/churn/Production', registry={str(reg.root)!r})\n"
        "m.predict(np.zeros((1, 2)))\n"
        "heavy = sorted({n.split('.')[0] for n in sys.modules} & "
        "{'dvc', 'dvc_data', 'git', 'mkdocs', 'requests', 'urllib3', 'fsspec', 'botocore'})\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "REGISTRY_GEN_OFFLINE": "1"},
    )
    assert result.stdout.strip() == "[]"


def test_a_folder_artifact_onnx_with_external_data(reg: Registry) -> None:
    model = load_model("models:/onnxy/Production", registry=reg.root)

    assert model.md5.endswith(".dir")
    assert sorted(p.name for p in model.path.iterdir()) == ["model.onnx", "weights.bin"]
    np.testing.assert_allclose(model.predict(ROWS), reg.models["onnxy/1"].predict(ROWS), rtol=1e-6)


def test_a_moved_alias_between_two_loads(reg: Registry, tmp_path: Path) -> None:
    copy = copy_registry(reg, tmp_path)
    assert load_model("models:/churn@champion", registry=copy.root).version == 3

    set_alias(copy.root, "churn", "champion", 1)
    moved = load_model("models:/churn@champion", registry=copy.root)

    assert moved.version == 1
    assert moved.md5 == reg.md5("churn", 1)
    np.testing.assert_array_equal(moved.predict(ROWS), reg.models["churn/1"].predict(ROWS))


def test_a_load_fetches_what_it_resolved_even_if_the_alias_moves_meanwhile(
    reg: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import registry_gen.fetch as fetch

    copy = copy_registry(reg, tmp_path)
    real = fetch.fetch_artifact

    def move_alias_then_fetch(md5: str, *args: object, **kwargs: object) -> Path:
        set_alias(copy.root, "churn", "champion", 2)  # someone merges a PR mid-load
        return real(md5, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fetch, "fetch_artifact", move_alias_then_fetch)
    model = load_model("models:/churn@champion", registry=copy.root)

    assert model.version == 3
    assert model.md5 == reg.md5("churn", 3)
    np.testing.assert_array_equal(model.predict(ROWS), reg.models["churn/3"].predict(ROWS))


def test_unknown_model_version_alias_and_bad_uri(reg: Registry) -> None:
    with pytest.raises(ModelNotFound, match="nope"):
        load_model("models:/nope/1", registry=reg.root)
    with pytest.raises(VersionNotFound, match="no version 9"):
        load_model("models:/churn/9", registry=reg.root)
    with pytest.raises(VersionNotFound, match="no alias 'gold'"):
        load_model("models:/churn@gold", registry=reg.root)
    with pytest.raises(InvalidUri):
        load_model("models:/../etc/1", registry=reg.root)


def test_registry_from_environment_then_enclosing_repository(
    reg: Registry,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("REGISTRY_GEN_URI", str(reg.root))
    monkeypatch.chdir(tmp_path)
    assert load_model("models:/churn/1").version == 1

    monkeypatch.delenv("REGISTRY_GEN_URI")
    monkeypatch.chdir(reg.root / "models" / "churn")
    assert load_model("models:/churn/2").version == 2


# ---------------------------------------------------------------------------
# Faults: each a clear error or a correct load, nothing corrupt left behind


def test_offline_hit_and_miss(
    reg: Registry, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_GEN_OFFLINE", "1")
    with pytest.raises(OfflineMiss, match="not in the cache"):
        load_model("models:/churn/2", registry=reg.root)
    assert cache_is_clean(cache_dir) == []

    monkeypatch.delenv("REGISTRY_GEN_OFFLINE")
    load_model("models:/churn/2", registry=reg.root)
    monkeypatch.setenv("REGISTRY_GEN_OFFLINE", "1")
    monkeypatch.setattr("registry_gen.fetch.fetch_artifact", _no_network)
    assert load_model("models:/churn/Staging", registry=reg.root).version == 2


def _no_network(*_args: object, **_kwargs: object) -> Path:
    raise AssertionError("an offline or cached load went to the network")


def test_a_tampered_cache_entry_is_deleted_and_fetched_again(
    reg: Registry, cache_dir: Path
) -> None:
    model = load_model("models:/churn/3", registry=reg.root)
    model.path.write_bytes(b"not the model")

    with pytest.raises(OfflineMiss):
        load_model("models:/churn/3", registry=reg.root, offline=True)
    assert not model.path.exists()  # the corrupt entry was removed, not served

    again = load_model("models:/churn/3", registry=reg.root)
    np.testing.assert_array_equal(again.predict(ROWS), reg.models["churn/3"].predict(ROWS))


def test_wrong_bytes_from_the_remote_are_refused(
    reg: Registry, tmp_path: Path, cache_dir: Path
) -> None:
    copy = copy_registry(reg, tmp_path, own_remote=True)
    md5 = reg.md5("churn", 2)
    copy.object_path(md5).chmod(0o644)
    copy.object_path(md5).write_bytes(b"evil replacement")

    with pytest.raises(HashMismatch, match=f"records {md5}"):
        load_model("models:/churn/2", registry=copy.root)
    assert ArtifactCache(cache_dir).list_entries() == []
    assert cache_is_clean(cache_dir) == []


def test_a_missing_remote_object(reg: Registry, tmp_path: Path, cache_dir: Path) -> None:
    copy = copy_registry(reg, tmp_path, own_remote=True)
    copy.object_path(reg.md5("churn", 1)).unlink()

    with pytest.raises(RemoteObjectMissing, match="dvc push") as error:
        load_model("models:/churn/1", registry=copy.root)
    assert isinstance(error.value, NotFound)
    assert ArtifactCache(cache_dir).list_entries() == []
    assert cache_is_clean(cache_dir) == []


def test_an_untrusted_pickle_is_refused_and_its_payload_never_runs(
    reg: Registry,
    tmp_path: Path,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = tmp_path / "payload-ran"
    monkeypatch.setenv(MARKER_ENV, str(marker))

    with pytest.raises(UntrustedFormat, match="trust_pickle=True"):
        load_model("models:/evil/1", registry=reg.root)
    assert not marker.exists()
    assert ArtifactCache(cache_dir).list_entries() == []  # not even downloaded

    trusted = load_model("models:/pickled/1", registry=reg.root, trust_pickle=True)
    np.testing.assert_array_equal(trusted.predict(ROWS), reg.models["churn/1"].predict(ROWS))


_LOAD_SCRIPT = """
import json, sys
import registry_gen
m = registry_gen.load_model(sys.argv[1], registry=sys.argv[2])
print(json.dumps({"version": m.version, "prediction": m.predict([[0.9, 0.9]]).tolist()}))
"""


def _spawn(reg: Registry, uri: str, code: str = _LOAD_SCRIPT) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen(
        [sys.executable, "-c", code, uri, str(reg.root)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_processes_loading_at_once(reg: Registry, cache_dir: Path) -> None:
    procs = [_spawn(reg, "models:/churn/Production") for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]

    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert json.loads(out) == {"version": 3, "prediction": [1]}
    assert [e.md5 for e in ArtifactCache(cache_dir).list_entries()] == [reg.md5("churn", 3)]
    assert cache_is_clean(cache_dir) == []


_KILLED_SCRIPT = """
import sys, time
from pathlib import Path
import registry_gen.fetch as fetch

def slow_copy(source, out, progress):
    out.write(source.read(100))  # half a download...
    out.flush()
    Path(sys.argv[3]).write_text("started")
    time.sleep(600)              # ...then the network stalls until we are killed

fetch._copy = slow_copy
import registry_gen
registry_gen.load_model(sys.argv[1], registry=sys.argv[2])
"""


@pytest.mark.slow
def test_a_download_killed_halfway_then_retried(
    reg: Registry, cache_dir: Path, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_SCRIPT, "models:/churn/2", str(reg.root), str(started)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not started.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    cache = ArtifactCache(cache_dir)
    assert cache.list_entries() == []  # no entry: only a partial file in tmp/
    assert cache_is_clean(cache_dir) != []
    with pytest.raises(OfflineMiss):
        load_model("models:/churn/2", registry=reg.root, offline=True)

    model = load_model("models:/churn/2", registry=reg.root)
    np.testing.assert_array_equal(model.predict(ROWS), reg.models["churn/2"].predict(ROWS))
    assert cache_is_clean(cache_dir) == []  # the retry cleaned the partial download


# ---------------------------------------------------------------------------
# download_artifacts and the CLI


def test_download_artifacts_to_the_cache_and_to_a_folder(reg: Registry, tmp_path: Path) -> None:
    cached = download_artifacts("models:/churn/1", registry=reg.root)
    assert cached.read_bytes() == (reg.root / "models/churn/1/model.skops").read_bytes()

    copied = download_artifacts("models:/churn/1", tmp_path / "out", registry=reg.root)
    assert copied == tmp_path / "out" / "model.skops"
    assert copied.read_bytes() == cached.read_bytes()

    folder = download_artifacts("models:/onnxy/1", tmp_path / "out", registry=reg.root)
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx", "weights.bin"]
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


def test_cli_download_cache_list_and_prune(reg: Registry, tmp_path: Path, cache_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["download", "models:/churn/Staging", "--from", str(reg.root), "-o", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "out" / "model.skops")

    result = runner.invoke(main, ["cache", "list", "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert entry["md5"] == reg.md5("churn", 2)
    assert entry["uri"] == "models:/churn/2"
    assert entry["objects"] == 0  # download only: no object was loaded, so none is cached

    result = runner.invoke(main, ["cache", "prune"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["cache", "prune", "--keep-size", "0", "--dry-run"])
    assert "Would delete 1 artifact" in result.stdout
    assert len(ArtifactCache(cache_dir).list_entries()) == 1
    result = runner.invoke(main, ["cache", "prune", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert ArtifactCache(cache_dir).list_entries() == []

    result = runner.invoke(main, ["download", "models:/churn/9", "--from", str(reg.root)])
    assert result.exit_code == 1
    assert "error: churn has no version 9" in result.stderr


@pytest.mark.slow
def test_a_model_registered_by_registry_gen_loads_from_its_checkout_and_its_git_url(
    tmp_path: Path,
) -> None:
    """Registration and loading meet: `registry-gen init`'s committed dvc-remote/ folder is
    read from the git tree at the revision when the registry is a git URL."""
    from loader_fixtures import train

    from builders import commit, git
    from registry_gen.client import log_model
    from registry_gen.scaffold import init_registry

    root = init_registry(tmp_path / "registry")
    estimator = train("tree", seed=7)
    log_model(estimator, "churn", registry=root, metrics={"auc": 0.9})
    commit(root, "Register churn v1")
    bare = tmp_path / "registry.git"
    git(tmp_path, "clone", "-q", "--bare", str(root), str(bare))

    for registry in (root, f"{bare}#main"):
        model = load_model("models:/churn/latest", registry=registry)
        assert model.version == 1
        np.testing.assert_array_equal(model.predict(ROWS), estimator.predict(ROWS))
        ArtifactCache().remove(model.md5)  # the next location fetches for itself


# ---------------------------------------------------------------------------
# The warm path: saved resolution + verified object cache, in fresh processes

_WARM_SCRIPT = """
import json, sys
import registry_gen
m = registry_gen.load_model(sys.argv[1], registry=sys.argv[2])
# skops itself is imported for its __version__ (cheap); skops.io is what is costly.
# registry_gen.store itself is a light package (the one-model scan); its parsing parts are not.
watched = ["registry_gen.schema", "registry_gen.store._build", "registry_gen.store._parse",
           "registry_gen.store._index", "registry_gen.yamlio", "pydantic",
           "yaml", "ruamel", "skops.io", "dvc", "git", "requests", "urllib3",
           "fsspec", "filelock"]
print(json.dumps({"version": m.version, "prediction": m.predict([[0.9, 0.9]]).tolist(),
                  "imported": sorted(n for n in watched if n in sys.modules),
                  "skops_io": "skops.io" in sys.modules}))
"""


def _fresh_load(root: Path, uri: str, **env: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", _WARM_SCRIPT, uri, str(root)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.slow
def test_a_warm_load_from_an_unchanged_checkout_imports_no_parser_and_no_skops(
    reg: Registry,
    tmp_path: Path,
    cache_dir: Path,
) -> None:
    copy = copy_registry(reg, tmp_path)
    cold = _fresh_load(copy.root, "models:/churn/Production")
    assert cold["version"] == 3
    assert "registry_gen.schema" in cold["imported"]  # type: ignore[operator]
    assert cold["skops_io"]

    warm = _fresh_load(copy.root, "models:/churn/Production")
    assert warm == {
        "version": 3,
        "prediction": cold["prediction"],
        "imported": [],
        "skops_io": False,
    }

    # Promote v2 (and archive v3) by editing the records: the next load sees it.
    for number, stage in ((2, "Production"), (3, "Archived")):
        record = copy.root / "models" / "churn" / str(number) / "version.yaml"
        record.write_text(re.sub(r"(?m)^stage: .*$", f"stage: {stage}", record.read_text()))
    promoted = _fresh_load(copy.root, "models:/churn/Production")
    assert promoted["version"] == 2
    assert promoted["prediction"] == reg.models["churn/2"].predict([[0.9, 0.9]]).tolist()
    assert "registry_gen.schema" in promoted["imported"]  # type: ignore[operator]
    again = _fresh_load(copy.root, "models:/churn/Production")
    assert again["version"] == 2
    assert again["imported"] == []


def _object_files(cache_dir: Path, md5: str) -> list[Path]:
    entry = ArtifactCache(cache_dir).path_for(md5)
    return sorted(entry.parent.glob(entry.name + ".obj-*"))


def test_the_object_cache_is_private_verified_and_rebuilt_when_damaged(
    reg: Registry,
    cache_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    md5 = reg.md5("churn", 3)
    first = load_model("models:/churn/Production", registry=reg.root)
    pickled, sidecar = _object_files(cache_dir, md5)
    assert (pickled.suffix, sidecar.name) == (".pickle", pickled.name + ".json")
    assert oct(pickled.stat().st_mode & 0o777) == oct(0o600)
    assert json.loads(sidecar.read_text())["uri"] == "models:/churn/3"
    [entry] = ArtifactCache(cache_dir).list_entries()
    assert entry.objects == 1
    assert entry.size == (
        first.path.stat().st_size + pickled.stat().st_size + sidecar.stat().st_size
    )

    # Damaged bytes: the sha256 in the sidecar no longer matches; skops loads it again.
    pickled.write_bytes(pickled.read_bytes()[:-10] + b"0123456789")
    caplog.set_level(logging.WARNING, logger="registry_gen")
    again = load_model("models:/churn/Production", registry=reg.root)
    assert "does not match its sidecar" in caplog.text
    np.testing.assert_array_equal(again.predict(ROWS), first.predict(ROWS))
    assert (
        json.loads(sidecar.read_text())["sha256"]
        == hashlib.sha256(pickled.read_bytes()).hexdigest()
    )  # rewritten by the skops load

    # Bytes that match the sidecar but do not unpickle: deleted, then rebuilt.
    pickled.write_bytes(b"not a pickle")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**meta, "sha256": hashlib.sha256(b"not a pickle").hexdigest()}))
    caplog.clear()
    third = load_model("models:/churn/Production", registry=reg.root)
    assert "cannot be unpickled" in caplog.text
    np.testing.assert_array_equal(third.predict(ROWS), first.predict(ROWS))


def test_an_object_cache_file_from_another_key_or_without_sidecar_never_runs(
    reg: Registry,
    cache_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A planted pickle is only ever read under its exact key and sha256: a payload with no
    matching sidecar is deleted unread."""
    from loader_fixtures import Payload

    marker = tmp_path / "marker"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    load_model("models:/churn/Production", registry=reg.root)
    pickled, _sidecar = _object_files(cache_dir, reg.md5("churn", 3))
    _sidecar.unlink()
    pickled.write_bytes(pickle.dumps(Payload()))

    model = load_model("models:/churn/Production", registry=reg.root)
    assert not marker.exists()
    np.testing.assert_array_equal(model.predict(ROWS), reg.models["churn/3"].predict(ROWS))


def test_a_version_change_misses_the_object_cache(
    reg: Registry, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import skops

    load_model("models:/churn/Production", registry=reg.root)
    monkeypatch.setattr(skops, "__version__", "999.0")
    load_model("models:/churn/Production", registry=reg.root)
    pickles = [p for p in _object_files(cache_dir, reg.md5("churn", 3)) if p.suffix == ".pickle"]
    assert len(pickles) == 2  # one per skops version; both removed with the artifact
    ArtifactCache(cache_dir).remove(reg.md5("churn", 3))
    assert _object_files(cache_dir, reg.md5("churn", 3)) == []


@pytest.mark.slow
def test_the_object_cache_can_be_turned_off(
    reg: Registry, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_model("models:/churn/1", registry=reg.root, object_cache=False)
    monkeypatch.setenv("REGISTRY_GEN_NO_OBJECT_CACHE", "1")
    model = load_model("models:/churn/1", registry=reg.root)
    assert _object_files(cache_dir, reg.md5("churn", 1)) == []
    np.testing.assert_array_equal(model.predict(ROWS), reg.models["churn/1"].predict(ROWS))
    warm = _fresh_load(reg.root, "models:/churn/1", REGISTRY_GEN_NO_OBJECT_CACHE="1")
    assert warm["skops_io"]


def test_prune_deletes_object_cache_files_with_their_artifact_and_orphans(
    reg: Registry,
    cache_dir: Path,
) -> None:
    cache = ArtifactCache(cache_dir)
    load_model("models:/churn/1", registry=reg.root)
    load_model("models:/churn/2", registry=reg.root)
    orphan = _object_files(cache_dir, reg.md5("churn", 2))
    cache.path_for(reg.md5("churn", 2)).unlink()  # the artifact alone, as a crash might

    assert cache.prune(older_than_days=365) == []
    assert all(not p.exists() for p in orphan)
    assert len(_object_files(cache_dir, reg.md5("churn", 1))) == 2
    assert [e.md5 for e in cache.prune(keep_bytes=0)] == [reg.md5("churn", 1)]
    assert _object_files(cache_dir, reg.md5("churn", 1)) == []
