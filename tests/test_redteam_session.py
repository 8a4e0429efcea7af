"""Red-team tests for the features of this session: each one an attack on real parts.

Redirects that hijack an old name, a site that publishes files outside its remote,
trusted skops types that slip past the deny list or stop the validator.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from builders import commit, init_repo, write_model, write_version
from registry_gen._trusted_types import trusted_type_problem
from registry_gen.codeowners import render_codeowners
from registry_gen.site._objects import object_files
from registry_gen.store import load_index
from registry_gen.validate import validate_change

# ---------------------------------------------------------------------------
# Redirects (models/OLD/moved.yaml): repointing an old name is the old target's owners' call


def _renamed_registry(root: Path) -> Path:
    """churn (owned by @ml-team, v1 Production) renamed from churn-old; fraud owned by @mallory."""
    init_repo(root)
    write_model(root, "churn", owners=["@ml-team"])
    write_version(root, "churn", 1, stage="Production")
    write_model(root, "fraud", owners=["@mallory"])
    write_version(root, "fraud", 1, stage="Production")
    moved = root / "models" / "churn-old" / "moved.yaml"
    moved.parent.mkdir(parents=True)
    moved.write_text("to: churn\n")
    commit(root, "Register churn (renamed from churn-old) and fraud")
    return root


def test_repointing_a_redirect_needs_the_old_targets_owners(tmp_path: Path) -> None:
    """`models:/churn-old/Production` loads churn; a PR by fraud's owner points it at fraud."""
    root = _renamed_registry(tmp_path / "reg")
    (root / "models" / "churn-old" / "moved.yaml").write_text("to: fraud\n")
    commit(root, "Point churn-old at fraud", author="Mallory <m@example.com>")

    report = validate_change(root, "HEAD~1", "HEAD")
    notices = [str(f) for f in report.findings if f.code == "RG801"]
    assert any("@ml-team" in n and "churn-old" in n for n in notices), notices
    assert any("@mallory" in n for n in notices), notices


def test_a_new_redirect_to_a_model_needs_its_owners(tmp_path: Path) -> None:
    root = _renamed_registry(tmp_path / "reg")
    moved = root / "models" / "churn-v0" / "moved.yaml"
    moved.parent.mkdir(parents=True)
    moved.write_text("to: churn\n")
    commit(root, "A second old name for churn")
    notices = [str(f) for f in validate_change(root, "HEAD~1", "HEAD").findings]
    assert any("RG801" in n and "@ml-team" in n and "churn-v0" in n for n in notices), notices


def test_codeowners_gives_a_redirect_to_its_targets_owners(tmp_path: Path) -> None:
    """GitHub reads CODEOWNERS from the base: the old folder must be owned there already."""
    root = _renamed_registry(tmp_path / "reg")
    assert "/models/churn-old/ @ml-team\n" in render_codeowners(load_index(root))


# ---------------------------------------------------------------------------
# A site publishes only files inside the local remote


def test_a_symlinked_object_in_a_remote_in_the_repository_is_not_published(
    tmp_path: Path,
) -> None:
    """`registry-gen init`'s dvc-remote/ is in git: a PR can commit a symlink there."""
    secret = tmp_path / "secret.txt"
    secret.write_text("the build machine's secret\n")
    root = init_repo(tmp_path / "reg")
    (root / ".dvc").mkdir()
    (root / ".dvc" / "config").write_text(
        "[core]\n    remote = local\n['remote \"local\"']\n    url = ../dvc-remote\n"
    )
    write_model(root, "churn", owners=["@ml-team"])
    payload = b"the model"
    write_version(root, "churn", 1, content=payload)
    md5 = hashlib.md5(payload).hexdigest()
    obj = root / "dvc-remote" / "files" / "md5" / md5[:2] / md5[2:]
    obj.parent.mkdir(parents=True)
    obj.symlink_to(secret)
    commit(root, "Register churn with its object as a symlink")

    published = object_files(root, load_index(root))
    assert all(source.resolve() != secret for source in published.values()), published
    assert not published


