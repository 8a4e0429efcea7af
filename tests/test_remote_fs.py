"""Opening a DVC remote without DVC: DVC's option names mapped, missing extras named."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from registry_gen._dvc import DvcSource
from registry_gen._remote_fs import FsspecFs, LocalFs, open_remote
from registry_gen.errors import ArtifactError, MissingExtra


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, cls: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    class Fs:
        def __init__(self, **kwargs: Any) -> None:
            seen.append(kwargs)

    module = types.ModuleType(name)
    setattr(module, cls, Fs)
    monkeypatch.setitem(sys.modules, name, module)
    return seen


def test_s3_options_as_dvc_names_them() -> None:
    pytest.importorskip("s3fs")
    remote = open_remote(
        DvcSource(url="s3://bucket/store", options=(("endpointurl", "http://127.0.0.1:9"),))
    )
    assert isinstance(remote.fs, FsspecFs)
    assert remote.path == "bucket/store"
    assert remote.fs.fs.client_kwargs["endpoint_url"] == "http://127.0.0.1:9"
    assert remote.candidates("ab" + "c" * 30, legacy=False)[0] == (
        "bucket/store/files/md5/ab/" + "c" * 30
    )


def test_gcs_and_azure_options(monkeypatch: pytest.MonkeyPatch) -> None:
    gcs = _fake_module(monkeypatch, "gcsfs", "GCSFileSystem")
    azure = _fake_module(monkeypatch, "adlfs", "AzureBlobFileSystem")
    open_remote(DvcSource(url="gs://b/p", options=(("projectname", "acme"),)))
    open_remote(DvcSource(url="azure://container/p", options=(("account_name", "acme"),)))
    assert gcs == [{"skip_instance_cache": True, "project": "acme"}]
    assert azure == [{"skip_instance_cache": True, "account_name": "acme"}]


def test_a_missing_filesystem_library_names_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gcsfs", None)  # an import of it raises ImportError
    with pytest.raises(MissingExtra) as error:
        open_remote(DvcSource(url="gs://bucket/store"))
    assert str(error.value) == (
        "reading a gs:// DVC remote needs the gcs extra: pip install 'registry-gen[gcs]'"
    )


def test_a_remote_kind_the_reader_does_not_read() -> None:
    with pytest.raises(ArtifactError, match=r"ssh:// remote: fetch it with `dvc pull`"):
        open_remote(DvcSource(url="ssh://host/store"))


def test_local_paths_and_file_urls(tmp_path: Path) -> None:
    assert isinstance(open_remote(DvcSource(url=str(tmp_path))).fs, LocalFs)
    assert open_remote(DvcSource(url=f"file://{tmp_path}")).path == str(tmp_path)
    assert open_remote(DvcSource(url="~/store")).path == str(Path("~/store").expanduser())
