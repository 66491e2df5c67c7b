"""The registry options, declared once: `RegistryOptions` names them and their types for mypy,
`registry_options` shows them in the signature of each function that takes them (so `help()`,
`inspect.signature` and `Client`'s methods see them as keywords), and `normalise` checks them.

A function takes them as `**options: Unpack[RegistryOptions]`: a misspelt option is a mypy error
and, at run time, the `TypeError` a misspelt keyword always is.
"""

from __future__ import annotations

import inspect
import os
import typing
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TypeVar, Union

if typing.TYPE_CHECKING:
    from . import _native

StrPath = Union[str, "os.PathLike[str]"]
"""A path: a `str` or any `os.PathLike` (`pathlib.Path`)."""
CaFiles = Union[StrPath, Sequence[StrPath]]
"""One PEM file, or several."""


class RegistryOptions(typing.TypedDict, total=False):
    """How to reach a registry, and which cache to use: the command line's registry flags, by
    the same names. Every registry function (`pull`, `inspect`, `index`, `push`, `copy`, `tag`,
    `tags`, `diff`, `rm`, `login`, `hub.load`, `hub.list`, `hub.help`) and `Client` take them as
    keywords; what is not given (or None) is read as the command line reads it.

    Keys:
        plain_http: Talk HTTP, not TLS, to the registry (a local test registry), as
            `--plain-http`.
        ca_file: PEM file(s) of CAs to trust besides the system's (or `SSL_CERT_FILE`'s), as
            `--ca-file`.
        cert_file, key_file: A client certificate and its key (PEM) for registries that ask for
            one (mutual TLS), as `--cert-file`/`--key-file`; both or neither.
        insecure: Verify no TLS certificate (a throwaway test registry only; warns), as
            `--insecure`.
        timeout: Seconds a connection may take to open, or a transfer may move no byte, before
            it is tried again (default 30), as `--timeout`.
        retry_timeout: Seconds to keep trying a registry that is not up yet, or a transfer
            that failed (default 60; 0: no retry), as `--retry-timeout`.
        docker_config: A Docker `config.json` to read credentials from, instead of
            `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, as `--docker-config`.
        concurrency: Blob transfers at once (default 3), as `--concurrency`.
        cache_dir: The shared cache's folder, instead of `$ZOO_OCI_CACHE`'s (or
            `$XDG_CACHE_HOME/zoo-oci`, `~/.cache/zoo-oci`); the environment is not changed.
        offline: True: no network, tags resolved from the cache alone, as `ZOO_OCI_OFFLINE=1`
            (what the cache lacks is a `NotFoundError` at once); False: the network, whatever
            `ZOO_OCI_OFFLINE` says; None (the default): as it says.
    """

    plain_http: bool
    ca_file: Optional[CaFiles]
    cert_file: Optional[StrPath]
    key_file: Optional[StrPath]
    insecure: bool
    timeout: Optional[float]
    retry_timeout: Optional[float]
    docker_config: Optional[StrPath]
    concurrency: Optional[int]
    cache_dir: Optional[StrPath]
    offline: Optional[bool]


#: The option names, in their declared order.
NAMES = tuple(RegistryOptions.__annotations__)

#: What each option is when not given: False for the two switches, else None (the environment's).
DEFAULTS: Dict[str, Any] = {name: False if name in ("plain_http", "insecure") else None for name in NAMES}

F = TypeVar("F", bound=Callable[..., Any])


def _annotation(name: str) -> str:
    """An option's type as written in `RegistryOptions` (text, as the functions' own annotations
    are under `from __future__ import annotations`)."""
    hint = RegistryOptions.__annotations__[name]
    return str(getattr(hint, "__forward_arg__", hint))


def registry_options(function: F) -> F:
    """Shows the options in `function`'s signature, in place of its `**options`: as keyword-only
    parameters with their defaults and types, so that `help(zoo_oci.pull)` lists them and
    `Client` knows `function` takes them. (Another `**kwargs`, `hub.load`'s for the loader,
    stays last.)"""
    signature = inspect.signature(function)
    kept = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    rest = [p for p in signature.parameters.values() if p.kind is inspect.Parameter.VAR_KEYWORD and p.name != "options"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=DEFAULTS[name], annotation=_annotation(name))
        for name in NAMES
    ]
    function.__signature__ = signature.replace(parameters=kept + added + rest)  # type: ignore[attr-defined]
    return function


def path_text(value: Any, what: str) -> str:
    """A path given as a `str` or an `os.PathLike`, as text; else a `TypeError` naming `what`."""
    try:
        path: Union[str, bytes] = os.fspath(value)
    except TypeError:
        raise TypeError(f"{what} takes a str or an os.PathLike, not {type(value).__name__}") from None
    return os.fsdecode(path) if isinstance(path, bytes) else path


def _ca_files(value: Any) -> List[str]:
    if isinstance(value, (str, os.PathLike)):
        return [path_text(value, "ca_file")]
    return [path_text(v, "ca_file") for v in value]


def normalise(options: Mapping[str, Any], caller: str) -> Dict[str, Any]:
    """Every option by name, checked and in plain types (paths as `str`); None for what is not
    given. A name that is no option is the `TypeError` Python raises for an unknown keyword."""
    for name in options:
        if name not in DEFAULTS:
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
    get = {**DEFAULTS, **options}.get
    concurrency = get("concurrency")
    if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int)):
        raise TypeError(f"concurrency takes an int, not {type(concurrency).__name__}")
    if (get("cert_file") is None) != (get("key_file") is None):
        raise TypeError("cert_file and key_file go together: give both, or neither")

    def path(name: str) -> Optional[str]:
        value = get(name)
        return None if value is None else path_text(value, name)

    def seconds(name: str) -> Optional[float]:
        value = get(name)
        return None if value is None else float(value)

    offline = get("offline")
    return {
        "plain_http": bool(get("plain_http")),
        "ca_file": None if get("ca_file") is None else _ca_files(get("ca_file")),
        "cert_file": path("cert_file"),
        "key_file": path("key_file"),
        "insecure": bool(get("insecure")),
        "timeout": seconds("timeout"),
        "retry_timeout": seconds("retry_timeout"),
        "docker_config": path("docker_config"),
        "concurrency": concurrency,
        "cache_dir": path("cache_dir"),
        "offline": None if offline is None else bool(offline),
    }


def net(options: Mapping[str, Any], caller: str) -> _native.Net:
    """The options as the compiled core takes them, for one call of `caller`."""
    held = normalise(options, caller)
    if held["insecure"]:
        from . import ZooWarning

        warnings.warn(
            "insecure=True: TLS certificates are not verified; anyone on the path can read and change what moves",
            ZooWarning,
            stacklevel=3,
        )
    return {**held, "ca_file": held["ca_file"] or []}  # type: ignore[typeddict-item]
