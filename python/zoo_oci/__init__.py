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

A `Client` holds registry and cache options once; its methods are these functions:

    >>> local = zoo_oci.Client(plain_http=True, cache_dir="/data/zoo-cache")
    >>> [t.tag for t in local.tags("localhost:5000/zoo/iris")]
    ['1.0', '1.1']
    >>> local.diff("localhost:5000/zoo/iris:1.0", "localhost:5000/zoo/iris:1.1").changed
    ['models/logreg_iris.safetensors', 'zoo.yaml']

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

import functools as _functools
import inspect as _inspect
import json as _json
import os as _os
import typing as _typing
import warnings as _warnings
from pathlib import Path as _Path

from . import _errors, _native, _options
from ._errors import AuthError, IntegrityError, NotFoundError, TransportError, UsageError, ZooError
from ._options import CaFiles, RegistryOptions, StrPath
from ._progress import Progress as _Progress
from ._results import ClassDiff, Diff, DiffSide, GcResult, MetricCheck, RmResult, TagEntry, ValidateResult
from ._suite import CheckResult, Layer, Suite, Variant

if _typing.TYPE_CHECKING:
    # For annotations only (they are strings at run time): not attributes of the module.
    from pathlib import Path
    from typing import Any, Callable, Dict, Generic, List, Optional, Sequence, TypeVar, Union

    from typing_extensions import ParamSpec, Unpack

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
    "tags",
    "diff",
    "rm",
    "gc",
    "login",
    "logout",
    "sign",
    "verify",
    "validate",
    # the registry options, declared once, and held once
    "RegistryOptions",
    "Client",
    # data
    "Suite",
    "Variant",
    "Layer",
    "CheckResult",
    "Diff",
    "DiffSide",
    "ClassDiff",
    "TagEntry",
    "RmResult",
    "GcResult",
    "MetricCheck",
    "ValidateResult",
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

Names = _typing.Union[str, _typing.Sequence[str]]
"""One name, or several: `"model"` or `["model", "docs"]`."""


def __dir__() -> List[str]:
    """The public API only (`__all__`): no module this one imports shows in `dir(zoo_oci)`."""
    return sorted(__all__)


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


_path = _options.path_text


def _ref(value: object, what: str = "ref") -> str:
    if isinstance(value, Suite):
        # A Suite stands for the manifest it describes: its location, pinned to its digest.
        if value.location and value.digest and "@" not in value.location:
            return f"{value.location}@{value.digest}"
        if value.location:
            return value.location
    if isinstance(value, _os.PathLike):
        raise TypeError(
            f"{what} is a location (oci:PATH[:TAG] or HOST/REPO[:TAG]), not a path: "
            f"write 'oci:{_os.fspath(value)!s}' for a layout folder"
        )
    if not isinstance(value, str):
        raise TypeError(f"{what} takes a str, not {type(value).__name__}")
    return value


def _report(text: str) -> Dict[str, Any]:
    data = _json.loads(text)
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


def _tag(location: str) -> Optional[str]:
    """The tag of a location (`oci:./zoo:1.0` → `1.0`), or None when it names a digest or
    nothing."""
    if "@" in location:
        return None
    base = _base(location)
    return location[len(base) + 1 :] if len(location) > len(base) + 1 else None


# -- operations --------------------------------------------------------------------------------


