"""One-line model loading from a zoo, in the manner of `torch.hub`.

    >>> from zoo_oci import hub
    >>> session = hub.load("ghcr.io/team/squeezenet:1.1.0")          # onnxruntime.InferenceSession
    >>> weights = hub.load("oci:./zoo:1.0", variant="safetensors")   # dict of tensors
    >>> print(hub.help("oci:./zoo:1.0"))                             # the README
    >>> [s.title for s in hub.list("oci:./zoo", task="image-classification")]

`load` reads the manifest, picks a variant some installed runtime can load, pulls only that
variant into the shared cache (`zoo_oci.cache`; nothing is downloaded twice, and with
`ZOO_OCI_OFFLINE=1` it works without a network once pulled), and loads it:

| variant | loaded with | extra |
|---|---|---|
| ONNX (`.onnx`, or a folder holding one) | `onnxruntime.InferenceSession` | `zoo-oci[onnx]` |
| TorchScript (`.pt`/`.pth` files that are TorchScript) | `torch.jit.load` | `zoo-oci[torch]` |
| safetensors | `safetensors.torch.load_file` (or `safetensors.numpy` without torch) | `zoo-oci[safetensors]` |
| a Hugging Face folder (`config.json` beside the weights) | `transformers.pipeline(task)` or `AutoModel` | `zoo-oci[transformers]` |

Loading never runs code from the suite: no `trust_remote_code`, no unpickling (`torch.load` is
never called; pickled checkpoints and Hugging Face folders with only `pytorch_model.bin` are
refused), and TorchScript is loaded with `torch.jit.load`, which builds tensors and TorchScript
modules only.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

import zoo_oci as _zoo

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._options import RegistryOptions

from . import _errors, _options
from ._suite import Suite, Variant

__all__ = ["load", "list", "help", "RuntimeNotInstalled"]


class _RuntimeNotInstalledDoc:
    """No installed runtime can load any candidate variant of the suite.

    Both a `zoo_oci.ZooError` and an `ImportError`. The message lists, per variant, the
    `pip install "zoo-oci[EXTRA]"` that would load it, or why nothing in `hub` loads it.

    Attributes:
        extras: Variant name → the extra that would load it (`onnx`, `torch`, `safetensors`,
            `transformers`).
        unsupported: Variant name → why `hub` cannot load it whatever is installed (a GGUF,
            TFLite or OpenVINO file, a pickled checkpoint).
    """

    extras: Dict[str, str]
    unsupported: Dict[str, str]


try:

    class RuntimeNotInstalled(_RuntimeNotInstalledDoc, _errors.ZooError, ImportError):
        __doc__ = _RuntimeNotInstalledDoc.__doc__

except TypeError:  # pragma: no cover - a ZooError with an instance layout ImportError cannot share

    class RuntimeNotInstalled(_RuntimeNotInstalledDoc, _errors.ZooError):  # type: ignore[no-redef]
        __doc__ = _RuntimeNotInstalledDoc.__doc__


# -- what loads what ---------------------------------------------------------------------------

ONNX, TORCHSCRIPT, SAFETENSORS, TRANSFORMERS = "onnx", "torchscript", "safetensors", "transformers"

# The pip extra of each loader kind.
_EXTRA = {ONNX: "onnx", TORCHSCRIPT: "torch", SAFETENSORS: "safetensors", TRANSFORMERS: "transformers"}

_TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".jit", ".ptl")

# Formats nothing here loads, and what to use instead.
_OTHER_RUNTIMES = {
    "gguf": "a GGUF file: use llama.cpp (llama-cpp-python) or another GGUF runtime",
    "tflite": "a TFLite model: use tflite-runtime or tensorflow",
    "openvino": "an OpenVINO IR: use openvino",
    "keras": "a Keras model: use keras or tensorflow",
    "h5": "an HDF5 Keras model: use keras or tensorflow",
    "tensorflow": "a TensorFlow model: use tensorflow",
    "coreml": "a Core ML model: use coremltools",
    "tensorrt": "a TensorRT engine: use tensorrt",
    "paddle": "a PaddlePaddle model: use paddlepaddle",
    "torchserve": "a TorchServe archive: serve it with torchserve",
    "torchserve-mar": "a TorchServe archive: serve it with torchserve",
    "pytorch": "a pickled PyTorch checkpoint: loading it would run code (pickle), which hub never does",
    "pickle": "a pickle: loading it would run code, which hub never does",
    "zip": "a PyTorch archive that is not TorchScript (a pickled checkpoint): hub never unpickles",
}


def _has(module: str) -> bool:
    """Whether `module` is importable, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _installed(kind: str) -> bool:
    if kind == ONNX:
        return _has("onnxruntime")
    if kind == TORCHSCRIPT:
        return _has("torch")
    if kind == SAFETENSORS:
        return _has("safetensors") and (_has("torch") or _has("numpy"))
    if kind == TRANSFORMERS:
        return _has("transformers")
    return False


