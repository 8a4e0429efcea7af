"""The reader install (issue 12): its size, and a cold load from the published site.

* **Install size**: this checkout's wheel installed, offline with the dev venv's uv,
  into a fresh venv (the reader alone, then with ``[sklearn]``, what loading a
  skops model needs); the size of ``site-packages`` and the number of packages.
* **Cold load from the site**: the generated registry's JSON API and its local
  remote's objects (as the site build publishes them) served by an HTTP server on
  127.0.0.1; a fresh process with an empty cache loads ``models:/m/Production``
  from the site's URL and predicts one row. Its floor: a fresh process that GETs
  the same artifact bytes with urllib and deserialises them with skops (the same
  trusted types) and predicts. Target: the floor + 0.3 s.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .harness import Figure, ProcessFailed, Target, time_process

if TYPE_CHECKING:
    from ._bench import Bench

COLD_SITE_TARGET = Target(margin=0.3, label="≤ floor + 300 ms")
CHECKOUT = Path(__file__).resolve().parent.parent

_COLD_SCRIPT = """\
import os, sys, tempfile
os.environ["REGISTRY_GEN_CACHE"] = tempfile.mkdtemp(prefix="cold-")  # a cold cache each run
import registry_gen
model = registry_gen.load_model(sys.argv[1], registry=sys.argv[2])
print(model.predict([[{row}]])[0])
"""

_FLOOR_SCRIPT = """\
import json, sys, urllib.request
import skops.io as sio
with urllib.request.urlopen(sys.argv[1]) as response:
    data = response.read()
model = sio.loads(data, trusted=json.loads(sys.argv[2]))
print(model.predict([[{row}]])[0])
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass


def _write_site(root: Path, site: Path) -> None:
    """The JSON API and the published objects, as ``registry-gen docs build`` writes them."""
    from registry_gen.site._objects import object_files
    from registry_gen.site.api import read_dvc_remote, render_api
    from registry_gen.store import load_index

    index = load_index(root)
    for relative, text in render_api(index, read_dvc_remote(root)).items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    for relative, source in object_files(root, index).items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, site / relative)


def _production(site: Path, uri: str) -> tuple[str, list[str]]:
    """The site-relative object path and trusted types of ``uri`` (``models:/NAME/Production``)."""
    name = uri.split("/")[1]
    model = json.loads((site / "api" / "models" / f"{name}.json").read_text())
    version = next(v for v in model["versions"] if v["stage"] == "Production")
    md5 = version["artifact"]["md5"]
    return f"api/objects/files/md5/{md5[:2]}/{md5[2:]}", version["artifact"]["trusted_types"]


def measure_cold_site_load(bench: Bench) -> None:
    site = bench.work / "reader-site"
    shutil.rmtree(site, ignore_errors=True)
    _write_site(bench.root, site)
    uri = bench.registry.production_uri
    obj, trusted = _production(site, uri)
    row = ", ".join(repr(x) for x in bench.registry.sample_row)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    env = bench.env()
    try:
        floor = Figure(
            "floor: HTTP GET of the artifact + skops load + predict (fresh process)",
            "reader",
            time_process(
                [
                    sys.executable,
                    "-c",
                    _FLOOR_SCRIPT.format(row=row),
                    url + obj,
                    json.dumps(trusted),
                ],
                bench.runs,
                env=env,
                warmup=bench.warmup,
            ),
            note="the same bytes from the same server, deserialised with the same trusted types",
        )
        bench.results.add(floor)
        try:
            cold = time_process(
                [sys.executable, "-c", _COLD_SCRIPT.format(row=row), uri, url],
                bench.runs,
                env=env,
                warmup=bench.warmup,
            )
        except ProcessFailed as error:
            bench.results.skip("load_model from the site (cold cache)", f"failed: {error}")
            return
        bench.results.add(
            Figure(
                f"load_model({uri}, registry=SITE) + predict, cold cache (fresh process)",
                "reader",
                cold,
                target=bench.target(COLD_SITE_TARGET),
                floor=floor.name,
                note="the site's JSON API (2 GETs) and its published object, verified by md5",
            )
        )
    finally:
        server.shutdown()
        server.server_close()


def _site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def _size(folder: Path) -> tuple[float, int]:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    packages = sum(1 for p in folder.glob("*.dist-info"))
    return total / 1e6, packages


def install_size(extras: str = "") -> tuple[float, int]:
    """MB and package count of a fresh venv with this checkout (``extras``), offline via uv.

    The wheel is built from a copy of the checkout; ``pip`` and ``setuptools`` are not
    installed by uv, so the count is registry-gen and its dependencies.
    """
    uv = Path(sys.executable).with_name("uv")
    with tempfile.TemporaryDirectory(prefix="reader-size-") as tmp:
        base = Path(tmp)
        source = base / "src"
        shutil.copytree(
            CHECKOUT / "registry_gen",
            source / "registry_gen",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        for name in ("pyproject.toml", "README.md"):
            shutil.copyfile(CHECKOUT / name, source / name)

        def run(*args: str) -> None:
            subprocess.run([str(uv), *args, "--offline", "--quiet"], check=True)

        run("build", "--wheel", "--out-dir", str(base / "dist"), str(source))
        wheel = next((base / "dist").glob("*.whl"))
        run("venv", "--python", sys.executable, str(base / "venv"))
        spec = f"registry-gen[{extras}] @ {wheel.as_uri()}" if extras else str(wheel)
        run("pip", "install", "--python", str(base / "venv" / "bin" / "python"), spec)
        return _size(_site_packages(base / "venv"))


def measure_install_size(bench: Bench) -> None:
    if not Path(sys.executable).with_name("uv").is_file():
        bench.results.skip("reader install size", "uv is not in this venv (./dev installs it)")
        return
    for extras, label in (
        ("", "pip install registry-gen"),
        ("sklearn", "pip install 'registry-gen[sklearn]'"),
    ):
        try:
            megabytes, packages = install_size(extras)
        except (subprocess.CalledProcessError, StopIteration, OSError) as error:
            bench.results.skip(f"install size: {label}", f"failed: {error}")
            continue
        bench.log(f"  {label}: {megabytes:.0f} MB, {packages} packages")
        # A size, not a time: kept in the results' context (JSON), printed in the log.
        sizes = bench.results.context.setdefault("reader_install", {})
        sizes[label] = {"megabytes": round(megabytes, 1), "packages": packages}


def measure_reader(bench: Bench) -> None:
    """Both measurements of the reader install (``--only reader``)."""
    measure_install_size(bench)
    measure_cold_site_load(bench)