@_options.registry_options
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
    quiet: bool = False,
    verify_key: Optional[StrPath] = None,
    policy: Optional[StrPath] = None,
    **options: Unpack[RegistryOptions],
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
        verify_key: A PEM public key: the suite must carry a signature by it covering its
            files (`zoo_oci.sign`), checked before any layer is downloaded; the verified
            signature is written as `model.sig` in a folder (`dest`; the shared cache keeps
            no file that is not the suite's). Root certificates (PEM) instead of a key: the
            signature's signing certificate must chain to one of them (certificate mode).
        policy: A signature policy file (JSON: which keys must have signed the suites of
            which registries and repositories, `enforce`, `warn` or `off`; see the README's
            "Signing and verifying"). None: the default one, when there is a file
            (`$ZOO_OCI_POLICY`, `~/.config/zoo-oci/policy.json`, `/etc/zoo-oci/policy.json`).
            `verify_key` overrides it. A suite the policy refuses raises as `verify_key` does;
            one it only warns about is pulled with a `ZooWarning`.
        **options: How to reach the registry, and which cache: `plain_http`, `ca_file`,
            `cert_file` and `key_file`, `insecure`, `timeout`, `retry_timeout`,
            `docker_config`, `concurrency`, `cache_dir`, `offline`, as the command line's flags
            of the same names; see `zoo_oci.RegistryOptions` for each. `offline=True` resolves
            tags from the cache alone (what it lacks is a `NotFoundError` at once).
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
    # A Suite read by tag pulls its digest, and the cache keeps the tag as resolved to it, as
    # a pull by the tag would: so the tag still resolves offline (hub.load relies on it).
    resolved_from = _tag(ref.location) if isinstance(ref, Suite) and ref.location and "@" in location else None
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
            _options.net(options, "pull"),
            progress,
            resolved_from,
            None if verify_key is None else _path(verify_key, "verify_key"),
            None if policy is None else _path(policy, "policy"),
        )
    report = _report(text)
    _warn(report)
    return _Path(report["destination"])


@_options.registry_options
def inspect(
    ref: Union[str, Suite],
    **options: Unpack[RegistryOptions],
) -> Suite:
    """Describe a suite from its manifest alone: metadata, variants, layers, README. No layer
    is downloaded.

    Args:
        ref: The suite: `oci:./zoo:1.0`, `ghcr.io/team/model:1.0`, `HOST/REPO@sha256:…`.
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`: a
            registry suite the cache holds stands in when the registry cannot be reached;
            offline, only the cache is read.

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
        _native.inspect(
            _ref(ref),
            _options.net(options, "inspect"),
        )
    )
    _warn(report)
    return Suite.from_inspect(report)


@_options.registry_options
def index(
    location: str,
    *,
    task: Optional[str] = None,
    framework: Optional[str] = None,
    license: Optional[str] = None,
    query: Optional[str] = None,
    tags_max_age: Optional[float] = None,
    refresh: bool = False,
    **options: Unpack[RegistryOptions],
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
        tags_max_age: Seconds a registry repository's tags, once listed, are used from the
            shared cache without listing them again (default 900); new repositories show
            regardless, as the catalogue is read every time.
        refresh: List every repository's tags again (`tags_max_age=0`).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`.

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
        _options.net(options, "index"),
        tags_max_age,
        refresh,
    )
    data = _json.loads(text)
    entries = data.get("suites", []) if isinstance(data, dict) else data
    return [Suite.from_index_entry(e) for e in entries if isinstance(e, dict)]


@_options.registry_options
def push(
    folder: StrPath,
    target: str,
    *,
    strict: bool = False,
    dereference: bool = False,
    names: Optional[str] = None,
    quiet: bool = False,
    **options: Unpack[RegistryOptions],
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
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`;
            `cache_dir` is where the layer digests of earlier pushes are remembered.
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
            _options.net(options, "push"),
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
    return _Path(report["descriptor"])


@_options.registry_options
def copy(
    src: Union[str, Suite],
    dst: str,
    *,
    quiet: bool = False,
    **options: Unpack[RegistryOptions],
) -> str:
    """Copy a suite (any OCI manifest or index, with everything below it) unchanged from one
    location to another: a registry to a layout on a USB stick, one registry to another. Blobs
    the destination already has are skipped; registries mount them where they can.

    Args:
        src: What to copy, with its tag or digest.
        dst: Where to: `oci:/mnt/usb/zoo` (keeps the source's tag), `HOST/REPO:TAG`.
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`, for both
            sides.
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
            _options.net(options, "copy"),
            progress,
        )
    report = _report(text)
    _warn(report)
    return str(report["digest"])


@_options.registry_options
def tag(
    ref: Union[str, Suite],
    *tags: str,
    **options: Unpack[RegistryOptions],
) -> List[str]:
    """Add tags to a suite. Every tag is checked before any is written.

    Args:
        ref: The suite, with its tag or digest.
        *tags: The tags to add (`stable`, `latest`, `1.0.1`).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`.

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
        _native.tag(
            location,
            names,
            _options.net(options, "tag"),
        )
    )
    _warn(report)
    base = _base(location)
    return [f"{base}:{t}" for t in report.get("tags", names)]