def test_a_symlinked_remote_folder_inside_the_repository_is_not_published(
    tmp_path: Path,
) -> None:
    """A symlinked fan-out folder (files/md5/ab -> /etc) is outside the remote too."""
    outside = tmp_path / "outside"
    payload = b"the model"
    md5 = hashlib.md5(payload).hexdigest()
    (outside).mkdir()
    (outside / md5[2:]).write_text("a file elsewhere on the machine\n")
    root = init_repo(tmp_path / "reg")
    (root / ".dvc").mkdir()
    (root / ".dvc" / "config").write_text(
        "[core]\n    remote = local\n['remote \"local\"']\n    url = ../dvc-remote\n"
    )
    write_model(root, "churn")
    write_version(root, "churn", 1, content=payload)
    fanout = root / "dvc-remote" / "files" / "md5" / md5[:2]
    fanout.parent.mkdir(parents=True)
    fanout.symlink_to(outside)
    commit(root, "Register churn with a symlinked fan-out folder")
    assert object_files(root, load_index(root)) == {}


# ---------------------------------------------------------------------------
# Trusted skops types: the deny list and the imports the validator makes


@pytest.mark.parametrize(
    "name",
    [
        "_operator.methodcaller",  # operator.methodcaller's C twin
        "_operator.attrgetter",
        "_functools.reduce",
        "_socket.socket",
        "_ctypes.dlopen",
        "timeit.timeit",  # runs a string of Python
        "cProfile.run",
        "profile.run",
        "trace.Trace",
        "doctest.debug_src",
        "codecs.open",
        "shelve.open",  # unpickles
        "logging.config.dictConfig",  # instantiates any callable by name
        "numpy.testing._private.utils.runstring",  # exec
        "numpy.lib._format_impl.os.system",  # a denied module reached through an attribute
        "numpy.lib._npyio_impl.pickle.loads",
        "numpy.lib._npyio_impl.load",  # numpy.load under another name
        "registry_gen.paths.atomic_write",  # writes any file
        "registry_gen._git.run",
        "skops.io.load",  # loads anything it is told to trust
        "pandas.read_pickle",
        "pandas.io.pickle.read_pickle",
    ],
)
def test_the_deny_list_covers_aliases_and_code_runners(name: str) -> None:
    assert trusted_type_problem(name) is not None, name


def _exiting_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raises: str) -> str:
    pkg = tmp_path / "site" / "exitpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "boom.py").write_text(f"raise {raises}\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "exitpkg", raising=False)
    return "exitpkg.boom.Thing"


def test_a_module_that_exits_on_import_is_a_problem_not_an_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SystemExit(0) raised while the validator imports a trusted type's module
    would end the check with exit 0 (a pass) before any finding is printed."""
    name = _exiting_package(tmp_path, monkeypatch, "SystemExit(0)")
    problem = trusted_type_problem(name)
    assert problem is not None and "importing exitpkg.boom failed" in problem


def test_replacing_a_redirect_by_a_new_model_of_that_name_needs_the_old_targets_owners(
    tmp_path: Path,
) -> None:
    """Squatting the old name: churn-old becomes a new model that `models:/churn-old/...` loads."""
    root = _renamed_registry(tmp_path / "reg")
    (root / "models" / "churn-old" / "moved.yaml").unlink()
    write_model(root, "churn-old", owners=["@mallory"])
    write_version(root, "churn-old", 1)
    commit(root, "Register churn-old", author="Mallory <m@example.com>")
    notices = [str(f) for f in validate_change(root, "HEAD~1", "HEAD").findings]
    assert any("RG801" in n and "@ml-team" in n and "churn-old" in n for n in notices), notices


def test_an_unchanged_redirect_asks_nobody(tmp_path: Path) -> None:
    root = _renamed_registry(tmp_path / "reg")
    write_version(root, "churn", 2)
    commit(root, "Register churn v2")
    notices = [str(f) for f in validate_change(root, "HEAD~1", "HEAD").findings]
    assert not any("churn-old" in n for n in notices), notices


# ---------------------------------------------------------------------------
# A hostile site's S3 endpoint never receives the reader's AWS credentials


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers.items()))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "AKIAVICTIMKEY",
        "AWS_SECRET_ACCESS_KEY": "victim-secret",
        "AWS_SESSION_TOKEN": "victim-session-token",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)


def _read_from_site_remote(endpoint: str) -> None:
    from registry_gen._dvc import DvcSource
    from registry_gen._remote_fs import open_remote

    remote = open_remote(
        DvcSource(url="s3://victim-bucket/store", options=(("endpointurl", endpoint),))
    )
    path = remote.candidates("d41d8cd98f00b204e9800998ecf8427e", legacy=False)[0]
    with pytest.raises(OSError):  # 404 from the recorder: FileNotFoundError
        remote.fs.open_at(path, 0)


def test_a_sites_s3_endpoint_gets_no_credentials_from_the_environment(
    recorder: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("s3fs")
    endpoint, seen = recorder
    _aws_env(monkeypatch)
    _read_from_site_remote(endpoint)
    assert seen, "the reader never asked the endpoint"
    sent = " ".join(f"{k}: {v}" for headers in seen for k, v in headers.items())
    assert "AKIAVICTIMKEY" not in sent and "victim-session-token" not in sent, sent


def test_the_readers_own_endpoint_gets_its_credentials(
    recorder: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming the endpoint in the reader's own environment is the consent to sign for it."""
    pytest.importorskip("s3fs")
    endpoint, seen = recorder
    _aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint + "/")
    _read_from_site_remote(endpoint)
    assert any("AKIAVICTIMKEY" in h.get("Authorization", "") for h in seen), seen