def _offline(client: Optional[_zoo.Client] = None, given: Optional[Dict[str, Any]] = None) -> bool:
    """The call's offline switch, else the client's, else `ZOO_OCI_OFFLINE` as the core reads it."""
    held = (given or {}).get("offline")
    if held is None and client is not None:
        held = client.options["offline"]
    if held is not None:
        return bool(held)
    return os.environ.get("ZOO_OCI_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _api(client: Optional[_zoo.Client]) -> _zoo.Client:
    """Whose functions to call: the client's (its options applied), else those of a client
    holding nothing, which are the module's."""
    return _zoo.Client() if client is None else client


def _lower(value: Optional[str]) -> str:
    return (value or "").lower()


def _is_folder_variant(v: Variant) -> bool:
    return len(v.paths) > 1 or builtins.any(p.endswith("/") for p in v.paths)


def _kinds(v: Variant) -> Tuple[List[str], Optional[str]]:
    """The loader kinds that may load `v`, in preference order, from its metadata alone; or no
    kind and why nothing here loads it. A folder of safetensors (or of a TorchScript file) may
    turn out to be a Hugging Face folder once pulled, so Transformers is listed for it too."""
    fw, fmt, facts_fmt = _lower(v.framework), _lower(v.format), _lower(str(v.facts.get("format") or ""))
    names = {fw, fmt, facts_fmt}
    if fw in ("transformers", "sentence-transformers", "huggingface") or builtins.any(
        p.rstrip("/").rsplit("/", 1)[-1] == "config.json" for p in v.paths
    ):
        return [TRANSFORMERS], None
    if ONNX in names or builtins.any(p.endswith(".onnx") for p in v.paths):
        return [ONNX], None
    if TORCHSCRIPT in (fmt, facts_fmt):
        return [TORCHSCRIPT], None
    if SAFETENSORS in names or builtins.any(p.endswith(".safetensors") for p in v.paths):
        return ([TRANSFORMERS, SAFETENSORS] if _is_folder_variant(v) else [SAFETENSORS]), None
    if fw == "pytorch" and _is_folder_variant(v):
        # A Hugging Face folder with pytorch_model.bin only: pickles.
        return [], _OTHER_RUNTIMES["pytorch"]
    for name in (fmt, facts_fmt, fw):
        if name in _OTHER_RUNTIMES:
            return [], _OTHER_RUNTIMES[name]
    what = fmt or fw or "unknown"
    return [], f"format {what}: nothing in zoo_oci.hub loads it"


# -- finding the files in a pulled snapshot ----------------------------------------------------


def _roots(snapshot: Path, v: Variant) -> List[Path]:
    return [snapshot / p for p in v.paths] if v.paths else [snapshot]


def _hf_folder(roots: Sequence[Path]) -> Optional[Path]:
    for r in roots:
        if r.is_dir() and (r / "config.json").is_file():
            return r
        if r.name == "config.json" and r.is_file():
            return r.parent
    return None


def _find(roots: Sequence[Path], suffixes: Sequence[str]) -> List[Path]:
    """Files with one of `suffixes` among `roots`: the files themselves, then what folders hold
    (shallowest first, then by name)."""
    found: List[Path] = []
    for r in roots:
        if r.is_file() and r.name.lower().endswith(tuple(suffixes)):
            found.append(r)
        elif r.is_dir():
            inside = [p for p in r.rglob("*") if p.is_file() and p.name.lower().endswith(tuple(suffixes))]
            found.extend(sorted(inside, key=lambda p: (len(p.relative_to(r).parts), str(p))))
    return found


# -- loaders -----------------------------------------------------------------------------------


def _load_onnx(path: Path, kwargs: Dict[str, Any]) -> Any:
    onnxruntime = importlib.import_module("onnxruntime")
    return onnxruntime.InferenceSession(str(path), **kwargs)


def _load_torchscript(path: Path, kwargs: Dict[str, Any]) -> Any:
    torch = importlib.import_module("torch")
    return torch.jit.load(str(path), **kwargs)


def _load_safetensors(paths: Sequence[Path], kwargs: Dict[str, Any]) -> Any:
    backend = "safetensors.torch" if _has("torch") else "safetensors.numpy"
    module = importlib.import_module(backend)
    tensors: Dict[str, Any] = {}
    for p in paths:  # shards of one checkpoint: one dict
        tensors.update(module.load_file(str(p), **kwargs))
    return tensors


def _load_transformers(folder: Path, task: Optional[str], kwargs: Dict[str, Any]) -> Any:
    transformers = importlib.import_module("transformers")
    model_kwargs = dict(kwargs.pop("model_kwargs", None) or {})
    model_kwargs.setdefault("use_safetensors", True)
    if task:
        pipelines = importlib.import_module("transformers.pipelines")
        supported = getattr(pipelines, "get_supported_tasks", None)
        if supported is None or task in supported():
            return transformers.pipeline(
                task, model=str(folder), trust_remote_code=False, model_kwargs=model_kwargs, **kwargs
            )
    kwargs.update(model_kwargs)
    return transformers.AutoModel.from_pretrained(str(folder), trust_remote_code=False, **kwargs)


# -- selection ---------------------------------------------------------------------------------


def _names(value: Optional[Union[str, Sequence[str]]]) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _framework_matches(v: Variant, wanted: Sequence[str]) -> bool:
    have = {_lower(v.framework), _lower(v.format)}
    if "torchscript" in have:
        have.add("pytorch")
    for w in wanted:
        w = w.lower()
        if w in have or (w == "torchscript" and "pytorch" in have and _lower(v.format) == "torchscript"):
            return True
    return False


def _candidates(suite: Suite, variant: List[str], framework: List[str]) -> List[Variant]:
    there = ", ".join(f"{v.name} ({v.framework or v.format or '?'})" for v in suite.variants) or "none"
    if not suite.variants:
        raise _errors.not_found(
            f"{suite.title} has no model variant",
            hint="zoo_oci.inspect(ref) shows what the artifact holds; an image index lists its children",
        )
    if variant:
        by_name = {v.name: v for v in suite.variants}
        missing = [n for n in variant if n not in by_name]
        if missing:
            raise _errors.not_found(
                f"{suite.title} has no variant {', '.join(repr(m) for m in missing)}",
                hint=f"its variants: {there}",
            )
        chosen = [by_name[n] for n in variant]  # the order asked for is the order tried
    else:
        chosen = builtins.list(suite.variants)
    if framework:
        chosen = [v for v in chosen if _framework_matches(v, framework)]
        if not chosen:
            raise _errors.not_found(
                f"{suite.title} has no variant in {', '.join(framework)}"
                + (f" among {', '.join(variant)}" if variant else ""),
                hint=f"its variants: {there}",
            )
    return chosen


def _not_installed(
    suite: Suite, candidates: Sequence[Variant], extras: Dict[str, str], unsupported: Dict[str, str]
) -> RuntimeNotInstalled:
    lines = [f"no installed runtime loads a model variant of {suite.title}:"]
    for v in candidates:  # in the order they were tried
        if v.name in extras:
            lines.append(f'  {v.name}: pip install "zoo-oci[{extras[v.name]}]"')
        elif v.name in unsupported:
            lines.append(f"  {v.name}: {unsupported[v.name]}")
    if extras:
        first = next(iter(extras.values()))
        hint = f'pip install "zoo-oci[{first}]", or pull the files with zoo_oci.pull(ref, only="model")'
    else:
        hint = 'pull the files with zoo_oci.pull(ref, only="model") and load them with their own runtime'
    error = _errors.make(RuntimeNotInstalled, "\n".join(lines), kind="runtime-not-installed", hint=hint, exit_code=1)
    error.extras = dict(extras)
    error.unsupported = dict(unsupported)
    return error


# -- the API -----------------------------------------------------------------------------------


@_options.registry_options
def load(
    ref: Union[str, Suite],
    *,
    variant: Optional[Union[str, Sequence[str]]] = None,
    framework: Optional[Union[str, Sequence[str]]] = None,
    client: Optional[_zoo.Client] = None,
    quiet: bool = False,
    verify_key: Optional[Union[str, "os.PathLike[str]"]] = None,
    **kwargs: Any,
) -> Any:
    """Load a suite's model in one line: the first variant an installed runtime can load.

    Reads the manifest (`zoo_oci.inspect`), takes the candidate variants (all of them in the
    suite's order, or those named by `variant` in the order given, narrowed by `framework`),
    picks the first one whose runtime is installed (checked without importing anything heavy),
    pulls that variant's model files alone into the shared cache, from the very manifest read
    (by its digest: a tag moved in between changes nothing), and loads them:

    - ONNX: `onnxruntime.InferenceSession(path, **kwargs)` (a folder variant: its first
      `.onnx`, with its external data beside it);
    - TorchScript: `torch.jit.load(path, **kwargs)`;
    - safetensors: `safetensors.torch.load_file(path, **kwargs)` with torch installed, else
      `safetensors.numpy.load_file`; a dict of name → tensor (the shards of a folder merged);
    - a Hugging Face folder (`config.json` beside safetensors weights):
      `transformers.pipeline(suite.task, model=folder, **kwargs)` when the suite's task is a
      pipeline task, else `transformers.AutoModel.from_pretrained(folder, **kwargs)`.

    Security: loading never runs code shipped in the suite. `trust_remote_code` is always
    false (passing it is refused), Transformers is told `use_safetensors=True`, `torch.load`
    and pickle are never used (pickled checkpoints are refused), and TorchScript goes through
    `torch.jit.load`, whose loader builds tensors and TorchScript modules only. The model's own
    computation runs when you call it, as for any model.

    Args:
        ref: The suite: `oci:./zoo:1.0`, `ghcr.io/team/model:1.0`, `…@sha256:…`, or a `Suite`.
        variant: The variant(s) to consider, by name, in order of preference.
        framework: Only variants of this framework or format (`onnx`, `safetensors`,
            `torchscript`, `pytorch`, …).
        client: A `zoo_oci.Client` whose options (its cache folder and offline switch too)
            apply; registry options given as keywords add to them.
        quiet: No progress bar for the download.
        verify_key: A PEM public key: the suite must carry a signature by it covering its files
            (`zoo_oci.sign`), checked before any file is downloaded (`IntegrityError` when
            none of its signatures is the key's, `NotFoundError` when it has none).
        **kwargs: The registry options (`zoo_oci.RegistryOptions`: `plain_http`, `ca_file`,
            `cert_file`, `key_file`, `insecure`, `timeout`, `retry_timeout`, `docker_config`,
            `concurrency`, `cache_dir`, `offline`), as for `zoo_oci.pull`; the other keywords
            are passed to the loader (`providers=[...]`, `sess_options=` for onnxruntime;
            `map_location=` for TorchScript; `device=` for safetensors; `device=`,
            `model_kwargs=`, `torch_dtype=` for Transformers).

    Returns:
        The loaded model: an `onnxruntime.InferenceSession`, a `torch.jit.ScriptModule`, a
        `dict` of tensors, or a Transformers pipeline or model.

    Raises:
        RuntimeNotInstalled: no candidate variant has its runtime installed; the message says
            which `pip install "zoo-oci[...]"` would load each (also an `ImportError`).
        NotFoundError: `variant` names a variant the suite does not have, or `framework`
            matches none (the hint lists the variants there are).
        UsageError: `trust_remote_code=True` was passed.
        ZooError: as `inspect` and `pull` raise them.

    Environment:
        `ZOO_OCI_CACHE` (where the files go), `ZOO_OCI_OFFLINE=1` (load what the cache holds,
        with no network: a candidate variant the cache lacks is skipped for the next one, and
        the cache's NotFoundError is raised when it holds none), `ZOO_OCI_USERNAME`/`ZOO_OCI_PASSWORD`, `DOCKER_CONFIG`,
        `SSL_CERT_FILE`.

    Example:
        >>> import numpy as np
        >>> from zoo_oci import hub
        >>> session = hub.load("oci:./zoo:1.0")                     # variant "onnx"
        >>> labels, probabilities = session.run(None, {"float_input": np.array(
        ...     [[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)})
        >>> labels
        array([0])
        >>> weights = hub.load("oci:./zoo:1.0", framework="safetensors")
        >>> sorted(weights)
        ['coefficients', 'intercepts']
        >>> session = hub.load("ghcr.io/team/squeezenet:1.1.0", providers=["CPUExecutionProvider"])
    """
    if kwargs.get("trust_remote_code"):
        raise _errors.usage(
            "hub.load never runs code from a suite (trust_remote_code)",
            hint="pull the files with zoo_oci.pull(ref, only='model') and load them yourself if you trust the code",
        )
    kwargs.pop("trust_remote_code", None)
    registry = {name: kwargs.pop(name) for name in _options.NAMES if name in kwargs}
    suite = ref if isinstance(ref, Suite) and ref.layers else _api(client).inspect(ref, **registry)
    # The pulls below take the manifest the variant was chosen from, by its digest, not the tag
    # again: a tag moved in between would pull another suite, whose variant may not even exist.
    pinned: Union[str, Suite] = suite if suite.location and suite.digest else ref
    offline = _offline(client, registry)
    candidates = _candidates(suite, _names(variant), _names(framework))

    extras: Dict[str, str] = {}
    unsupported: Dict[str, str] = {}
    missing_offline: Optional[BaseException] = None
    for v in candidates:
        kinds, why = _kinds(v)
        if not kinds:
            unsupported[v.name] = why or "nothing in zoo_oci.hub loads it"
            continue
        if not builtins.any(_installed(k) for k in kinds):
            extras[v.name] = _EXTRA[kinds[0]]
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                snapshot = _api(client).pull(
                    pinned, only="model", variant=v.name, quiet=quiet, verify_key=verify_key, **registry
                )
            except _errors.NotFoundError as e:
                if not offline:
                    raise
                # Offline, a variant the cache lacks is skipped for one it holds.
                missing_offline = missing_offline or e
                continue
        for w in caught:  # shown at the caller's line, not here
            warnings.warn(w.message, w.category, stacklevel=2)
        roots = _roots(snapshot, v)
        if TRANSFORMERS in kinds:
            folder = _hf_folder(roots)
            if folder is not None:
                if not _find([folder], (".safetensors",)):
                    unsupported[v.name] = (
                        "a Hugging Face folder with pickled weights only (no .safetensors): hub never unpickles"
                    )
                elif not _installed(TRANSFORMERS):
                    extras[v.name] = _EXTRA[TRANSFORMERS]
                else:
                    return _load_transformers(folder, suite.task, dict(kwargs))
                continue
        others = [k for k in kinds if k != TRANSFORMERS]
        if not others:
            unsupported[v.name] = "declared as a Transformers model, but no config.json came with it"
            continue
        kind = others[0]
        if not _installed(kind):
            extras[v.name] = _EXTRA[kind]
            continue
        if kind == ONNX:
            files = _find(roots, (".onnx",))
            if files:
                return _load_onnx(files[0], dict(kwargs))
        elif kind == TORCHSCRIPT:
            files = _find(roots, _TORCHSCRIPT_SUFFIXES)
            if files:
                return _load_torchscript(files[0], dict(kwargs))
        elif kind == SAFETENSORS:
            files = _find(roots, (".safetensors",))
            if files:
                return _load_safetensors(files, dict(kwargs))
        unsupported[v.name] = f"no {kind} file in what was pulled ({', '.join(v.paths) or 'no paths'})"
    if missing_offline is not None:
        raise missing_offline
    raise _not_installed(suite, candidates, extras, unsupported)


@_options.registry_options
def list(  # noqa: A001 - hub.list, as torch.hub.list
    location: str,
    *,
    task: Optional[str] = None,
    framework: Optional[str] = None,
    license: Optional[str] = None,
    query: Optional[str] = None,
    client: Optional[_zoo.Client] = None,
    **options: Unpack[RegistryOptions],
) -> List[Suite]:
    """The suites of a zoo: `zoo_oci.index` under the name `torch.hub` users look for.

    Args:
        location: `oci:./zoo`, `localhost:5000`, `ghcr.io/team`, `ghcr.io/team/model`.
        task, framework, license, query: Filters, as for `zoo_oci.index`.
        client: A `zoo_oci.Client` whose options (its cache folder and offline switch too)
            apply; the options given add to them.
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `zoo_oci.pull`.

    Returns:
        One `Suite` per suite version, sorted by modality, task, name and version.

    Example:
        >>> from zoo_oci import hub
        >>> [s.location for s in hub.list("oci:./zoo", task="image-classification")]
        ['oci:./zoo:1.1.0']
    """
    return _api(client).index(
        location,
        task=task,
        framework=framework,
        license=license,
        query=query,
        **options,
    )


@_options.registry_options
def help(  # noqa: A001
    ref: Union[str, Suite],
    *,
    client: Optional[_zoo.Client] = None,
    **options: Unpack[RegistryOptions],
) -> str:
    """A suite's README (from its manifest: nothing is pulled), or its summary when it has none.

    Args:
        ref: The suite, or a `Suite` (then nothing is read at all).
        client: A `zoo_oci.Client` whose options (its cache folder and offline switch too)
            apply; the options given add to them.
        **options: The registry options (`zoo_oci.RegistryOptions`), as for `zoo_oci.pull`.

    Returns:
        Markdown text; empty when the suite has neither README nor summary.

    Example:
        >>> from zoo_oci import hub
        >>> print(hub.help("oci:./zoo:1.0").splitlines()[0])
        # Iris species from four measurements — logistic regression (ONNX-ML)
    """
    suite = ref if isinstance(ref, Suite) else _api(client).inspect(ref, **options)
    return suite.readme or suite.summary or ""
