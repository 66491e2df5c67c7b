"""Test infrastructure for the `zoo_oci` Python package.

Like the Rust tests (tests/util/), these start REAL registries: Debian's `docker-registry` (CNCF
Distribution 2.8) on a free 127.0.0.1 port, plain HTTP, or TLS with htpasswd authentication,
each writing its log (the access log included) to a file the tests read to count what was
downloaded. A missing tool is a setup error naming scripts/setup.sh, never a skip.

Every test gets its own `ZOO_OCI_CACHE` (a folder under its tmp_path) and its own repository
names, so the session's registries can be shared.

The registry log lines relied on (Distribution 2.8, `log.level: info`, access log enabled), one
per finished request, written when the response has been sent:

    time="..." level=info msg="response completed" ... http.request.method=GET ...
    http.request.uri="/v2/REPO/blobs/sha256:HEX" ... http.response.status=200
    http.response.written=3000

(`level=error msg="response completed with error"` for 4xx/5xx answers, with the same fields).
Its access-log twin (`"GET /v2/... HTTP/1.1" 200 3000 ...`) is not counted, so each request
counts once.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Iterable, Optional

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parents[1]
EXAMPLES = REPO_ROOT / "examples"

#: The user and password of the authenticated registry (as tests/util/registry.rs).
USER = "zoo-tester"
#: A password that must never show up in any output.
PASSWORD = "pw-Never-Print-7f3a9c"

SETUP = "run scripts/setup.sh (it installs docker-registry, apache2-utils for htpasswd, and openssl)"


def require_tool(name: str) -> str:
    """The path of `name`, or a setup error (not a skip) naming scripts/setup.sh."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"setup error: `{name}` is not installed; {SETUP}", pytrace=False)
    return path


# --------------------------------------------------------------------------------------------
# The environment: nothing of the user's cache or credentials leaks in.
# --------------------------------------------------------------------------------------------

_ENV_CLEARED = (
    "ZOO_OCI_USERNAME",
    "ZOO_OCI_PASSWORD",
    "ZOO_OCI_OFFLINE",
    "SOURCE_DATE_EPOCH",
    "REGISTRY_AUTH_FILE",
    "SSL_CERT_FILE",
)


@pytest.fixture(scope="session", autouse=True)
def _session_environment(tmp_path_factory):
    """A cache and an empty Docker config for the session's own pushes (session fixtures)."""
    base = tmp_path_factory.mktemp("session-env")
    (base / "docker").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for name in _ENV_CLEARED:
            mp.delenv(name, raising=False)
        mp.setenv("ZOO_OCI_CACHE", str(base / "cache"))
        mp.setenv("DOCKER_CONFIG", str(base / "docker"))
        mp.setenv("XDG_RUNTIME_DIR", str(base / "runtime"))  # no Podman auth.json from the user
        yield base


@pytest.fixture(autouse=True)
def zoo_cache(tmp_path, monkeypatch) -> Path:
    """This test's own shared cache, `$ZOO_OCI_CACHE` (not created: zoo_oci must create it)."""
    cache = tmp_path / "zoo-cache"
    monkeypatch.setenv("ZOO_OCI_CACHE", str(cache))
    monkeypatch.delenv("ZOO_OCI_OFFLINE", raising=False)
    monkeypatch.delenv("ZOO_OCI_USERNAME", raising=False)
    monkeypatch.delenv("ZOO_OCI_PASSWORD", raising=False)
    docker = tmp_path / "docker-config"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    return cache


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug[:limit].strip("-")) or "t"


@pytest.fixture
def repo(request) -> str:
    """A repository name of this test's own: `py/<test>-<random>` (no tag)."""
    return f"py/{_slug(request.node.name)}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def namespace(request) -> str:
    """A namespace of this test's own, for indexes: `ns-<test>-<random>`."""
    return f"ns-{_slug(request.node.name, 30)}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------------------------
# Registries.
# --------------------------------------------------------------------------------------------

_METHOD = re.compile(r"\bhttp\.request\.method=(\w+)")
_URI = re.compile(r'\bhttp\.request\.uri=("(?:[^"\\]|\\.)*"|\S+)')
_STATUS = re.compile(r"\bhttp\.response\.status=(\d+)")
_WRITTEN = re.compile(r"\bhttp\.response\.written=(\d+)")
_BLOB = re.compile(r"^/v2/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")