@_options.registry_options
def diff(
    a: Union[str, Suite],
    b: Union[str, Suite],
    **options: Unpack[RegistryOptions],
) -> Diff:
    """What changed from suite `a` to suite `b`, from their manifests alone: no layer is
    downloaded (a zoo-oci manifest records every file's size and sha256). Two suites that differ
    are not an error.

    Args:
        a: The old side: `oci:./zoo:1.0`, `HOST/REPO:TAG`, `…@sha256:…`, or a `Suite`.
        b: The new side; it may be in another store (a layout against a registry).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`, for both
            sides.

    Returns:
        A `Diff`, true when anything differs: `added`, `removed` and `changed` (file paths),
        per class in `classes`, `variants`, `metadata` (descriptor fields), `annotations`, and
        both sides' digests in `a` and `b`. `print()` shows it as the command line does.

    Raises:
        NotFoundError: a side does not exist. AuthError, TransportError: as for `pull`.

    Example:
        >>> d = zoo_oci.diff("oci:./zoo:1.0", "oci:./zoo:1.1")
        >>> d.changed                                   # the weights, and zoo.yaml's version
        ['models/model.safetensors', 'zoo.yaml']
        >>> [(m["field"], m["old"], m["new"]) for m in d.metadata]
        [('version', '1.0', '1.1')]
        >>> bool(zoo_oci.diff("oci:./zoo:1.0", "oci:./zoo:1.0"))
        False
    """
    net = _options.net(options, "diff")
    report = _report(_native.diff(_ref(a, "a"), _ref(b, "b"), net))
    return Diff.from_report(report)


@_options.registry_options
def tags(
    location: str,
    *,
    long: bool = False,
    **options: Unpack[RegistryOptions],
) -> List[TagEntry]:
    """The tags of a repository or a layout, sorted.

    Args:
        location: `HOST/REPO` or `oci:./zoo` (a tag in it is ignored).
        long: Read each tag's manifest too (one request per tag, no layer): the digest, and
            the suite's name and version (or, for what is not a suite, its type).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`.

    Returns:
        One `TagEntry` per tag: `tag`, and with `long`, `digest`, `name`, `version`, `other`.

    Raises:
        NotFoundError: no such repository or layout. AuthError, TransportError: as for `pull`.

    Example:
        >>> [t.tag for t in zoo_oci.tags("oci:./zoo")]
        ['1.0', 'stable']
        >>> [(t.tag, t.version, t.digest[:15]) for t in zoo_oci.tags("localhost:5000/zoo/iris",
        ...                                                            long=True, plain_http=True)]
        [('1.0', '1.0', 'sha256:1c63e600')]
    """
    net = _options.net(options, "tags")
    report = _report(_native.tags(_ref(location, "location"), bool(long), net))
    return [TagEntry.from_dict(t) for t in report.get("tags") or [] if isinstance(t, dict)]


@_options.registry_options
def rm(
    ref: Union[str, Suite],
    **options: Unpack[RegistryOptions],
) -> RmResult:
    """Remove what a reference names. In a layout, the tag (or, for a digest, every tag of it)
    leaves `index.json`; the blobs stay until `gc`. In a registry, the manifest is deleted,
    which takes every tag pointing at it (the distribution API deletes manifests by digest), if
    the registry allows deletion.

    Args:
        ref: `oci:./zoo:0.9`, `HOST/REPO:TAG` or `HOST/REPO@sha256:…`: a tag or a digest is
            required (no "only tag" here).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`.

    Returns:
        An `RmResult`: the manifest `digest`, the `tags` that no longer point at it, and
        `manifest_deleted`.

    Raises:
        UsageError: the reference names no tag or digest.
        NotFoundError: no such tag or manifest. ZooError: the registry refuses deletion.

    Example:
        >>> zoo_oci.rm("oci:./zoo:0.9").tags
        ['0.9']
        >>> zoo_oci.rm("localhost:5000/zoo/iris:0.9", plain_http=True).manifest_deleted
        True
    """
    net = _options.net(options, "rm")
    report = _report(_native.rm(_ref(ref), net))
    _warn(report)
    return RmResult.from_report(report)


