"""A real server for the serving tests: uvicorn on 127.0.0.1 in a thread, and HTTP helpers."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from loader_fixtures import Registry, copy_registry
from starlette.applications import Starlette

from registry_gen.yamlio import dump_yaml, parse_yaml

SIGNATURE = {
    "inputs": [{"name": "a", "type": "float64"}, {"name": "b", "type": "float64"}],
    "outputs": [{"type": "int64", "shape": [-1]}],
}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str,
    body: bytes | str | None = None,
    content_type: str | None = None,
    method: str | None = None,
) -> Reply:
    """One HTTP request; HTTP errors are replies too (their status and body)."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if content_type is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def post_json(url: str, document: Any) -> Reply:
    return request(url, json.dumps(document), "application/json")


@contextmanager
def running(app: Starlette) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def with_signature(
    reg: Registry,
    dest: Path,
    signature: dict[str, Any] | None = SIGNATURE,
    *,
    own_remote: bool = False,
) -> Registry:
    """A private copy of the loader registry whose churn v1-v3 record ``signature``."""
    copy = copy_registry(reg, dest, own_remote=own_remote)
    if signature is not None:
        for number in (1, 2, 3):
            file = copy.root / "models" / "churn" / str(number) / "version.yaml"
            record = dict(parse_yaml(file.read_text(), str(file), lines=False).data)
            record["signature"] = signature
            file.write_text(dump_yaml(record))
    return copy