# ---------------------------------------------------------------------------
# A hostile MLflow tracking server cannot make import-mlflow copy this machine's files


class _HostileMlflow(BaseHTTPRequestHandler):
    """Just enough of MLflow's REST API: one model whose version's files are `secret_uri`."""

    secret_uri: ClassVar[str] = ""

    def _answer(self) -> None:
        path = self.path.split("?", 1)[0].removeprefix("/api/2.0/mlflow/")
        version = {
            "name": "evil",
            "version": "1",
            "creation_timestamp": 1767225600000,
            "last_updated_timestamp": 1767225600000,
            "current_stage": "None",
            "source": self.secret_uri,
            "status": "READY",
        }
        answers: dict[str, dict[str, object]] = {
            "registered-models/search": {"registered_models": [{"name": "evil"}]},
            "registered-models/get": {"registered_model": {"name": "evil"}},
            "model-versions/search": {"model_versions": [version]},
            "model-versions/get": {"model_version": version},
            "model-versions/get-download-uri": {"artifact_uri": self.secret_uri},
        }
        body = answers.get(path, {})
        data = json.dumps(body).encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.slow
def test_a_remote_tracking_server_cannot_name_files_on_this_machine(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from click.testing import CliRunner

    from registry_gen.cli import main
    from registry_gen.scaffold import init_registry

    secret = tmp_path / "home" / ".aws"
    secret.mkdir(parents=True)
    (secret / "credentials").write_text("aws_secret_access_key = victim\n")
    _HostileMlflow.secret_uri = secret.as_uri()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileMlflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        root = init_registry(tmp_path / "reg")
        tracking = f"http://127.0.0.1:{server.server_address[1]}"
        result = CliRunner().invoke(
            main, ["-C", str(root), "import-mlflow", "--tracking-uri", tracking, "--no-push"]
        )
    finally:
        server.shutdown()
        server.server_close()
    copied = [p for p in root.rglob("credentials") if ".git" not in p.parts]
    assert not copied, (result.output, copied)
    assert result.exit_code != 0
    assert "names files on this machine" in result.output


# ---------------------------------------------------------------------------
# History credit: the pull request's author is the merged branch's tip, a git identity


def test_the_history_table_heads_git_identities_as_unverified(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from builders import git
    from registry_gen.cli import main

    root = init_repo(tmp_path / "reg")
    git(root, "checkout", "-q", "-b", "pr")
    write_model(root, "churn")
    write_version(root, "churn", 1)
    commit(root, "Register churn", author="Somebody Else <ceo@example.com>")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", "Merge pull request #7 from x/pr", "pr")
    result = CliRunner().invoke(main, ["-C", str(root), "history"])
    assert result.exit_code == 0, result.output
    assert "Somebody Else" in result.output  # credited from the second parent...
    assert "AUTHOR (UNVERIFIED)" in result.output  # ...and said to be a claim