def gc(location: StrPath, *, dry_run: bool = False) -> GcResult:
    """Remove the blobs of an OCI layout that no tag reaches (after `rm`, or pushes that
    replaced a tag). It waits for pushes into the layout in progress, so a blob uploaded before
    its manifest is never taken. Registries collect their own garbage.

    Args:
        location: The layout: `oci:./zoo`, or its folder as a `pathlib.Path`.
        dry_run: Say what would go; remove nothing.

    Returns:
        A `GcResult`: the digests `removed`, their `bytes`, how many blobs were `kept`.

    Raises:
        UsageError: `location` is a registry.

    Example:
        >>> zoo_oci.rm("oci:./zoo:0.9")
        RmResult(digest='sha256:…', tags=['0.9'], manifest_deleted=False)
        >>> zoo_oci.gc("oci:./zoo").bytes
        52231
    """
    if isinstance(location, _os.PathLike):
        location = "oci:" + _path(location, "location")
    text = _ref(location, "location")
    report = _report(_native.gc(text, bool(dry_run)))
    return GcResult.from_report(report)


@_options.registry_options
def login(
    registry: str,
    username: str,
    password: str,
    **options: Unpack[RegistryOptions],
) -> Path:
    """Check a user name and password (or token) against a registry, then keep them in the
    Docker config, as `zoo-oci login` and `docker login` do: `docker_config` when given (as
    `--docker-config`), else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (or the
    credential helper it names). Every later call reading that config, here or on the command
    line, uses them. Nothing is stored when the registry refuses them, and the
    password shows in no message.

    Args:
        registry: `HOST[:PORT]` (`https://` and a trailing `/` are dropped).
        username: The user.
        password: The password or token; read it from a secret store or
            `getpass.getpass()`, not from source code.
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`, to reach
            the registry; `docker_config` is the file written.

    Returns:
        The Docker config file written.

    Raises:
        AuthError: the registry refused the credentials.
        UsageError: an empty password, or a registry that is not `HOST[:PORT]`.

    Example:
        >>> import getpass
        >>> zoo_oci.login("ghcr.io", "me", getpass.getpass("token: "))
        PosixPath('/home/me/.docker/config.json')
    """
    for name, value in (("registry", registry), ("username", username), ("password", password)):
        if not isinstance(value, str):
            raise TypeError(f"login() takes {name} as a str, not {type(value).__name__}")
    net = _options.net(options, "login")
    report = _report(_native.login(registry, username, password, net))
    return _Path(report["config"])


def logout(registry: str, docker_config: Optional[StrPath] = None) -> bool:
    """Forget a registry's credentials: remove them from the Docker config (and its credential
    helper), as `zoo-oci logout` does.

    Args:
        registry: `HOST[:PORT]`.
        docker_config: The Docker config file to remove them from (the one `login` wrote with
            `docker_config=`; `--docker-config`); None: `$DOCKER_CONFIG`'s, else `~/.docker`'s.

    Returns:
        Whether credentials had been stored for it.

    Example:
        >>> zoo_oci.logout("ghcr.io")
        True
    """
    if not isinstance(registry, str):
        raise TypeError(f"logout() takes registry as a str, not {type(registry).__name__}")
    config = None if docker_config is None else _os.fspath(docker_config)
    return bool(_report(_native.logout(registry, config)).get("removed"))



@_options.registry_options
def sign(
    ref: Union[str, Suite],
    key: StrPath,
    *,
    certificate: Optional[StrPath] = None,
    certificate_chain: Optional[StrPath] = None,
    **options: Unpack[RegistryOptions],
) -> str:
    """Sign a suite where it is stored, without downloading it: an OpenSSF Model Signing v1.0
    signature over every file's sha256 (from the manifest's record), stored as an OCI referrer
    of the suite's manifest, as `zoo-oci sign` does.

    Args:
        ref: The suite, with its tag or digest.
        key: A PEM private key, ECDSA P-256 or P-384 (SEC1 or PKCS#8), as openssl writes it.
        certificate: Certificate mode: the key's signing certificate (PEM), carried in the
            signature so that verifiers need only a root (`verify(ref, "root.pem")`).
        certificate_chain: Certificate mode: the certificates that issued it (PEM).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`.

    Returns:
        The signature's manifest digest.

    Example:
        >>> zoo_oci.sign("oci:./zoo:1.0", "key.pem")
        'sha256:2d92f1b0…'
    """
    report = _report(
        _native.sign(
            _ref(ref),
            _path(key, "key"),
            _options.net(options, "sign"),
            None if certificate is None else _path(certificate, "certificate"),
            None if certificate_chain is None else _path(certificate_chain, "certificate_chain"),
        )
    )
    return str(report["signature"])


