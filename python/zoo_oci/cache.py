"""The shared cache that `zoo_oci.pull(ref)` (no destination) and `zoo_oci.hub.load` pull into.

The cache folder is `$ZOO_OCI_CACHE`, else `$XDG_CACHE_HOME/zoo-oci`, else `~/.cache/zoo-oci`;
the command line uses the same one (`zoo-oci cache ls`, `cache rm`, `cache prune`). Like the
Hugging Face cache, it is content-addressed:

    files/sha256/ab/<hex>      every file pulled, stored once by its sha256, read-only
    layers/sha256/<hex>.json   what a layer holds: a cached layer is never downloaded again
    blobs/sha256/<hex>         manifests and configs, for offline use
    refs/…/@<tag>              the manifest each tag last resolved to
    snapshots/<hex>/           a suite as pulled: its files (hard links into files/) and
                               .zoo-oci.json; what `pull(ref)` returns
    partial/, digests/         resumable downloads; the layer digests push remembers

A snapshot holds what was selected of the suite (pulling more of it adds to it). Its files are
hard links shared with every other snapshot holding the same bytes: treat them as read-only,
and free space with `rm` and `prune`.

With `ZOO_OCI_OFFLINE=1`, tags are resolved from `refs/` alone, so what was pulled once can be
pulled and loaded again without a network.

Example:
    >>> from zoo_oci import cache
    >>> for s in cache.ls():
    ...     print(s.name, s.version, s.refs, s.size, s.last_used)
    iris-logreg 1.0 ['oci:/srv/zoo:1.0'] 2002 2025-06-01 10:00:00+00:00
    >>> cache.prune(older_than=30 * 86400)      # snapshots unused for 30 days
    2002
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from . import _errors, _native

__all__ = ["CachedSuite", "root", "ls", "rm", "prune"]


def _parse_time(value: Any) -> Optional[datetime]:
    """A timezone-aware datetime from RFC 3339 text (`2025-06-01T10:00:00Z`,
    `…T10:00:00.123456789+02:00`) or epoch seconds (int, float, or digits as text)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    text = str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    except ValueError:
        pass
    # Python 3.9's fromisoformat takes neither "Z" nor more than 6 fractional digits.
    text = re.sub(r"[zZ]$", "+00:00", text)
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    text = re.sub(r"^(\d{4}-\d\d-\d\d)[tT ]", r"\1T", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _strs(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


@dataclass(frozen=True)
class CachedSuite:
    """One snapshot in the cache.

    Attributes:
        digest: The manifest digest, `sha256:…`.
        name, version: The suite's name and version, when known.
        sources: Where it was pulled from, as typed.
        refs: The tags that resolve to it here (`oci:/srv/zoo:1.0`, `ghcr.io/team/m:1.0`):
            what `ZOO_OCI_OFFLINE=1` can pull.
        path: The snapshot folder: the suite's files, laid out as in the suite.
        files: How many files it holds.
        size: Their bytes (shared with other snapshots holding the same files).
        last_used: When a pull last returned it (timezone-aware, UTC), when known.
        raw: The JSON object it was built from.
    """

    digest: str
    name: Optional[str]
    version: Optional[str]
    sources: List[str]
    refs: List[str]
    path: Path
    files: int
    size: int
    last_used: Optional[datetime]
    raw: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "CachedSuite":
        """From one item of the `snapshots` list of `zoo-oci cache ls --format json`."""
        return cls(
            digest=str(d.get("digest") or ""),
            name=None if d.get("name") is None else str(d["name"]),
            version=None if d.get("version") is None else str(d["version"]),
            sources=_strs(d.get("sources")),
            refs=_strs(d.get("refs")),
            path=Path(str(d.get("path") or "")),
            files=int(d.get("files") or 0),
            size=int(d.get("size") or 0),
            last_used=_parse_time(d.get("last_used")),
            raw=dict(d),
        )

    def __hash__(self) -> int:
        return hash((self.digest, str(self.path)))


def root() -> Path:
    """The cache folder: `$ZOO_OCI_CACHE`, else `$XDG_CACHE_HOME/zoo-oci`, else
    `~/.cache/zoo-oci`. It may not exist yet.

    Example:
        >>> import os; os.environ["ZOO_OCI_CACHE"] = "/data/zoo-cache"
        >>> zoo_oci.cache.root()
        PosixPath('/data/zoo-cache')
    """
    return Path(_native.cache_root())


def ls() -> List[CachedSuite]:
    """The snapshots in the cache, most recently used first.

    Returns:
        One `CachedSuite` per snapshot: digest, name, version, the references it was pulled
        by, its folder, file count, size and when it was last used. Empty when the cache is.

    Example:
        >>> total = sum(s.size for s in zoo_oci.cache.ls())
        >>> [s.path.is_relative_to(zoo_oci.cache.root()) for s in zoo_oci.cache.ls()]
        [True]
    """
    report = json.loads(_native.cache_ls())
    return [CachedSuite.from_dict(s) for s in report.get("snapshots") or [] if isinstance(s, dict)]


def rm(*targets: Union[str, CachedSuite]) -> int:
    """Remove snapshots, named by a location with its tag as pulled (`oci:/srv/zoo:1.0`), a
    suite name (`iris-logreg`), a manifest digest or a prefix of its hex (`1c63e6`), or given
    as `CachedSuite` objects from `ls()`. The tags pointing at them go too, and the stored files
    nothing else holds.

    Returns:
        The bytes freed.

    Raises:
        UsageError: no target given.
        NotFoundError: a target names no snapshot.

    Example:
        >>> zoo_oci.cache.rm("oci:/srv/zoo:1.0")
        2002
        >>> zoo_oci.cache.rm(*[s for s in zoo_oci.cache.ls() if s.name == "iris-logreg"])
        0
    """
    if not targets:
        raise _errors.usage("cache.rm() needs a reference or digest", hint='zoo_oci.cache.rm("oci:./zoo:1.0")')
    names = [t.digest if isinstance(t, CachedSuite) else t for t in targets]
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"cache.rm() takes references, digests or CachedSuite objects, not {type(n).__name__}")
    report = json.loads(_native.cache_rm(names))
    return int(report.get("freed") or 0)


def prune(older_than: Union[timedelta, float, None] = None) -> int:
    """Free what nothing uses: stored files no snapshot holds, leftovers of killed pulls, and,
    given `older_than`, the snapshots no pull has returned for that long.

    Args:
        older_than: A `datetime.timedelta`, or seconds; None keeps every snapshot.

    Returns:
        The bytes freed.

    Raises:
        UsageError: a negative age.

    Example:
        >>> from datetime import timedelta
        >>> zoo_oci.cache.prune()                              # leftovers only
        0
        >>> zoo_oci.cache.prune(older_than=timedelta(days=30))
        4946672
    """
    seconds: Optional[float]
    if older_than is None:
        seconds = None
    elif isinstance(older_than, timedelta):
        seconds = older_than.total_seconds()
    elif isinstance(older_than, (int, float)) and not isinstance(older_than, bool):
        seconds = float(older_than)
    else:
        raise TypeError(f"older_than takes a timedelta or seconds, not {type(older_than).__name__}")
    if seconds is not None and seconds < 0:
        raise _errors.usage(f"older_than is negative ({seconds} s)", hint="give an age: timedelta(days=30) or 86400")
    report = json.loads(_native.cache_prune(seconds))
    return int(report.get("freed") or 0)
