"""The compiled core of zoo_oci (Rust, PyO3, abi3). Use the typed functions of `zoo_oci`
instead: these take plain values and return JSON text, the very reports the command line prints
with `--format json`.

Every function that moves bytes releases the GIL while it runs, checks for Ctrl-C every tenth
of a second (raising KeyboardInterrupt once the operation has stopped and removed what it had
written), and, when `progress` is given, calls it on the calling thread with a list of event
dicts (the JSON lines of `zoo-oci --log-format json`: {"event": "progress", "digest", "size",
"bytes", "path"}, {"event": "copied" | "exists" | "mounted", "digest", "size", "path",
"mediaType", "seconds"}, {"event": "retrying", ..., "reason"}, {"event": "waiting",
"registry", "reason", "retry_in_seconds"}, {"event": "hashing" | "hashed", "bytes"}).

Registry functions take `net`, the command line's registry flags by the same names, and the
cache's folder and offline switch; what is None is read as the command line reads it
(credentials, certs.d folders, the system's CAs, ZOO_OCI_CACHE, ZOO_OCI_OFFLINE), and nothing
is written into the environment.
"""

from typing import Callable, Optional, Sequence, TypedDict

Progress = Callable[[list[dict[str, object]]], None]

class Net(TypedDict):
    """The registry options (every key given)."""

    plain_http: bool  # --plain-http
    ca_file: list[str]  # --ca-file, repeated
    cert_file: Optional[str]  # --cert-file (with key_file)
    key_file: Optional[str]  # --key-file
    insecure: bool  # --insecure
    timeout: Optional[float]  # --timeout, seconds (None: 30)
    retry_timeout: Optional[float]  # --retry-timeout, seconds (None: 60)
    docker_config: Optional[str]  # --docker-config: where credentials are read from
    concurrency: Optional[int]  # --concurrency (None: 3)
    cache_dir: Optional[str]  # the shared cache (None: ZOO_OCI_CACHE, else XDG_CACHE_HOME/zoo-oci, ~/.cache/zoo-oci)
    offline: Optional[bool]  # no network (None: ZOO_OCI_OFFLINE)

__version__: str

# The exceptions raised here are the package's (zoo_oci._errors), so that they pickle.
from ._errors import AuthError as AuthError
from ._errors import IntegrityError as IntegrityError
from ._errors import NotFoundError as NotFoundError
from ._errors import TransportError as TransportError
from ._errors import UsageError as UsageError
from ._errors import ZooError as ZooError

def pull(
    ref: str,
    dest: Optional[str],
    only: Sequence[str],
    variant: Sequence[str],
    framework: Sequence[str],
    include: Sequence[str],
    exclude: Sequence[str],
    force: bool,
    net: Net,
    progress: Optional[Progress],
    resolved_from: Optional[str] = None,
    verify_key: Optional[str] = None,
    policy: Optional[str] = None,
) -> str:
    """Pull into `dest`, or (None) into the shared cache; `resolved_from`, for a digest `ref`
    pulled into the cache, is the tag it was resolved from, kept there as a pull by it keeps it. JSON: {"destination", "digest",
    "up_to_date", "layers", "bytes", "files", "warnings", "cached": bool, "from_cache":
    int (layers taken from the cache, not downloaded)}."""

def inspect(ref: str, net: Net) -> str:
    """JSON of `zoo-oci inspect --format json REF`."""

def index(
    location: str,
    task: Optional[str],
    framework: Optional[str],
    license: Optional[str],
    query: Optional[str],
    net: Net,
    tags_max_age_seconds: Optional[float] = None,
    refresh: bool = False,
) -> str:
    """JSON of `zoo-oci index --format json LOCATION` (its "suites" list, filtered)."""

def push(
    folder: str,
    target: str,
    strict: bool,
    dereference: bool,
    names: Optional[str],
    net: Net,
    progress: Optional[Progress],
) -> str:
    """JSON of `zoo-oci push --format json`; its "digest" is the manifest's."""

def check(folder: str, strict: bool, dereference: bool) -> str:
    """JSON of `zoo-oci check --format json` ("ok", "problems", ...). Never raises for problems."""

def init(folder: str, force: bool) -> str:
    """JSON of `zoo-oci init --format json`."""

def copy(src: str, dst: str, net: Net, progress: Optional[Progress]) -> str:
    """JSON of `zoo-oci copy --format json`."""

def tag(ref: str, tags: Sequence[str], net: Net) -> str:
    """JSON of `zoo-oci tag --format json`."""

def diff(a: str, b: str, net: Net) -> str:
    """JSON of `zoo-oci diff --format json A B`: {"a", "b" (location, digest, name, version,
    size), "identical", "classes" [{"class", "oldSize", "newSize", "added", "removed",
    "changed", "mediaTypes"}], "variants", "metadata", "annotations"}."""

def tags(location: str, long: bool, net: Net) -> str:
    """JSON of `zoo-oci tags --format json [--long]`: {"location", "tags": [{"tag", "digest",
    "name", "version", "other"}]}."""

def rm(ref: str, net: Net) -> str:
    """JSON of `zoo-oci rm --format json REF`: {"digest", "tags", "manifest_deleted"}."""

def gc(location: str, dry_run: bool) -> str:
    """JSON of `zoo-oci gc --format json oci:PATH`: {"removed", "bytes", "kept", "dry_run"}."""

def login(registry: str, username: str, password: str, net: Net) -> str:
    """Checks the credentials against the registry, then stores them in the Docker config;
    JSON {"registry", "username", "config"}. The password is in no message."""

def logout(registry: str, docker_config: Optional[str] = None) -> str:
    """Removes a registry's credentials from the Docker config (`docker_config`, else the usual
    one); JSON {"registry", "removed"}."""

def sign(
    ref: str, key: str, net: Net, certificate: Optional[str] = None, certificate_chain: Optional[str] = None
) -> str:
    """Signs a suite where it is stored; JSON {"subject", "signature", "files"}."""

def verify(ref: str, key: str, net: Net) -> str:
    """Checks a signature by the key covers the suite; JSON {"subject", "signature", "files"}."""

def cache_root() -> str:
    """The cache folder: $ZOO_OCI_CACHE, else $XDG_CACHE_HOME/zoo-oci, else ~/.cache/zoo-oci."""

def cache_ls() -> str:
    """JSON of `zoo-oci cache ls --format json`: {"root", "snapshots": [{"digest", "name",
    "version", "sources", "refs", "path", "files", "size", "last_used"}], "files", "size"}."""

def cache_rm(targets: Sequence[str]) -> str:
    """Remove snapshots by reference (as pulled) or digest (a prefix will do); JSON {"removed":
    [digest], "freed": bytes}."""

def cache_prune(older_than_seconds: Optional[float]) -> str:
    """Remove what no snapshot uses (and snapshots unused for longer than the given age); JSON
    {"removed": [digest], "freed": bytes}."""

def main(argv: Sequence[str]) -> int:
    """Run the `zoo-oci` command line in this process with argv[1:] as its arguments; returns
    its exit code."""
def validate(
    source: str,
    folder: bool,
    variant: Optional[str],
    python: Optional[str],
    time_limit: float,
    memory_limit: int,
    unsandboxed: bool,
    attach_key: Optional[str],
    net: Net,
) -> str: ...
