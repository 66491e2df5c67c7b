"""zoo-oci: push, pull and browse model suites as OCI artifacts, from Python.

A *model suite* (the model in every framework it ships in, its scripts, notebooks, test set,
README and licence) is one OCI artifact in the CNCF ModelPack format, kept in any OCI registry
(`ghcr.io/team/model:1.0`, `localhost:5000/zoo/model`) or in a plain folder, an OCI image layout
(`oci:./zoo:1.0`). The work is done by the same compiled core as the `zoo-oci` command line: the
functions here release the GIL while bytes move and stop cleanly on Ctrl-C.

    >>> import zoo_oci
    >>> suite = zoo_oci.inspect("oci:./zoo:1.0")          # the manifest only, no layer
    >>> path = zoo_oci.pull("oci:./zoo:1.0", only="model", variant="onnx")
    >>> session = zoo_oci.hub.load("oci:./zoo:1.0")       # onnxruntime.InferenceSession

Environment, read as the command line reads it:

- `ZOO_OCI_CACHE`: the cache folder (else `$XDG_CACHE_HOME/zoo-oci`, else `~/.cache/zoo-oci`),
  where `pull()` without a destination keeps its snapshots (see `zoo_oci.cache`).
- `ZOO_OCI_OFFLINE=1`: no network; tags are resolved from the cache alone, so what was pulled
  before can be pulled (and loaded) again on a plane.
- `ZOO_OCI_USERNAME` and `ZOO_OCI_PASSWORD`: registry credentials, tried first; then the Docker
  config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, with its credential
  helpers), then Podman's `auth.json`. `zoo-oci login` writes the Docker config.
- `SSL_CERT_FILE`, `SSL_CERT_DIR`: where the system CAs are read from; `ca_file=` adds PEM files to
  whatever is trusted, and `/etc/docker/certs.d/HOST[:PORT]/*.crt` are read as docker reads them.

Errors are `ZooError` subclasses: `UsageError` (bad arguments, exit code 2), `AuthError` (3),
`NotFoundError` (4), `IntegrityError` (5) and `TransportError`; each has `message`, `causes`,
`hint` (what to do), `exit_code` and `kind`. Problems the core reports without failing (a layer
of an unknown type, a licence it cannot parse) are emitted as `ZooWarning` warnings.
"""

from __future__ import annotations

import json
import os
import warnings as _warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _native
from ._native import AuthError, IntegrityError, NotFoundError, TransportError, UsageError, ZooError
from ._progress import Progress as _Progress
from ._suite import CheckResult, Layer, Suite, Variant

# The compiled core's version is the package's (maturin takes it from the same Cargo.toml);
# reading it from there spares importlib.metadata, a third of the import time.
__version__: str = _native.__version__

__all__ = [
    "__version__",
    # operations
    "pull",
    "inspect",
    "index",
    "push",
    "check",
    "init",
    "copy",
    "tag",
    # data
    "Suite",
    "Variant",
    "Layer",
    "CheckResult",
    # errors and warnings
    "ZooError",
    "UsageError",
    "AuthError",
    "NotFoundError",
    "IntegrityError",
    "TransportError",
    "ZooWarning",
    # submodules
    "cache",
    "hub",
]

StrPath = Union[str, "os.PathLike[str]"]
"""A path: a `str` or any `os.PathLike` (`pathlib.Path`)."""
Names = Union[str, Sequence[str]]
"""One name, or several: `"model"` or `["model", "docs"]`."""
CaFiles = Union[StrPath, Sequence[StrPath]]
"""One PEM file, or several."""


class ZooWarning(UserWarning):
    """Something zoo-oci reported without failing: a layer it does not know, a licence
    expression it cannot read, a tag that moved. Silence them with
    `warnings.simplefilter("ignore", zoo_oci.ZooWarning)`."""


# -- argument normalisation -------------------------------------------------------------------