@dataclasses.dataclass(frozen=True)
class Request:
    """One request the registry answered, from its "response completed" log line."""

    method: str
    uri: str
    status: int
    written: int

    @property
    def blob(self) -> Optional[tuple[str, str]]:
        """(repository, digest) when this is a request for a blob."""
        m = _BLOB.match(self.uri.split("?", 1)[0])
        return (m["repo"], m["digest"]) if m else None


def parse_requests(log: str) -> list[Request]:
    """Every request in a Distribution 2.8 log, in order (see the module's docstring)."""
    out = []
    for line in log.splitlines():
        if "response completed" not in line:
            continue
        method, uri, status = _METHOD.search(line), _URI.search(line), _STATUS.search(line)
        if not (method and uri and status):
            continue
        written = _WRITTEN.search(line)
        raw = uri.group(1)
        if raw.startswith('"'):
            raw = json.loads(raw)
        out.append(Request(method.group(1), raw, int(status.group(1)), int(written.group(1)) if written else 0))
    return out


class Registry:
    """A running `docker-registry serve` (CNCF Distribution), stopped at the session's end."""

    def __init__(self, workdir: Path, *, tls: Optional[tuple[Path, Path, Path]] = None, auth: bool = False):
        require_tool("docker-registry")
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tls = tls is not None
        self.ca: Optional[Path] = tls[2] if tls else None
        self.auth = auth
        self.user = USER if auth else None
        self.password = PASSWORD if auth else None
        self.log_path = self.dir / "registry.log"
        self.port = _free_port()
        self.addr = f"127.0.0.1:{self.port}"
        config = (
            "version: 0.1\n"
            "log:\n  level: info\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.dir / 'data'}\n  delete:\n    enabled: true\n"
            # No upload purge: it would log (and work) at a random time, up to an hour in.
            "  maintenance:\n    uploadpurging:\n      enabled: false\n"
            f"http:\n  addr: {self.addr}\n"
        )
        if tls:
            cert, key, _ = tls
            config += f"  tls:\n    certificate: {cert}\n    key: {key}\n"
        if auth:
            require_tool("htpasswd")
            htpasswd = self.dir / "htpasswd"
            out = subprocess.run(["htpasswd", "-Bbc", str(htpasswd), USER, PASSWORD], capture_output=True, text=True)
            if out.returncode != 0:
                pytest.fail(f"setup error: htpasswd failed: {out.stderr}", pytrace=False)
            config += f"auth:\n  htpasswd:\n    realm: zoo-oci-tests\n    path: {htpasswd}\n"
        (self.dir / "config.yml").write_text(config)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(self.dir / "config.yml")],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._wait_ready()

    # -- life cycle --

    def _wait_ready(self) -> None:
        """Until `GET /v2/` answers (200, or 401 where it wants credentials), 15 s at most."""
        deadline = time.monotonic() + 15
        expected = 401 if self.auth else 200
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"setup error: the registry exited ({self.process.returncode}):\n{self.log()}", pytrace=False
                )
            try:
                status = self.get("/v2/").status
                if status == expected:
                    return
                last = f"status {status}"
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        pytest.fail(f"setup error: the registry on {self.addr} did not start ({last}):\n{self.log()}", pytrace=False)

    def stop(self) -> None:
        """Stops the process and removes its data (its log stays, for a failed run)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._log.close()
        shutil.rmtree(self.dir / "data", ignore_errors=True)

    # -- talking to it directly (not through zoo_oci) --

    def get(self, path: str, headers: Optional[dict] = None, auth: bool = True):
        """A GET straight to the registry (urllib-free, no proxy): the response, body read."""
        if self.tls:
            context = ssl.create_default_context(cafile=str(self.ca))
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
        if self.auth and auth and path != "/v2/":
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.body = response.read()
            return response
        finally:
            conn.close()

    def manifest(self, repo_ref: str) -> dict:
        """The manifest (parsed) of `REPO:TAG` or `REPO@DIGEST`, read straight from the registry."""
        if "@" in repo_ref:
            name, ref = repo_ref.split("@", 1)
        else:
            name, ref = repo_ref.rsplit(":", 1)
        accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"
        response = self.get(f"/v2/{name}/manifests/{ref}", {"Accept": accept})
        assert response.status == 200, f"manifest {repo_ref}: {response.status} {response.body[:300]!r}"
        return json.loads(response.body)

    # -- where things are --

    def at(self, repo_tag: str) -> str:
        """`127.0.0.1:PORT/REPO[:TAG]`."""
        return f"{self.addr}/{repo_tag}"

    # -- its log --

    def log(self) -> str:
        """The registry's log so far (stdout and stderr)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def settle(self, quiet_for: float = 0.3, timeout: float = 5.0) -> None:
        """Waits until the log has not grown for `quiet_for` seconds: a request's line is written
        just after its response went out, so a client may be done a moment before its line is."""
        deadline = time.monotonic() + timeout
        size = self.log_path.stat().st_size
        still_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.log_path.stat().st_size
            if now != size:
                size, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= quiet_for:
                return

    def mark(self) -> int:
        """A point in the log to count requests from (after letting it settle)."""
        self.settle()
        return self.log_path.stat().st_size

    def requests(self, since: int = 0) -> list[Request]:
        """The requests answered after `since` (a `mark()`), in order."""
        self.settle()
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return parse_requests(f.read().decode(errors="replace"))

    def blob_downloads(self, since: int = 0, repo: Optional[str] = None) -> list[Request]:
        """Blob downloads after `since`: `GET /v2/<repo>/blobs/sha256:...` answered 200 (or 206, a
        ranged continuation), of `repo` only when given."""
        return [
            r
            for r in self.requests(since)
            if r.method == "GET" and r.status in (200, 206) and r.blob and (repo is None or r.blob[0] == repo)
        ]

    def downloaded(self, since: int = 0, repo: Optional[str] = None) -> Counter:
        """How often each blob digest was downloaded after `since`."""
        return Counter(r.blob[1] for r in self.blob_downloads(since, repo))

    def downloaded_bytes(self, since: int = 0, repo: Optional[str] = None) -> int:
        """The body bytes of those downloads (`http.response.written`)."""
        return sum(r.written for r in self.blob_downloads(since, repo))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _openssl(args: list[str], cwd: Path) -> None:
    out = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"setup error: openssl {' '.join(args)}: {out.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> dict[str, Path]:
    """A test CA (`ca.pem`) and a server certificate it signed for 127.0.0.1 and localhost
    (`server.pem`, `server.key`), made with openssl as tests/util/registry.rs makes them."""
    require_tool("openssl")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=zoo-oci test CA"], d
    )
    _openssl(["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], d)
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        [
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
        d,
    )
    return {"ca": d / "ca.pem", "cert": d / "server.pem", "key": d / "server.key"}


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A plain-HTTP registry without authentication: `.addr` (host:port), `.at(repo_tag)`,
    `.log()`, `.mark()`, `.downloaded(since, repo)`, `.downloaded_bytes(since, repo)`."""
    reg = Registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def secure_registry(tmp_path_factory, tls_files):
    """A TLS registry with htpasswd authentication: `.addr`, `.ca` (the CA PEM that signed its
    certificate), `.user`, `.password`, and the log helpers of `registry`."""
    reg = Registry(
        tmp_path_factory.mktemp("secure-registry"),
        tls=(tls_files["cert"], tls_files["key"], tls_files["ca"]),
        auth=True,
    )
    yield reg
    reg.stop()


def docker_config(folder: Path, host: str, user: str, password: str) -> Path:
    """Writes `folder/config.json` with credentials for `host`, as `docker login` does."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    path = folder / "config.json"
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    path.chmod(0o600)
    return path


# --------------------------------------------------------------------------------------------
# A throttling TCP proxy (in its own process, so it holds no GIL of the tests'): makes a pull
# of a big suite last seconds, long enough to interrupt it or to watch the main thread run.
# --------------------------------------------------------------------------------------------


class ThrottleProxy:
    """`127.0.0.1:PORT` forwarding to a plain-HTTP registry, answers sent at `rate` bytes/s per
    connection. `.requests()` are the request lines clients sent, as they were sent (before the
    registry answers: the registry's own log only says when a request has finished)."""

    def __init__(self, upstream: str, rate: float, log_path: Path):
        self.log_path = log_path
        log_path.touch()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, conftest; conftest.throttle_proxy_main(sys.argv[1:])",
                upstream,
                str(rate),
                str(log_path),
            ],
            cwd=TESTS_DIR,
            env={**os.environ, "PYTHONPATH": str(TESTS_DIR)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.kill()
            pytest.fail(f"setup error: the throttling proxy did not start: {line} {self.process.stderr.read()}")
        self.addr = f"127.0.0.1:{line}"

    def at(self, repo_tag: str) -> str:
        return f"{self.addr}/{repo_tag}"

    def requests(self) -> list[str]:
        return [l.split(" ", 1)[1] for l in self.log_path.read_text().splitlines() if " " in l]

    def mark(self) -> int:
        """A point in the request list to look from."""
        return len(self.requests())

    def wait_for(self, text: str, timeout: float = 30.0, since: int = 0) -> bool:
        """Waits until a request line after `since` contains `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in r for r in self.requests()[since:]):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


_REQUEST_LINE = re.compile(rb"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/1\.[01]\r\n")


def throttle_proxy_main(argv: list[str]) -> None:
    """The proxy process: `UPSTREAM_HOST:PORT RATE LOGFILE`; prints its port, serves forever."""
    upstream, rate, log_path = argv[0], float(argv[1]), argv[2]
    host, port = upstream.rsplit(":", 1)
    log = open(log_path, "a", buffering=1)
    lock = threading.Lock()
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    print(server.getsockname()[1], flush=True)

    def up(client: socket.socket, remote: socket.socket) -> None:
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                for m in _REQUEST_LINE.finditer(data):
                    with lock:
                        log.write(f"{time.time():.3f} {m.group(1).decode()} {m.group(2).decode()}\n")
                remote.sendall(data)
        except OSError:
            pass
        finally:
            try:
                remote.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def down(remote: socket.socket, client: socket.socket) -> None:
        burst = max(rate / 10, 65536.0)
        allowance, last = burst, time.monotonic()
        try:
            while True:
                data = remote.recv(65536)
                if not data:
                    break
                client.sendall(data)
                now = time.monotonic()
                allowance = min(burst, allowance + (now - last) * rate) - len(data)
                last = now
                if allowance < 0:
                    time.sleep(-allowance / rate)
        except OSError:
            pass
        finally:
            for s in (client, remote):
                try:
                    s.close()
                except OSError:
                    pass

    def handle(client: socket.socket) -> None:
        try:
            remote = socket.create_connection((host, int(port)))
        except OSError:
            client.close()
            return
        threading.Thread(target=up, args=(client, remote), daemon=True).start()
        down(remote, client)

    while True:
        client, _ = server.accept()
        threading.Thread(target=handle, args=(client,), daemon=True).start()


@pytest.fixture(scope="session")
def slow_registry(registry, tmp_path_factory):
    """The plain registry behind a proxy sending answers at 10 MB/s per connection: a big weight
    file comes down in 4 ranges at once, so a 200 MB pull takes about 5 s."""
    proxy = ThrottleProxy(registry.addr, 10e6, tmp_path_factory.mktemp("proxy") / "requests.log")
    yield proxy
    proxy.stop()


# --------------------------------------------------------------------------------------------
# Suites.
# --------------------------------------------------------------------------------------------


def write(root: Path, rel: str, content, executable: bool = False) -> Path:
    """Writes `content` (str or bytes) at `root/rel`, folders made; mode 0755 or 0644."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(0o755 if executable else 0o644)
    return path


def pseudo_random(n: int, seed: int) -> bytes:
    """Deterministic bytes that do not compress (weights)."""
    return random.Random(seed).randbytes(n)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if n == 0:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def onnx_model(opset: int, weights: bytes) -> bytes:
    """A real ONNX ModelProto (opset `opset`) holding `weights` as one float32 initializer `w`."""
    tensor = b"\x08" + _varint(len(weights) // 4) + b"\x10\x01" + _field(8, b"w") + _field(9, weights)
    graph = _field(2, b"test") + _field(5, tensor)
    return b"\x08\x07" + _field(7, graph) + _field(8, bytes([0x10, opset]))


def safetensors_model(weights: bytes) -> bytes:
    """A real safetensors file holding `weights` as one float32 tensor `w`."""
    n = len(weights)
    header = json.dumps({"w": {"dtype": "F32", "shape": [n // 4], "data_offsets": [0, n]}}).encode()
    return len(header).to_bytes(8, "little") + header + weights


#: The descriptor of `small_suite` (tests/util/mod.rs's SMALL_SUITE_YAML).
SMALL_SUITE_YAML = """name: tiny
version: "1.0.0"
summary: A tiny suite for tests
task: image-classification
tags: [test, tiny]
license: MIT
authors: ["Zoë Tester"]
source: https://example.org/tiny
models:
  - {name: onnx-opset13, path: models/onnx/, framework: onnx, framework_version: "1.14", opset: 13, precision: fp32, params: 17500}
  - {name: safetensors, path: models/model.safetensors, framework: safetensors, precision: fp32}
io:
  inputs: [{name: input, dtype: float32, shape: [1, 3, 224, 224], layout: NCHW}]
  outputs: [{name: logits, dtype: float32, shape: [1, 1000]}]
results:
  - dataset: {name: tiny-test, split: test}
    metrics: [{type: accuracy, value: 0.5}]
scripts: {inference: scripts/infer.py, validate: scripts/validate.py, other: [scripts/common.py]}
notebooks: [notebooks/demo.ipynb]
datasets:
  - {name: tiny-test, role: test, path: data/test/}
  - {name: tiny-train, role: train, url: https://example.org/train.tar, sha256: null, size: null}
docs: [docs/]
"""

SMALL_SUITE_README = "# Tiny — a test suite\n\nÜbung macht den Meister. 模型 ×2\n"


def small_suite(root: Path, name: str = "suite", yaml: str = SMALL_SUITE_YAML, weights_seed: int = 3) -> Path:
    """A small multi-framework suite (tests/util/mod.rs's small_suite): two model variants (a
    folder and a file), scripts (two executable), a notebook, a test set, a UTF-8 README, a
    licence, docs. `weights_seed` changes the safetensors variant's bytes, and only them."""
    d = root / name
    write(d, "models/onnx/model.onnx", onnx_model(13, pseudo_random(70_000, 1)))
    write(d, "models/onnx/extra/weights.bin", pseudo_random(5_000, 2))
    write(d, "models/model.safetensors", safetensors_model(pseudo_random(20_000, weights_seed)))
    write(d, "scripts/infer.py", "#!/usr/bin/env python3\nprint('infer')\n", True)
    write(d, "scripts/validate.py", "#!/usr/bin/env python3\nprint('validate')\n", True)
    write(d, "scripts/common.py", "X = 1\n")
    write(d, "notebooks/demo.ipynb", '{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}')
    for i in range(5):
        write(d, f"data/test/sample-{i}.csv", f"a,b\n{i},{i * 2}\n")
    write(d, "README.md", SMALL_SUITE_README)
    write(d, "LICENSE", "MIT License\n")
    write(d, "docs/card.md", "More docs.\n")
    write(d, "zoo.yaml", yaml)
    return d


def descriptor(**changes: str) -> str:
    """SMALL_SUITE_YAML with top-level scalar fields replaced, e.g. version='"2.0.0"'."""
    text = SMALL_SUITE_YAML
    for key, value in changes.items():
        text, n = re.subn(rf"(?m)^{key}: .*$", f"{key}: {value}", text)
        assert n == 1, f"no {key} in the descriptor"
    return text


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below `root`: relative path -> (bytes, mode), the pull record left out."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".zoo-oci.json" or path.is_dir():
            continue
        assert not path.is_symlink(), f"{rel} is a symbolic link"
        out[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return out


def assert_same_tree(expected: Path, actual: Path) -> None:
    """The two folders hold the same files, byte for byte, with the same execute bits."""
    a, b = tree(expected), tree(actual)
    assert sorted(a) == sorted(
        b
    ), f"file lists differ: only in {expected}: {sorted(set(a) - set(b))}, only in {actual}: {sorted(set(b) - set(a))}"
    for rel in a:
        assert a[rel][0] == b[rel][0], f"{rel} differs"
        assert bool(a[rel][1] & 0o111) == bool(b[rel][1] & 0o111), f"{rel}: mode {a[rel][1]:o} vs {b[rel][1]:o}"


def files_of(root: Path) -> list[str]:
    """The relative paths of the files below `root`, the pull record left out, sorted."""
    return sorted(tree(root))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: The example's model files and their sha256, as scripts/fetch-examples.sh pins them.
IRIS_MODEL_FILES = {
    "models/logreg_iris.onnx": "8224784c98d73412d9fd99abcd57a38568bd590980d0fbe5916464531c52e8fc",
    "models/logreg_iris_fixed.onnx": "45b5bb10a7bc6b9fd31b8281c99b55b63ed08e2bbce340a93d0c72bdac6534cc",
    "models/logreg_iris.safetensors": "b4fe3c59fca1041dff4638edb66965744355d675eb4a198414bb534bb03c7444",
}


@pytest.fixture(scope="session")
def iris_example() -> Path:
    """examples/iris-logreg, after checking scripts/fetch-examples.sh fetched its model files."""
    d = EXAMPLES / "iris-logreg"
    if not (d / "zoo.yaml").is_file():
        pytest.fail(f"setup error: {d}/zoo.yaml is missing (a broken checkout?)", pytrace=False)
    for rel, pin in IRIS_MODEL_FILES.items():
        path = d / rel
        if not path.is_file() or sha256_file(path) != pin:
            pytest.fail(
                f"setup error: {path} is missing or not the pinned file; run scripts/fetch-examples.sh "
                "(scripts/setup.sh runs it)",
                pytrace=False,
            )
    return d


BIG_SIZE = 200 * 1000 * 1000  # bytes of the big suite's weights

BIG_YAML = """name: big
version: "1.0"
summary: 200 MB of random weights, for interrupting and timing pulls
license: MIT
models:
  - {name: weights, path: models/weights.bin, framework: pytorch}
"""


@dataclasses.dataclass
class BigSuite:
    folder: Path
    repo: str
    ref: str  # on the plain registry, HOST:PORT/REPO:TAG
    tag: str
    digest: str  # the manifest's
    weights_digest: str  # the one big layer's (a raw layer: the file's sha256)


@pytest.fixture(scope="session")
def big_suite(tmp_path_factory, registry):
    """A suite of one 200 MB random file, pushed once per session to the plain registry."""
    import zoo_oci

    folder = tmp_path_factory.mktemp("big") / "big"
    (folder / "models").mkdir(parents=True)
    h = hashlib.sha256()
    with open(folder / "models/weights.bin", "wb") as f:
        left = BIG_SIZE
        while left:
            chunk = os.urandom(min(left, 8 << 20))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    write(folder, "README.md", "# big\n\nRandom weights.\n")
    write(folder, "zoo.yaml", BIG_YAML)
    repo = f"py/big-{uuid.uuid4().hex[:8]}"
    ref = registry.at(f"{repo}:1.0")
    digest = zoo_oci.push(folder, ref, plain_http=True, quiet=True)
    yield BigSuite(folder, repo, ref, "1.0", digest, "sha256:" + h.hexdigest())
    shutil.rmtree(folder, ignore_errors=True)  # 200 MB; pytest keeps the last runs' tmp folders


# --------------------------------------------------------------------------------------------
# The command line the wheel installs, subprocesses, measurements.
# --------------------------------------------------------------------------------------------


def zoo_command() -> Path:
    """The `zoo-oci` console command installed beside this Python (the wheel's)."""
    path = Path(sysconfig.get_path("scripts")) / "zoo-oci"
    if not path.is_file():
        pytest.fail(
            f"the zoo-oci console command is not installed in {path.parent} (the wheel must install it); "
            "run the tests with scripts/test-python.sh",
            pytrace=False,
        )
    return path


def zoo_cli(*args: str, env: Optional[dict] = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs the wheel's `zoo-oci ARGS` with this process's environment (plus `env`)."""
    return subprocess.run(
        [str(zoo_command()), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def run_python(code: str, *, env: Optional[dict] = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs `python -c CODE` with this interpreter and environment."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout
    )


def bench(name: str, value: float, unit: str, **extra) -> None:
    """Prints a measurement and appends it as a JSON line to $ZOO_OCI_BENCH_OUT when set."""
    print(f"bench: {name}: {value:.6g} {unit}")
    out = os.environ.get("ZOO_OCI_BENCH_OUT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"name": name, "value": value, "unit": unit, **extra}) + "\n")


def field(obj, name: str):
    """`obj.name` or `obj[name]`: for the JSON-shaped parts of a Suite (io, results, problems)."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name)


def names(items: Iterable) -> list[str]:
    """The names of suites (or of plain strings)."""
    return [i if isinstance(i, str) else i.name for i in items]


def covers(paths: Iterable[str], rel: str) -> bool:
    """Whether one of a variant's paths (a file, or a folder ending in /) holds `rel`."""
    for p in paths:
        p = str(p)
        if p == rel or (p.endswith("/") and rel.startswith(p)) or rel.startswith(p.rstrip("/") + "/"):
            return True
    return False
