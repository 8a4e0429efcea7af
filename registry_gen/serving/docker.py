"""A Docker build context that serves one model: ``registry-gen build-docker URI -t IMAGE``.

Two ways to get the model into the container:

- baked (default): the URI is resolved now to its exact version; the version's
  records and its verified cache entry are copied into the context, and the
  container serves them offline (``REGISTRY_GEN_OFFLINE=1``), checking the md5
  at every load as always;
- fetched at start (``bake=False``): the container resolves the URI against
  the registry's git URL or published site when it starts, and follows the
  stage or alias from then on.

The image is ``python:3.11-slim`` with ``registry-gen[serve,sklearn]``, runs as an
unprivileged user, and has a ``HEALTHCHECK`` on ``/ping``.

Example:
    >>> write_docker_context("models:/churn@champion", "build/", registry=".")  # doctest: +SKIP
    PosixPath('build')
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from registry_gen import __version__
from registry_gen.errors import UsageError
from registry_gen.loader import download_artifacts, resolve
from registry_gen.locate import parse_location

BASE_IMAGE = "python:3.11-slim"
USER_ID = 10001
SRV = "/srv/registry-gen"


def write_docker_context(
    uri: str,
    dest: str | Path,
    *,
    registry: str | None = None,
    bake: bool = True,
    base_image: str = BASE_IMAGE,
    package: str | None = None,
    port: int = 8080,
    workers: int = 1,
    interval: float = 30.0,
) -> Path:
    """Write ``Dockerfile``, ``.dockerignore`` and the model (if baked) into ``dest``.

    ``package`` is what pip installs: a requirement (default
    ``registry-gen[serve,sklearn]==VERSION``) or the path of a wheel, copied into the context.

    Raises:
        UsageError: baking from a registry that is not a checkout, or fetching at
            start from one that is (the container cannot see this machine's folders).
        RegistryError: the URI does not resolve or its artifact cannot be fetched.
    """
    out = Path(dest)
    out.mkdir(parents=True, exist_ok=True)
    install, copy_wheel = _install_line(package, out)
    if bake:
        served_uri, source = _bake(uri, registry, out)
        env = {"REGISTRY_GEN_CACHE": f"{SRV}/cache", "REGISTRY_GEN_OFFLINE": "1"}
        args = [served_uri, "--from", f"{SRV}/registry"]
        copies = [
            f"COPY --chown={USER_ID}:{USER_ID} registry {SRV}/registry",
            f"COPY --chown={USER_ID}:{USER_ID} cache {SRV}/cache",
        ]
    else:
        if registry is None or parse_location(registry)[0] == "local":
            raise UsageError(
                "--no-bake needs --from with the registry's git URL or site URL: "
                "the container resolves the URI there when it starts"
            )
        source = registry
        env = {"REGISTRY_GEN_CACHE": f"{SRV}/cache"}
        args = [uri, "--from", registry]
        copies = [f"RUN mkdir -p {SRV}/cache && chown -R {USER_ID}:{USER_ID} {SRV}"]
    command = [
        "python",
        "-m",
        "registry_gen.serving",
        *args,
        "--host",
        "0.0.0.0",  # noqa: S104 (inside a container)
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--interval",
        f"{interval:g}",
    ]
    text = _dockerfile(
        base_image,
        install,
        copy_wheel=copy_wheel,
        copies=copies,
        env=env,
        port=port,
        command=command,
        what=f"{uri} from {source}",
    )
    (out / "Dockerfile").write_text(text)
    (out / ".dockerignore").write_text("**/.git\n**/__pycache__\n")
    return out


def _install_line(package: str | None, out: Path) -> tuple[str, str | None]:
    if package is None:
        return f'"registry-gen[serve,sklearn]=={__version__}"', None
    wheel = Path(package)
    if wheel.is_file():
        shutil.copyfile(wheel, out / wheel.name)
        return f'"/tmp/{wheel.name}[serve,sklearn]"', f"COPY {wheel.name} /tmp/{wheel.name}"
    return json.dumps(package), None


def _bake(uri: str, registry: str | None, out: Path) -> tuple[str, str]:
    """Copy the exact version's records and verified artifact; return its exact URI."""
    if registry is not None and parse_location(registry)[0] != "local":
        raise UsageError(
            "baking copies records from a checkout: pass --from PATH, or "
            "--no-bake to fetch from a URL when the container starts"
        )
    resolved = resolve(uri, registry=registry)
    root = Path(resolved.registry)
    target = out / "registry"
    if target.exists():
        shutil.rmtree(target)
    version_dir = Path("models") / resolved.name / str(resolved.version)
    for rel in [Path("registry.yaml"), Path("models") / resolved.name / "model.yaml"]:
        if (root / rel).is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, target / rel)
    (target / version_dir).mkdir(parents=True, exist_ok=True)
    for file in sorted((root / version_dir).iterdir()):
        if file.is_file() and file.suffix in (".yaml", ".dvc"):
            shutil.copyfile(file, target / version_dir / file.name)
    download_artifacts(resolved.exact_uri, registry=registry, cache_dir=out / "cache")
    return str(resolved.exact_uri), str(root)


def _dockerfile(
    base: str,
    install: str,
    *,
    copy_wheel: str | None,
    copies: list[str],
    env: dict[str, str],
    port: int,
    command: list[str],
    what: str,
) -> str:
    lines = [
        f"# Serves {what}. Written by registry-gen {__version__} (build-docker).",
        f"FROM {base}",
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 "
        "PIP_DISABLE_PIP_VERSION_CHECK=1",
        # git: the loader reads git URLs with it and fetches artifacts through DVC.
        "RUN apt-get update && apt-get install -y --no-install-recommends git "
        "&& rm -rf /var/lib/apt/lists/*",
        *([copy_wheel] if copy_wheel else []),
        f"RUN pip install {install}",
        f"RUN useradd --system --uid {USER_ID} --home-dir {SRV} --shell /usr/sbin/nologin model",
        *copies,
        "ENV " + " ".join(f"{k}={v}" for k, v in env.items()),
        f"USER {USER_ID}",
        f"WORKDIR {SRV}",
        f"EXPOSE {port}",
        "HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD "
        'python -c "import urllib.request; urllib.request.urlopen('
        f"'http://127.0.0.1:{port}/ping', timeout=2)\" || exit 1",
        # exec form: the server is PID 1 and gets SIGTERM itself (graceful shutdown).
        f"CMD {json.dumps(command)}",
    ]
    return "\n".join(lines) + "\n"