def _names(value: Optional[Names], what: str) -> List[str]:
    """None → [], "a" → ["a"], ["a", "b"] → ["a", "b"]; anything else is a TypeError."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, bytearray)) or not _iterable(value):
        raise TypeError(f"{what} takes a str or a sequence of str, not {type(value).__name__}")
    out = []
    for v in value:
        if not isinstance(v, str):
            raise TypeError(f"{what} takes a str or a sequence of str, not a sequence holding {type(v).__name__}")
        out.append(v)
    return out


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


def _path(value: StrPath, what: str) -> str:
    try:
        path = os.fspath(value)
    except TypeError:
        raise TypeError(f"{what} takes a str or an os.PathLike, not {type(value).__name__}") from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    return path


def _ca_files(value: Optional[CaFiles]) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        return [_path(value, "ca_file")]
    return [_path(v, "ca_file") for v in value]


def _net(
    plain_http: bool,
    ca_file: Optional[CaFiles],
    cert_file: Optional[StrPath],
    key_file: Optional[StrPath],
    insecure: bool,
    timeout: Optional[float],
    retry_timeout: Optional[float],
) -> _native.Net:
    """The registry options, as the compiled core takes them (the CLI's registry flags)."""
    if (cert_file is None) != (key_file is None):
        raise TypeError("cert_file and key_file go together: give both, or neither")
    if insecure:
        _warnings.warn(
            "insecure=True: TLS certificates are not verified; anyone on the path can read and change what moves",
            ZooWarning,
            stacklevel=3,
        )
    return {
        "plain_http": bool(plain_http),
        "ca_file": _ca_files(ca_file),
        "cert_file": None if cert_file is None else _path(cert_file, "cert_file"),
        "key_file": None if key_file is None else _path(key_file, "key_file"),
        "insecure": bool(insecure),
        "timeout": None if timeout is None else float(timeout),
        "retry_timeout": None if retry_timeout is None else float(retry_timeout),
    }


def _ref(value: object, what: str = "ref") -> str:
    if isinstance(value, Suite):
        # A Suite stands for the manifest it describes: its location, pinned to its digest.
        if value.location and value.digest and "@" not in value.location:
            return f"{value.location}@{value.digest}"
        if value.location:
            return value.location
    if isinstance(value, os.PathLike):
        raise TypeError(
            f"{what} is a location (oci:PATH[:TAG] or HOST/REPO[:TAG]), not a path: "
            f"write 'oci:{os.fspath(value)!s}' for a layout folder"
        )
    if not isinstance(value, str):
        raise TypeError(f"{what} takes a str, not {type(value).__name__}")
    return value


def _report(text: str) -> Dict[str, Any]:
    data = json.loads(text)
    return data if isinstance(data, dict) else {"value": data}


def _warn(report: Dict[str, Any], stacklevel: int = 3) -> None:
    for w in report.get("warnings") or []:
        _warnings.warn(str(w), ZooWarning, stacklevel=stacklevel)


def _base(ref: str) -> str:
    """The location without its tag or digest, as the core splits it: `oci:./zoo:1.0` →
    `oci:./zoo`, `localhost:5000/zoo/m@sha256:…` → `localhost:5000/zoo/m`."""
    prefix, rest = ("oci:", ref[4:]) if ref.startswith("oci:") else ("", ref)
    if "@" in rest:
        rest = rest.rsplit("@", 1)[0]
    start = rest.rfind("/") + 1
    colon = rest.rfind(":", start)
    # A registry location's first part is HOST[:PORT]: a ':' there is a port, not a tag.
    if colon != -1 and (prefix or start > 0):
        rest = rest[:colon]
    return prefix + rest


# -- operations --------------------------------------------------------------------------------


def pull(
    ref: Union[str, Suite],
    dest: Optional[StrPath] = None,
    *,
    only: Optional[Names] = None,
    variant: Optional[Names] = None,
    framework: Optional[Names] = None,
    include: Optional[Names] = None,
    exclude: Optional[Names] = None,
    force: bool = False,
    plain_http: bool = False,
    ca_file: Optional[CaFiles] = None,
    cert_file: Optional[StrPath] = None,
    key_file: Optional[StrPath] = None,
    insecure: bool = False,
    timeout: Optional[float] = None,
    retry_timeout: Optional[float] = None,
    quiet: bool = False,
) -> Path:
    """Download a suite, or the part of it you select, and return the folder that holds it.

    Every layer's digest and every extracted file's size and sha256 are checked; nothing in the
    suite is run. The folder is written beside its destination and renamed into place once every
    byte is verified, so a failed or interrupted pull leaves the old folder (or nothing).
    Pulling the same digest with the same selection again is a no-op.

    Args:
        ref: Where the suite is, with a tag or digest: `oci:./zoo:1.0`,
            `ghcr.io/team/model:1.0`, `localhost:5000/zoo/model@sha256:…`; without one, the tag
            `latest` or the only tag. A `Suite` (from `inspect` or `index`) pulls the very
            manifest it describes.
        dest: The folder to write. None (the default) pulls into the shared cache
            (`zoo_oci.cache.root()`, `$ZOO_OCI_CACHE`): what the cache already holds is not
            downloaded again, and the returned path is the suite's snapshot folder there (treat
            it as read-only; `zoo_oci.cache.rm` and `prune` free it). A folder given here gets
            copies of what the cache holds (each checked against its sha256) and downloads
            the rest; it writes nothing into the cache. A non-empty folder that zoo-oci did not
            create is refused unless `force=True`.
        only: Layer classes to keep: `model`, `scripts`, `notebooks`, `dataset`, `readme`,
            `license`, `docs` (`code` = scripts and notebooks).
        variant: Model variants to keep (their names, as `inspect` lists them); the other
            classes stay unless `only` drops them.
        framework: Frameworks to keep (`onnx`, `pytorch`, `safetensors`, …), like `variant`.
        include: Globs of files to keep, after the rest of the selection (`"*.py"`; a glob
            without `/` matches file names in any folder).
        exclude: Globs of files to leave out.
        force: Write into a non-empty folder zoo-oci did not create.
        plain_http: Talk HTTP, not TLS, to the registry (a local test registry).
        ca_file: PEM file(s) of CAs to trust besides the system's (or `SSL_CERT_FILE`'s).
        cert_file, key_file: A client certificate and its key (PEM) for registries that ask for
            one (mutual TLS), as `--cert-file`/`--key-file`.
        insecure: Verify no TLS certificate (a throwaway test registry only; warns), as
            `--insecure`.
        timeout: Seconds a connection may take to open, or a transfer may move no byte, before
            it is tried again (default 30), as `--timeout`.
        retry_timeout: Seconds to keep trying a registry that is not up yet, or a transfer
            that failed (default 60; 0: no retry), as `--retry-timeout`.
        quiet: No progress bar. Otherwise a byte progress bar is shown when `tqdm` is installed
            (`pip install "zoo-oci[progress]"`); it renders in Jupyter too.

    Returns:
        The folder holding the suite's files, laid out as in the suite (`models/…`,
        `README.md`, …), with a `.zoo-oci.json` record of what was pulled.

    Raises:
        NotFoundError: the location, tag or variant does not exist, or the selection matches
            nothing (the message lists the classes, variants and frameworks there are).
        AuthError: the registry refused the credentials, or asked for some.
        IntegrityError: a digest did not match, or an archive held a hostile entry.
        TransportError: the registry could not be reached (after retrying).
        ZooError: anything else (a folder that cannot be written, too little free space).

    Environment:
        `ZOO_OCI_CACHE` (where the cache is), `ZOO_OCI_OFFLINE=1` (resolve tags from the cache
        alone: no network), `ZOO_OCI_USERNAME`/`ZOO_OCI_PASSWORD` and `DOCKER_CONFIG`
        (credentials), `SSL_CERT_FILE` (trusted CAs).

    Example:
        >>> import zoo_oci
        >>> folder = zoo_oci.pull("oci:./zoo:1.0", "./iris")           # the whole suite
        >>> sorted(p.name for p in folder.iterdir())[:3]
        ['LICENSE', 'README.md', 'data']
        >>> snap = zoo_oci.pull("ghcr.io/team/squeezenet:1.1.0", only="model",
        ...                     variant="onnx-light")                    # into the cache
        >>> onnx_file = snap / "models" / "squeezenet1.1-light.onnx"
        >>> zoo_oci.pull("oci:./zoo:1.0", "./scripts", include="*.py", quiet=True).name
        'scripts'
    """
    location = _ref(ref)
    with _Progress(quiet, "pull") as progress:
        text = _native.pull(
            location,
            None if dest is None else _path(dest, "dest"),
            _names(only, "only"),
            _names(variant, "variant"),
            _names(framework, "framework"),
            _names(include, "include"),
            _names(exclude, "exclude"),
            bool(force),
            _net(plain_http, ca_file, cert_file, key_file, insecure, timeout, retry_timeout),
            progress,
        )
    report = _report(text)
    _warn(report)
    return Path(report["destination"])


def inspect(
    ref: Union[str, Suite],
    *,
    plain_http: bool = False,
    ca_file: Optional[CaFiles] = None,
    cert_file: Optional[StrPath] = None,
    key_file: Optional[StrPath] = None,
    insecure: bool = False,
    timeout: Optional[float] = None,
    retry_timeout: Optional[float] = None,
) -> Suite:
    """Describe a suite from its manifest alone: metadata, variants, layers, README. No layer
    is downloaded.

    Args:
        ref: The suite: `oci:./zoo:1.0`, `ghcr.io/team/model:1.0`, `HOST/REPO@sha256:…`.
        plain_http: Talk HTTP, not TLS, to the registry.
        ca_file: PEM file(s) of CAs to trust besides the system's.
        cert_file, key_file, insecure, timeout, retry_timeout: As for `pull`.

    Returns:
        A `Suite`: `name`, `version`, `task`, `license`, `variants` (with each one's framework,
        format, precision, size, parameters and the facts read from its model file), `layers`,
        `readme`, `digest`, and the whole report as `raw`. It displays as a summary in a
        terminal and as a table in Jupyter.

    Raises:
        NotFoundError: no such location or tag. AuthError, TransportError: as for `pull`.

    Environment:
        As for `pull`: `ZOO_OCI_OFFLINE`, `ZOO_OCI_USERNAME`/`ZOO_OCI_PASSWORD`,
        `DOCKER_CONFIG`, `SSL_CERT_FILE`.

    Example:
        >>> suite = zoo_oci.inspect("oci:./zoo:1.0")
        >>> suite
        <Suite iris-logreg:1.0>
          task      tabular-classification (tabular)
          ...
        >>> [(v.name, v.framework, v.size) for v in suite.variants]
        [('onnx', 'onnx', 856), ('onnx-original', 'onnx', 670), ('safetensors', 'safetensors', 476)]
        >>> suite.variant("onnx").facts["inputs"][0]["shape"]
        ['N', 4]
    """
    report = _report(
        _native.inspect(_ref(ref), _net(plain_http, ca_file, cert_file, key_file, insecure, timeout, retry_timeout))
    )
    _warn(report)
    return Suite.from_inspect(report)


def index(
    location: str,
    *,
    task: Optional[str] = None,
    framework: Optional[str] = None,
    license: Optional[str] = None,
    query: Optional[str] = None,
    plain_http: bool = False,
    ca_file: Optional[CaFiles] = None,
    cert_file: Optional[StrPath] = None,
    key_file: Optional[StrPath] = None,
    insecure: bool = False,
    timeout: Optional[float] = None,
    retry_timeout: Optional[float] = None,
) -> List[Suite]:
    """Every suite of a registry, a namespace, a repository or a layout, one per version.

    Reads manifests (and configs) only. Manifests that are not model suites are left out.

    Args:
        location: `oci:./zoo` (a layout), `localhost:5000` (a registry's whole catalogue),
            `ghcr.io/team` (a namespace), `ghcr.io/team/model` (one repository), or one suite
            (`oci:./zoo:1.0`, `…@sha256:…`).
        task: Keep suites of this task (or an alias: `detection` → `object-detection`).
        framework: Keep suites with a variant in this framework.
        license: Keep suites whose licence expression has this part (case-insensitive).
        query: Free text, looked for in name, summary, task, keywords, frameworks and README.
        plain_http: Talk HTTP, not TLS, to the registry.
        ca_file: PEM file(s) of CAs to trust besides the system's.
        cert_file, key_file, insecure, timeout, retry_timeout: As for `pull`.

    Returns:
        `Suite` objects, sorted by modality, task, name and version. They come from index
        entries: no `layers`, no descriptor (`io`, `datasets` empty); `inspect(suite)` gives the
        full description of one.

    Example:
        >>> for s in zoo_oci.index("oci:./zoo", framework="onnx"):
        ...     print(s.title, s.task, s.frameworks)
        iris-logreg:1.0 tabular-classification ['onnx', 'safetensors']
        squeezenet-light:1.1.0 image-classification ['onnx', 'safetensors']
    """
    text = _native.index(
        _ref(location, "location"),
        task,
        framework,
        license,
        query,
        _net(plain_http, ca_file, cert_file, key_file, insecure, timeout, retry_timeout),
    )
    data = json.loads(text)
    entries = data.get("suites", []) if isinstance(data, dict) else data
    return [Suite.from_index_entry(e) for e in entries if isinstance(e, dict)]


def push(
    folder: StrPath,
    target: str,
    *,
    strict: bool = False,
    dereference: bool = False,
    names: Optional[str] = None,
    plain_http: bool = False,
    ca_file: Optional[CaFiles] = None,
    cert_file: Optional[StrPath] = None,
    key_file: Optional[StrPath] = None,
    insecure: bool = False,
    timeout: Optional[float] = None,
    retry_timeout: Optional[float] = None,
    quiet: bool = False,
) -> str:
    """Pack a suite folder (the one holding `zoo.yaml`) and store it at `target`.

    The folder is checked first (as `check` does); errors stop the push before any byte moves.
    Every file is read once, hashed while it streams; nothing becomes visible at the target
    before the whole manifest exists. Layers the target already holds are not sent again.

    Args:
        folder: The suite folder.
        target: `oci:./zoo` or `HOST/REPO`, with a tag (`oci:./zoo:stable`) or without one (the
            tag is the suite's version).
        strict: Warnings stop the push too.
        dereference: Read through symbolic links and pack the files they point to (a Hugging
            Face cache snapshot, `huggingface_hub.snapshot_download(...)`, is made of links);
            without it a link is an error.
        names: `"modelpack"` (`application/vnd.cncf.model.*`) or `"legacy"` (model-spec 0.0.5's
            `application/vnd.cnai.model.*`, the only names released Harbor 2.13-2.15 shows as
            models); `None` chooses the legacy names for such a Harbor, ModelPack's elsewhere
            (`push --names`).
        plain_http: Talk HTTP, not TLS, to the registry.
        ca_file: PEM file(s) of CAs to trust besides the system's.
        cert_file, key_file, insecure, timeout, retry_timeout: As for `pull`.
        quiet: No progress bar (shown when `tqdm` is installed).

    Returns:
        The manifest digest, `sha256:…`: `f"{target}@{digest}"` names exactly what was pushed.

    Raises:
        ZooError: the suite has errors (the message lists them), or the target refused it.
        AuthError: no credentials, or the wrong ones, for the registry.

    Environment:
        `ZOO_OCI_USERNAME`/`ZOO_OCI_PASSWORD`, `DOCKER_CONFIG`, `SSL_CERT_FILE`.

    Example:
        >>> zoo_oci.push("examples/iris-logreg", "oci:./zoo")
        'sha256:1c63e60075d37ca98f1d29c33603f32b79d59d06c6c4909cf1850a1378bc13da'
        >>> zoo_oci.push("examples/iris-logreg", "localhost:5000/zoo/iris:1.0", plain_http=True)
        'sha256:1c63e60075d37ca98f1d29c33603f32b79d59d06c6c4909cf1850a1378bc13da'
    """
    with _Progress(quiet, "push") as progress:
        text = _native.push(
            _path(folder, "folder"),
            _ref(target, "target"),
            bool(strict),
            bool(dereference),
            None if names is None else str(names),
            _net(plain_http, ca_file, cert_file, key_file, insecure, timeout, retry_timeout),
            progress,
        )
    report = _report(text)
    _warn(report)
    return str(report["digest"])


def check(folder: StrPath, *, strict: bool = False, dereference: bool = False) -> CheckResult:
    """Validate a suite folder: the descriptor against its schema, every path it names, files it
    does not declare, and what the model files say against what it declares.

    Never raises for problems in the suite: they are in the result. (A folder that cannot be
    read at all, or that has no `zoo.yaml`, raises `ZooError`.)

    Args:
        folder: The folder holding `zoo.yaml`.
        strict: Count warnings (an undeclared file, a missing summary) as errors, as
            `push(strict=True)` does.
        dereference: Read through symbolic links, as `push(dereference=True)` does.

    Returns:
        A `CheckResult`: true when there is no error; `problems` lists every problem at once
        (dicts with `severity`, `at`, `message`, sometimes `hint`); `print(result)` shows them
        as the command line does.

    Example:
        >>> result = zoo_oci.check("examples/iris-logreg")
        >>> if not result:
        ...     raise SystemExit(str(result))
        >>> print(result)
        ok: iris-logreg 1.0: 9 layers, 14 files, 52.0 kB
    """
    return CheckResult.from_report(_report(_native.check(_path(folder, "folder"), bool(strict), bool(dereference))))


def init(folder: StrPath, *, force: bool = False) -> Path:
    """Write `folder/zoo.yaml` from what is in the folder: each model file read for its facts
    (format, precision, parameters, inputs and outputs), Hugging Face folders with the files that
    load them, scripts by role, notebooks, datasets, the README's model card; and a README
    skeleton when there is none. Review the result (the `TODO`s) before pushing.

    Args:
        folder: The folder to describe.
        force: Replace an existing `zoo.yaml`.

    Returns:
        The path of the `zoo.yaml` written. Files that could not be read are reported as
        `ZooWarning` warnings.

    Raises:
        NotFoundError: the folder holds no model file.
        ZooError: `zoo.yaml` exists (and `force` is false), or the folder cannot be read.

    Example:
        >>> descriptor = zoo_oci.init("./my-model")
        >>> print(descriptor.read_text()[:40])
        name: my-model
        version: 0.1.0
        >>> zoo_oci.check("./my-model").ok
        True
    """
    report = _report(_native.init(_path(folder, "folder"), bool(force)))
    _warn(report)
    return Path(report["descriptor"])


def copy(
    src: Union[str, Suite],
    dst: str,
    *,
    plain_http: bool = False,
    ca_file: Optional[CaFiles] = None,
    cert_file: Optional[StrPath] = None,
    key_file: Optional[StrPath] = None,
    insecure: bool = False,
    timeout: Optional[float] = None,
    retry_timeout: Optional[float] = None,
    quiet: bool = False,
) -> str:
    """Copy a suite (any OCI manifest or index, with everything below it) unchanged from one
    location to another: a registry to a layout on a USB stick, one registry to another. Blobs
    the destination already has are skipped; registries mount them where they can.

    Args:
        src: What to copy, with its tag or digest.
        dst: Where to: `oci:/mnt/usb/zoo` (keeps the source's tag), `HOST/REPO:TAG`.
        plain_http: Talk HTTP, not TLS, to both sides.
        ca_file: PEM file(s) of CAs to trust besides the system's.
        cert_file, key_file, insecure, timeout, retry_timeout: As for `pull`.
        quiet: No progress bar (shown when `tqdm` is installed).

    Returns:
        The root manifest's digest, the same on both sides.

    Environment:
        `ZOO_OCI_USERNAME`/`ZOO_OCI_PASSWORD`, `DOCKER_CONFIG`, `SSL_CERT_FILE`.

    Example:
        >>> zoo_oci.copy("ghcr.io/team/iris:1.0", "oci:/mnt/usb/zoo")
        'sha256:1c63e60075d37ca98f1d29c33603f32b79d59d06c6c4909cf1850a1378bc13da'
    """
    with _Progress(quiet, "copy") as progress:
        text = _native.copy(
            _ref(src, "src"),
            _ref(dst, "dst"),
            _net(plain_http, ca_file, cert_file, key_file, insecure, timeout, retry_timeout),
            progress,
        )
    report = _report(text)
    _warn(report)
    return str(report["digest"])


def tag(
    ref: Union[str, Suite],
    *tags: str,
    plain_http: bool = False,
    ca_file: Optional[CaFiles] = None,
    cert_file: Optional[StrPath] = None,
    key_file: Optional[StrPath] = None,
    insecure: bool = False,
    timeout: Optional[float] = None,
    retry_timeout: Optional[float] = None,
) -> List[str]:
    """Add tags to a suite. Every tag is checked before any is written.

    Args:
        ref: The suite, with its tag or digest.
        *tags: The tags to add (`stable`, `latest`, `1.0.1`).
        plain_http: Talk HTTP, not TLS, to the registry.
        ca_file: PEM file(s) of CAs to trust besides the system's.
        cert_file, key_file, insecure, timeout, retry_timeout: As for `pull`.

    Returns:
        The references now naming it, one per tag: `oci:./zoo:stable`, ….

    Raises:
        UsageError: no tag given, or an invalid one.

    Example:
        >>> zoo_oci.tag("oci:./zoo:1.0", "stable", "latest")
        ['oci:./zoo:stable', 'oci:./zoo:latest']
    """
    if not tags:
        from ._errors import usage

        raise usage("tag() needs at least one tag", hint='zoo_oci.tag("oci:./zoo:1.0", "stable")')
    names = _names(list(tags), "tags")
    location = _ref(ref)
    report = _report(
        _native.tag(location, names, _net(plain_http, ca_file, cert_file, key_file, insecure, timeout, retry_timeout))
    )
    _warn(report)
    base = _base(location)
    return [f"{base}:{t}" for t in report.get("tags", names)]


from . import cache, hub  # noqa: E402  (they use the functions above)