@_options.registry_options
def verify(ref: Union[str, Suite], key: StrPath, **options: Unpack[RegistryOptions]) -> str:
    """Check that a signature by `key` covers the suite as it is stored: every file, every
    digest. No layer is downloaded.

    Args:
        ref: The suite, with its tag or digest.
        key: A PEM public key (`PUBLIC KEY`), or root certificates (PEM) that the signing
            certificate a signature carries must chain to (certificate mode).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`.

    Returns:
        The manifest digest of the signature that verified.

    Raises:
        IntegrityError: signatures are there, but none is the key's or they cover other content.
        NotFoundError: the suite has no signature.

    Example:
        >>> zoo_oci.verify("oci:./zoo:1.0", "pub.pem")
        'sha256:2d92f1b0…'
    """
    report = _report(_native.verify(_ref(ref), _path(key, "key"), _options.net(options, "verify")))
    return str(report["signature"])

@_options.registry_options
def validate(
    source: Union[str, Suite, StrPath],
    *,
    variant: Optional[str] = None,
    python: Optional[StrPath] = None,
    time_limit: float = 600.0,
    memory_limit: int = 8 << 30,
    unsandboxed: bool = False,
    attach_key: Optional[StrPath] = None,
    **options: Unpack[RegistryOptions],
) -> ValidateResult:
    """Reproduce a suite's claimed metrics: run its validate script on the test set it ships,
    in a sandbox (bubblewrap: no network, no home folder, the suite read-only), and compare what
    it measures with `results` in its zoo.yaml, as `zoo-oci validate` does.

    Args:
        source: A suite folder, or where the suite is stored (`oci:./zoo:1.0`,
            `ghcr.io/team/model:1.0`, a `Suite`): the variant, the scripts and the test set are
            pulled into the shared cache first.
        variant: The model variant to run (default: the first in `models`).
        python: The interpreter whose environment has the suite's runtime (default:
            `python3` on PATH); `sys.executable` runs it in this environment.
        time_limit: Seconds before the script, and every process it started, is killed.
        memory_limit: The script's address-space limit, in bytes.
        unsandboxed: Run the script with your own rights, network and files.
        attach_key: A PEM private key: publish the outcome as a signed in-toto attestation,
            a referrer of the suite (a stored suite only).
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `pull`.

    Returns:
        A `ValidateResult`: `verdict`, `exit_code`, `ok`, the `metrics` claimed and measured.
        A script that fails or is not reproduced is a result, not an exception.

    Raises:
        UsageError: bubblewrap is not installed (and `unsandboxed` is not set), or the
            interpreter does not run.
        NotFoundError: the suite, or the variant, does not exist.

    Example:
        >>> result = zoo_oci.validate("examples/iris-logreg", python=sys.executable)
        >>> result.ok, [(m.type, m.measured) for m in result.metrics]
        (True, [('accuracy', 90.0)])
    """
    if isinstance(source, Suite):
        text, folder = _ref(source), False
    else:
        text = _os.fspath(source)
        folder = _os.path.isdir(text)
    report = _native.validate(
        text,
        folder,
        variant,
        None if python is None else _os.fspath(python),
        float(time_limit),
        int(memory_limit),
        bool(unsandboxed),
        None if attach_key is None else _path(attach_key, "attach_key"),
        _options.net(options, "validate"),
    )
    return ValidateResult.from_report(_report(report))


# -- Client: the options held once ---------------------------------------------------------------


@_functools.lru_cache(maxsize=None)
def _signature(function: Callable[..., Any]) -> _inspect.Signature:
    return _inspect.signature(function)


