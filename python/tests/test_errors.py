"""Every exception class, raised by real failures, each checked against what the command line
says of the same failure (`zoo-oci --log-format json` prints the error as one JSON line with its
message, causes, hint and exit code): the same exit code, the same hint, the same message."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Optional

import pytest

import zoo_oci
from conftest import (
    PASSWORD,
    USER,
    assert_same_tree,
    docker_config,
    files_of,
    small_suite,
    zoo_cli,
)

CLASSES = {
    zoo_oci.UsageError: 2,
    zoo_oci.AuthError: 3,
    zoo_oci.NotFoundError: 4,
    zoo_oci.IntegrityError: 5,
    zoo_oci.TransportError: 1,
}


def cli_error(*args: str, env: Optional[dict] = None) -> dict:
    """The error the command line reports for `zoo-oci ARGS` (it must fail)."""
    out = zoo_cli("--log-format", "json", *args, env=env)
    assert out.returncode != 0, f"zoo-oci {' '.join(args)} succeeded:\n{out.stdout}\n{out.stderr}"
    events = []
    for line in out.stderr.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "error":
            events.append(event)
    assert len(events) == 1, f"one error event expected:\n{out.stderr}"
    assert events[0]["exit_code"] == out.returncode
    return events[0]


def assert_error(error: BaseException, cls: type, cli: Optional[dict] = None) -> zoo_oci.ZooError:
    """`error` is a `cls`, a ZooError, with the fields the command line reports for it."""
    assert type(error) is cls, f"{type(error).__name__} raised, {cls.__name__} expected: {error}"
    assert isinstance(error, zoo_oci.ZooError)
    assert error.exit_code == CLASSES[cls]
    assert isinstance(error.message, str) and error.message, repr(error.message)
    assert error.message in str(error)
    assert isinstance(error.causes, list) and all(isinstance(c, str) for c in error.causes), error.causes
    assert error.hint is None or isinstance(error.hint, str)
    if cli is not None:
        assert error.exit_code == cli["exit_code"], cli
        assert error.message == cli["message"]
        assert error.causes == cli["causes"]
        assert error.hint == cli["hint"]
        if cli["hint"]:
            assert isinstance(error.hint, str) and error.hint.strip(), "the CLI prints a hint, so the error has one"
    return error


@pytest.fixture
def pushed(registry, tmp_path, repo):
    """The small suite pushed to the plain registry as REPO:1.0.0: (suite folder, ref)."""
    suite = small_suite(tmp_path)
    ref = registry.at(f"{repo}:1.0.0")
    zoo_oci.push(suite, ref, plain_http=True, quiet=True)
    return suite, ref


# --------------------------------------------------------------------------------------------
# UsageError (exit 2)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["not a ref::", "zoo:1.0", "HOST/UPPER/case:1", "127.0.0.1:99999/zoo/x:1"])
def test_a_malformed_reference_is_a_usage_error(ref, tmp_path):
    dest = str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, plain_http=True, quiet=True)
    e = assert_error(raised.value, zoo_oci.UsageError, cli_error("pull", "--plain-http", ref, "-o", dest))
    assert e.hint, "a malformed reference says what a reference looks like"
    with pytest.raises(zoo_oci.UsageError):
        zoo_oci.inspect(ref, plain_http=True)
    assert not (tmp_path / "out").exists()


def test_an_unknown_class_is_a_usage_error(pushed, tmp_path):
    _, ref = pushed
    dest = str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, only=["nosuch"], plain_http=True, quiet=True)
    e = assert_error(
        raised.value, zoo_oci.UsageError, cli_error("pull", "--plain-http", ref, "-o", dest, "--only", "nosuch")
    )
    assert "model" in e.hint and "scripts" in e.hint, e.hint


def test_pulling_an_image_index_without_a_variant_is_a_usage_error(tmp_path):
    """An image index of two suites (as KitOps groups quantisations): pull must be told which."""
    layout = tmp_path / "zoo"
    children = []
    for name, seed in (("small", 3), ("large", 4)):
        suite = small_suite(tmp_path, name=name, weights_seed=seed)
        digest = zoo_oci.push(suite, f"oci:{layout}:{name}", quiet=True)
        size = (layout / "blobs/sha256" / digest.removeprefix("sha256:")).stat().st_size
        children.append(
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": size,
                "annotations": {"io.zoo-oci.variant": name},
                "artifactType": "application/vnd.cncf.model.manifest.v1+json",
            }
        )
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children}
    ).encode()
    index_digest = "sha256:" + hashlib.sha256(index).hexdigest()
    (layout / "blobs/sha256" / index_digest.removeprefix("sha256:")).write_bytes(index)
    top = json.loads((layout / "index.json").read_text())
    top["manifests"].append(
        {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": index_digest,
            "size": len(index),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }
    )
    (layout / "index.json").write_text(json.dumps(top))

    ref, dest = f"oci:{layout}:multi", str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, quiet=True)
    e = assert_error(raised.value, zoo_oci.UsageError, cli_error("pull", ref, "-o", dest))
    assert "small" in str(e) and "large" in str(e), str(e)
    assert "variant" in e.hint, e.hint
    assert not Path(dest).exists()

    # Named, it pulls that child.
    out = zoo_oci.pull(ref, dest, variant="large", quiet=True)
    assert_same_tree(tmp_path / "large", out)


# --------------------------------------------------------------------------------------------
# NotFoundError (exit 4)
# --------------------------------------------------------------------------------------------


def test_a_missing_tag_on_a_live_registry_is_not_found_and_lists_the_tags(pushed, registry, tmp_path, repo):
    ref, dest = registry.at(f"{repo}:nope"), str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, plain_http=True, quiet=True)
    e = assert_error(raised.value, zoo_oci.NotFoundError, cli_error("pull", "--plain-http", ref, "-o", dest))
    assert "1.0.0" in e.hint, e.hint
    with pytest.raises(zoo_oci.NotFoundError) as inspected:
        zoo_oci.inspect(ref, plain_http=True)
    assert inspected.value.exit_code == 4
    assert not Path(dest).exists()


def test_a_missing_repository_and_a_missing_layout_are_not_found(registry, tmp_path, repo):
    ref, dest = registry.at(f"{repo}-never-pushed:1"), str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, plain_http=True, quiet=True)
    assert_error(raised.value, zoo_oci.NotFoundError, cli_error("pull", "--plain-http", ref, "-o", dest))

    ref = f"oci:{tmp_path / 'no-layout'}:1"
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, quiet=True)
    e = assert_error(raised.value, zoo_oci.NotFoundError, cli_error("pull", ref, "-o", dest))
    assert e.hint


def test_an_unknown_variant_is_not_found_and_lists_the_variants(pushed, tmp_path):
    _, ref = pushed
    dest = str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, variant="nosuch", plain_http=True, quiet=True)
    e = assert_error(
        raised.value, zoo_oci.NotFoundError, cli_error("pull", "--plain-http", ref, "-o", dest, "--variant", "nosuch")
    )
    assert "onnx-opset13" in e.hint and "safetensors" in e.hint, e.hint
    assert not Path(dest).exists()


# --------------------------------------------------------------------------------------------
# AuthError (exit 3), and credentials read as the command line reads them
# --------------------------------------------------------------------------------------------


def assert_no_secret(error: BaseException) -> None:
    for text in (str(error), repr(error), error.message, error.hint or "", *error.causes):
        assert PASSWORD not in text and "wrong-password" not in text, text
        assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in text


def test_auth_errors_and_credentials_from_the_environment(secure_registry, tmp_path, repo, monkeypatch):
    suite = small_suite(tmp_path)
    ref = secure_registry.at(f"{repo}:1.0.0")
    ca = str(secure_registry.ca)

    # No credentials at all.
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.push(suite, ref, ca_file=ca, quiet=True)
    e = assert_error(raised.value, zoo_oci.AuthError, cli_error("push", "--ca-file", ca, str(suite), ref))
    assert "login" in e.hint, e.hint

    # A wrong password.
    monkeypatch.setenv("ZOO_OCI_USERNAME", USER)
    monkeypatch.setenv("ZOO_OCI_PASSWORD", "wrong-password")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.push(suite, ref, ca_file=ca, quiet=True)
    e = assert_error(raised.value, zoo_oci.AuthError, cli_error("push", "--ca-file", ca, str(suite), ref))
    assert e.hint
    assert_no_secret(e)
    with pytest.raises(zoo_oci.AuthError) as inspected:
        zoo_oci.inspect(ref, ca_file=ca)
    assert inspected.value.exit_code == 3
    assert_no_secret(inspected.value)

    # The right one, with the CA given: everything works.
    monkeypatch.setenv("ZOO_OCI_PASSWORD", PASSWORD)
    digest = zoo_oci.push(suite, ref, ca_file=ca, quiet=True)
    assert zoo_oci.inspect(ref, ca_file=ca).digest == digest
    out = zoo_oci.pull(ref, tmp_path / "out", ca_file=ca, quiet=True)
    assert_same_tree(suite, out)
    assert zoo_oci.pull(ref, ca_file=ca, quiet=True).is_dir()  # into the cache, too


def test_credentials_from_the_docker_config(secure_registry, tmp_path, repo, monkeypatch):
    suite = small_suite(tmp_path)
    ref = secure_registry.at(f"{repo}:1.0.0")
    ca = str(secure_registry.ca)
    config = tmp_path / "docker"
    monkeypatch.setenv("DOCKER_CONFIG", str(config))

    docker_config(config, secure_registry.addr, USER, "wrong-password")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.inspect(ref, ca_file=ca)
    assert_error(raised.value, zoo_oci.AuthError, cli_error("inspect", "--ca-file", ca, ref))
    assert_no_secret(raised.value)

    docker_config(config, secure_registry.addr, USER, PASSWORD)
    digest = zoo_oci.push(suite, ref, ca_file=ca, quiet=True)
    assert zoo_oci.inspect(ref, ca_file=ca).digest == digest
    assert files_of(zoo_oci.pull(ref, tmp_path / "out", only=["readme"], ca_file=ca, quiet=True)) == ["README.md"]


# --------------------------------------------------------------------------------------------
# IntegrityError (exit 5)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tar", "raw"])
def test_a_corrupt_blob_is_an_integrity_error_and_leaves_nothing_behind(kind, tmp_path, zoo_cache):
    """A tar layer (the scripts) or a raw one (the safetensors file), one byte flipped."""
    suite = small_suite(tmp_path)
    layout = tmp_path / "zoo"
    ref = f"oci:{layout}:1.0.0"
    digest = zoo_oci.push(suite, ref, quiet=True)
    layers = zoo_oci.inspect(ref).layers
    if kind == "tar":
        layer = next(l for l in layers if l.class_ == "scripts")
    else:
        layer = next(l for l in layers if l.class_ == "model" and l.media_type.endswith(".raw"))
    blob = layout / "blobs/sha256" / layer.digest.removeprefix("sha256:")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))

    parent = tmp_path / "pulls"
    parent.mkdir()
    dest = str(parent / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, quiet=True)
    e = assert_error(raised.value, zoo_oci.IntegrityError, cli_error("pull", ref, "-o", dest))
    assert layer.digest in str(e), str(e)
    assert e.hint
    assert os.listdir(parent) == [], "no destination, no *.partial-* folder, no temp file"

    # Into the cache: the same error, and no snapshot of it.
    with pytest.raises(zoo_oci.IntegrityError):
        zoo_oci.pull(ref, quiet=True)
    assert not (zoo_cache / "snapshots" / digest.removeprefix("sha256:")).exists()


# --------------------------------------------------------------------------------------------
# TransportError (exit 1)
# --------------------------------------------------------------------------------------------


def test_an_untrusted_certificate_is_a_transport_error_naming_the_ca_file(secure_registry, tmp_path, repo, monkeypatch):
    monkeypatch.setenv("ZOO_OCI_USERNAME", USER)
    monkeypatch.setenv("ZOO_OCI_PASSWORD", PASSWORD)
    ref, dest = secure_registry.at(f"{repo}:1"), str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, quiet=True)
    e = assert_error(raised.value, zoo_oci.TransportError, cli_error("pull", ref, "-o", dest))
    assert "ca-file" in e.hint or "ca_file" in e.hint, e.hint
    assert e.causes, "the TLS library's reason is a cause"
    assert not Path(dest).exists()
    with pytest.raises(zoo_oci.TransportError):
        zoo_oci.inspect(ref)


def test_tls_to_a_plain_http_registry_is_a_transport_error_naming_plain_http(registry, pushed, tmp_path):
    _, ref = pushed
    dest = str(tmp_path / "out")
    with pytest.raises(zoo_oci.ZooError) as raised:
        zoo_oci.pull(ref, dest, quiet=True)  # no plain_http
    e = assert_error(raised.value, zoo_oci.TransportError, cli_error("pull", ref, "-o", dest))
    assert "plain-http" in e.hint or "plain_http" in e.hint, e.hint
    with pytest.raises(zoo_oci.TransportError):
        zoo_oci.index(registry.addr)


def test_a_closed_port_is_refused_at_once_with_retry_timeout_zero(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ref = f"127.0.0.1:{port}/zoo/none:1"
    started = time.monotonic()
    with pytest.raises(zoo_oci.TransportError) as raised:
        zoo_oci.inspect(ref, plain_http=True, retry_timeout=0)
    assert time.monotonic() - started < 10, "retry_timeout=0 gives up at the first refusal"
    assert raised.value.kind == "transport:refused" and raised.value.exit_code == 1, raised.value.kind
    with pytest.raises(zoo_oci.UsageError):
        zoo_oci.inspect(ref, plain_http=True, timeout=0)
    with pytest.raises(TypeError):
        zoo_oci.inspect(ref, cert_file=tmp_path / "client.pem")  # without key_file


def test_insecure_skips_verification_by_name_and_warns(secure_registry, tmp_path, repo, monkeypatch):
    monkeypatch.setenv("ZOO_OCI_USERNAME", USER)
    monkeypatch.setenv("ZOO_OCI_PASSWORD", PASSWORD)
    ref = secure_registry.at(f"{repo}:1.0.0")
    digest = zoo_oci.push(small_suite(tmp_path), ref, ca_file=secure_registry.ca, quiet=True)
    with pytest.raises(zoo_oci.TransportError):
        zoo_oci.inspect(ref)  # verified by default: the test CA is not trusted
    with pytest.warns(zoo_oci.ZooWarning, match="not verified"):
        suite = zoo_oci.inspect(ref, insecure=True)
    assert suite.digest == digest


def test_every_error_class_is_a_zoo_error():
    for cls, code in CLASSES.items():
        assert issubclass(cls, zoo_oci.ZooError) and issubclass(cls, Exception), cls
    assert len(set(CLASSES)) == 5
    assert issubclass(zoo_oci.ZooError, Exception)


# --------------------------------------------------------------------------------------------
# Every exception lives in zoo_oci and pickles (issue 22, point 9): multiprocessing, a
# ProcessPoolExecutor and a DataLoader's workers send a worker's exception to the parent pickled.
# --------------------------------------------------------------------------------------------


def _corrupt_layout(tmp_path: Path) -> str:
    """A layout holding the small suite with one byte of its safetensors layer flipped: its ref."""
    layout = tmp_path / "corrupt-zoo"
    ref = f"oci:{layout}:1.0.0"
    zoo_oci.push(small_suite(tmp_path), ref, quiet=True)
    layer = next(l for l in zoo_oci.inspect(ref).layers if l.class_ == "model" and l.media_type.endswith(".raw"))
    blob = layout / "blobs/sha256" / layer.digest.removeprefix("sha256:")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    return ref


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def raised(secure_registry, tmp_path, repo, zoo_cache):
    """One exception of each class, each raised by a real failing call (no credentials here)."""
    calls = {
        zoo_oci.UsageError: lambda: zoo_oci.pull("not a ref::", str(tmp_path / "out"), quiet=True),
        zoo_oci.AuthError: lambda: zoo_oci.inspect(secure_registry.at(f"{repo}:1"), ca_file=secure_registry.ca),
        zoo_oci.NotFoundError: lambda: zoo_oci.pull(f"oci:{tmp_path / 'no-layout'}:1", str(tmp_path / "out")),
        zoo_oci.IntegrityError: lambda: zoo_oci.pull(_corrupt_layout(tmp_path), str(tmp_path / "out"), quiet=True),
        zoo_oci.TransportError: lambda: zoo_oci.inspect(
            f"127.0.0.1:{_closed_port()}/zoo/x:1", plain_http=True, retry_timeout=0
        ),
    }
    errors = {}
    for cls, call in calls.items():
        with pytest.raises(cls) as caught:
            call()
        errors[cls] = caught.value
    # One the Python layer raises itself, and hub's, which is an ImportError too.
    with pytest.raises(zoo_oci.UsageError) as caught:
        zoo_oci.tag("oci:./zoo:1.0")
    errors["python"] = caught.value
    errors["hub"] = zoo_oci._errors.make(
        zoo_oci.hub.RuntimeNotInstalled, "no installed runtime", kind="runtime-not-installed", hint="pip install"
    )
    return errors


def assert_same_error(copy: BaseException, error: BaseException) -> None:
    assert type(copy) is type(error), f"{type(copy).__name__} came back for {type(error).__name__}: {copy!r}"
    for attribute in ("message", "causes", "hint", "exit_code", "kind", "args"):
        assert getattr(copy, attribute) == getattr(error, attribute), attribute
    assert str(copy) == str(error)


def test_every_error_class_lives_in_zoo_oci_and_pickles_with_its_parts(raised):
    import pickle

    for cls in CLASSES:
        assert cls.__module__ == "zoo_oci" and getattr(zoo_oci, cls.__name__) is cls, cls
    assert zoo_oci.ZooError.__module__ == "zoo_oci"
    assert zoo_oci._native.NotFoundError is zoo_oci.NotFoundError, "the core raises the package's classes"
    for key, error in raised.items():
        assert isinstance(error, zoo_oci.ZooError), key
        assert error.hint, f"{key}: every one of these says what to do"
        for protocol in (0, pickle.HIGHEST_PROTOCOL):
            assert_same_error(pickle.loads(pickle.dumps(error, protocol)), error)
    assert isinstance(pickle.loads(pickle.dumps(raised["hub"])), ImportError)
    assert raised[zoo_oci.TransportError].kind == "transport:refused"
    assert raised[zoo_oci.IntegrityError].causes or raised[zoo_oci.IntegrityError].message


def test_an_error_in_a_spawned_worker_reaches_the_parent_as_itself(tmp_path, zoo_cache):
    """A `multiprocessing` pool with the spawn start method (a DataLoader's on macOS and
    Windows): the worker's NotFoundError and IntegrityError come back as themselves, hint and
    all, not as a pickling error."""
    import multiprocessing

    missing, corrupt = f"oci:{tmp_path / 'no-layout'}:1", _corrupt_layout(tmp_path)
    dest = str(tmp_path / "out")
    expected = {}
    for ref in (missing, corrupt):
        with pytest.raises(zoo_oci.ZooError) as caught:
            zoo_oci.pull(ref, dest, quiet=True)
        expected[ref] = caught.value
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        for ref, cls in ((missing, zoo_oci.NotFoundError), (corrupt, zoo_oci.IntegrityError)):
            with pytest.raises(BaseException) as caught:
                pool.apply(zoo_oci.pull, (ref, dest), {"quiet": True})
            assert type(caught.value) is cls, f"{type(caught.value).__name__}: {caught.value}"
            assert caught.value.hint, "the hint crosses the process boundary"
            assert_same_error(caught.value, expected[ref])


@pytest.mark.parametrize(
    "call",
    [
        lambda ref: zoo_oci.inspect(ref, timeout=1e20),
        lambda ref: zoo_oci.inspect(ref, retry_timeout=float("inf")),
        lambda ref: zoo_oci.inspect(ref, timeout=float("nan")),
        lambda ref: zoo_oci.inspect(ref, timeout=-1),
        lambda ref: zoo_oci.cache.prune(older_than=float("inf")),
        lambda ref: zoo_oci.cache.prune(older_than=1e300),
    ],
    ids=["timeout-1e20", "retry-timeout-inf", "timeout-nan", "timeout-negative", "older-than-inf", "older-than-1e300"],
)
def test_durations_out_of_range_are_usage_errors_not_panics(call, tmp_path, zoo_cache):
    # Duration::from_secs_f64 panics past u64::MAX seconds; a panic in the native module would
    # surface as pyo3's PanicException, which is not a ZooError.
    with pytest.raises(zoo_oci.UsageError) as raised:
        call(f"oci:{tmp_path / 'zoo'}:1.0.0")
    assert "seconds" in str(raised.value)