if _typing.TYPE_CHECKING:
    _P = ParamSpec("_P")
    _R = TypeVar("_R")

    class _Method(Generic[_P, _R]):
        """A module function as a `Client` method: the same parameters, the same result."""

        def __init__(self, function: Callable[_P, _R]) -> None:
            raise NotImplementedError

        def __get__(self, client: Optional[Client], owner: Optional[type] = None) -> Callable[_P, _R]:
            raise NotImplementedError

else:

    class _Method:
        """A module function as a `Client` method. On a client, the function with the client's
        options as its keyword arguments (a keyword given in the call wins), its signature
        showing them as the defaults; on the class, the function itself."""

        def __init__(self, function):
            self.__func__ = function
            _functools.update_wrapper(self, function)

        def __get__(self, client, owner=None):
            if client is None:
                return self.__func__
            return client._bind(self.__func__)


class Client:
    """Registry and cache options held once, for many calls, as `huggingface_hub.HfApi` holds
    its endpoint and token. Its methods are the module's functions (`pull`, `inspect`, `index`,
    `push`, `copy`, `tag`, `tags`, `diff`, `rm`, `gc`, `login`, `logout`, `check`, `init`)
    with the same parameters; the options held are their defaults, and a keyword given in a call
    still wins. Each option reaches the functions that take it.

    The cache folder and the offline switch are this client's own: nothing is written into
    `os.environ`, so clients with different caches work side by side, in threads too. A client
    is immutable; make another for other options.

    Args:
        **options: The registry options (`zoo_oci.RegistryOptions`: `plain_http`, `ca_file`,
            `cert_file`, `key_file`, `insecure`, `timeout`, `retry_timeout`, `docker_config`,
            `concurrency`, `cache_dir`, `offline`), as for `pull` (None: the environment's, as
            for the module's functions).

    Example:
        >>> local = zoo_oci.Client(plain_http=True, cache_dir="/data/zoo-cache", retry_timeout=0)
        >>> digest = local.push("examples/iris-logreg", "localhost:5000/zoo/iris:1.0")
        >>> snap = local.pull("localhost:5000/zoo/iris:1.0", only="model")   # in /data/zoo-cache
        >>> [t.tag for t in local.tags("localhost:5000/zoo/iris")]
        ['1.0']
        >>> local.inspect("localhost:5000/zoo/iris:1.0", retry_timeout=30)  # a call's own keyword
        <Suite iris-logreg:1.0>
        ...
        >>> plane = zoo_oci.Client(offline=True)      # the cache alone: no request is made
        >>> session = zoo_oci.hub.load("localhost:5000/zoo/iris:1.0", client=plane)
    """

    @_options.registry_options
    def __init__(self, **options: Unpack[RegistryOptions]) -> None:
        self._options = _options.normalise(options, "Client")

    @property
    def options(self) -> Dict[str, Any]:
        """The options this client holds (a copy), by name; None is the environment's."""
        return dict(self._options)

    def __repr__(self) -> str:
        defaults = {"plain_http": False, "insecure": False}
        shown = [f"{k}={v!r}" for k, v in self._options.items() if v != defaults.get(k)]
        return f"zoo_oci.Client({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Client) and other._options == self._options

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self._options.items())))

    def _bind(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function` with this client's options as the defaults of the keywords it takes."""
        signature = _signature(function)
        held = {k: v for k, v in self._options.items() if k in signature.parameters}

        @_functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            return function(*args, **{**held, **kwargs})

        parameters = [p.replace(default=held[p.name]) if p.name in held else p for p in signature.parameters.values()]
        call.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return call

    pull = _Method(pull)
    inspect = _Method(inspect)
    index = _Method(index)
    push = _Method(push)
    check = _Method(check)
    init = _Method(init)
    copy = _Method(copy)
    tag = _Method(tag)
    tags = _Method(tags)
    diff = _Method(diff)
    rm = _Method(rm)
    gc = _Method(gc)
    login = _Method(login)
    logout = _Method(logout)
    sign = _Method(sign)
    verify = _Method(verify)
    validate = _Method(validate)


from . import cache, hub  # noqa: E402  (they use the functions above)
