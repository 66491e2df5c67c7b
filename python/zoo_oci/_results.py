"""What `diff`, `tags`, `rm` and `gc` report, as Python objects: pure data built from the JSON
the compiled core returns (the reports `--format json` prints), each keeping it as `raw`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ._suite import human_bytes

__all__ = ["Diff", "DiffSide", "ClassDiff", "TagEntry", "RmResult", "GcResult", "MetricCheck", "ValidateResult"]

JSON = Dict[str, Any]


def _str(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def _dicts(value: Any) -> List[JSON]:
    return [dict(v) for v in value or [] if isinstance(v, Mapping)]


@dataclass(frozen=True)
class DiffSide:
    """One side of a `Diff`: `location` (with its tag or digest), the manifest `digest`, the
    suite's `name` and `version`, and `size` (bytes of its layers)."""

    location: str
    digest: str
    name: Optional[str]
    version: Optional[str]
    size: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DiffSide":
        return cls(
            location=str(d.get("location") or ""),
            digest=str(d.get("digest") or ""),
            name=_str(d.get("name")),
            version=_str(d.get("version")),
            size=int(d.get("size") or 0),
        )


@dataclass(frozen=True)
class ClassDiff:
    """The files of one class (`model`, `scripts`, `readme`, …) that differ.

    Attributes:
        class_: The class.
        old_size, new_size: Bytes of the class's layers on each side (0: none there).
        added: Files only in `b`: dicts with `path`, `size`, `digest`, `executable`.
        removed: Files only in `a`, alike.
        changed: Files in both whose content or mode differs: dicts with `path`, `old` and `new`
            (each `size`, `digest`, `executable`).
        media_types: `{"old": [...], "new": [...]}` when the layers' media types differ.
    """

    class_: str
    old_size: int
    new_size: int
    added: List[JSON]
    removed: List[JSON]
    changed: List[JSON]
    media_types: Optional[JSON] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ClassDiff":
        media = d.get("mediaTypes")
        return cls(
            class_=str(d.get("class") or ""),
            old_size=int(d.get("oldSize") or 0),
            new_size=int(d.get("newSize") or 0),
            added=_dicts(d.get("added")),
            removed=_dicts(d.get("removed")),
            changed=_dicts(d.get("changed")),
            media_types=dict(media) if isinstance(media, Mapping) else None,
        )


@dataclass(frozen=True, eq=False)
class Diff:
    """What changed from suite `a` to suite `b`, read from their manifests alone (what
    `zoo-oci diff --format json` prints). True when anything differs.

    Attributes:
        a, b: The two sides (`DiffSide`).
        identical: Both name the same manifest.
        classes: Per class with a change, in layer order (`ClassDiff`).
        variants: Variants added, removed or changed: dicts with `name`, `old`, `new` (the
            variant, or None) and `changes` (`field`, `old`, `new`).
        metadata: Descriptor fields that differ (`zoo.yaml` names): dicts `field`, `old`, `new`.
        annotations: Manifest annotations that differ, alike.
        raw: The whole JSON report.

    Example:
        >>> d = zoo_oci.diff("oci:./zoo:1.0", "oci:./zoo:1.1")          # doctest: +SKIP
        >>> d.changed, d.added, d.removed                                # doctest: +SKIP
        (['models/model.safetensors', 'zoo.yaml'], [], [])
        >>> [(m["field"], m["old"], m["new"]) for m in d.metadata]       # doctest: +SKIP
        [('version', '1.0', '1.1')]
    """

    a: DiffSide
    b: DiffSide
    identical: bool
    classes: List[ClassDiff]
    variants: List[JSON]
    metadata: List[JSON]
    annotations: List[JSON]
    raw: JSON = field(default_factory=dict, repr=False)

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> "Diff":
        """From the JSON of `zoo-oci diff --format json`."""
        r = dict(report)
        return cls(
            a=DiffSide.from_dict(r.get("a") or {}),
            b=DiffSide.from_dict(r.get("b") or {}),
            identical=bool(r.get("identical")),
            classes=[ClassDiff.from_dict(c) for c in _dicts(r.get("classes"))],
            variants=_dicts(r.get("variants")),
            metadata=_dicts(r.get("metadata")),
            annotations=_dicts(r.get("annotations")),
            raw=r,
        )

    @property
    def added(self) -> List[str]:
        """The paths of the files only in `b`, every class together."""
        return [str(f.get("path")) for c in self.classes for f in c.added]

    @property
    def removed(self) -> List[str]:
        """The paths of the files only in `a`."""
        return [str(f.get("path")) for c in self.classes for f in c.removed]

    @property
    def changed(self) -> List[str]:
        """The paths of the files in both with other content or mode."""
        return [str(f.get("path")) for c in self.classes for f in c.changed]

    def __bool__(self) -> bool:
        return bool(self.classes or self.variants or self.metadata or self.annotations)

    def __str__(self) -> str:
        lines = [f"{self.a.location} -> {self.b.location}"]
        if self.identical:
            return lines[0] + ": the same manifest"
        for m in self.metadata:
            lines.append(f"  {m.get('field')}: {m.get('old')!r} -> {m.get('new')!r}")
        for v in self.variants:
            what = "added" if v.get("old") is None else "removed" if v.get("new") is None else "changed"
            lines.append(f"  variant {v.get('name')} {what}")
        for c in self.classes:
            lines.append(f"  {c.class_} ({human_bytes(c.old_size)} -> {human_bytes(c.new_size)})")
            lines.extend(f"    + {f.get('path')}" for f in c.added)
            lines.extend(f"    - {f.get('path')}" for f in c.removed)
            lines.extend(f"    ~ {f.get('path')}" for f in c.changed)
        if len(lines) == 1:
            lines.append("  no change")
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"
        return f"<Diff {self.a.location} -> {self.b.location}: {counts}>"


@dataclass(frozen=True)
class TagEntry:
    """One tag of a repository or layout. With `long=True`: the manifest `digest` it points at,
    the suite's `name` and `version`, or for a tag that holds no suite, `other` (its artifact or
    media type)."""

    tag: str
    digest: Optional[str] = None
    name: Optional[str] = None
    version: Optional[str] = None
    other: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TagEntry":
        return cls(
            tag=str(d.get("tag") or ""),
            digest=_str(d.get("digest")),
            name=_str(d.get("name")),
            version=_str(d.get("version")),
            other=_str(d.get("other")),
        )


@dataclass(frozen=True)
class RmResult:
    """What `rm` removed: the manifest `digest` the reference named, the `tags` that no longer
    point at it, and whether the manifest itself is gone (`manifest_deleted`: a registry deletes
    manifests; a layout forgets tags and keeps blobs until `gc`)."""

    digest: str
    tags: List[str]
    manifest_deleted: bool

    @classmethod
    def from_report(cls, r: Mapping[str, Any]) -> "RmResult":
        return cls(
            digest=str(r.get("digest") or ""),
            tags=[str(t) for t in r.get("tags") or []],
            manifest_deleted=bool(r.get("manifest_deleted")),
        )


@dataclass(frozen=True)
class GcResult:
    """What `gc` removed from a layout (or would, with `dry_run`): the blobs' digests
    (`removed`), their `bytes`, and how many blobs were `kept` (reachable from a tag)."""

    removed: List[str]
    bytes: int
    kept: int
    dry_run: bool

    @classmethod
    def from_report(cls, r: Mapping[str, Any]) -> "GcResult":
        return cls(
            removed=[str(d) for d in r.get("removed") or []],
            bytes=int(r.get("bytes") or 0),
            kept=int(r.get("kept") or 0),
            dry_run=bool(r.get("dry_run")),
        )


@dataclass(frozen=True)
class MetricCheck:
    """One metric of a `validate`: its `type`, the value `claimed` in zoo.yaml (None: the script
    reported a metric nobody claimed), the value `measured`, the `tolerance`, and whether it
    `passed` (None for an unclaimed metric)."""

    type: str
    claimed: Optional[float]
    measured: Optional[float]
    tolerance: Optional[float]
    passed: Optional[bool]


@dataclass(frozen=True)
class ValidateResult:
    """What `validate` found: the `verdict` (`reproduced`, `not_reproduced`, `nothing_to_check`,
    `script_failed`, `timed_out`) and its `exit_code` (0, 1, 2, 6, 7, as the command's), the
    `metrics`, the `reason` when not reproduced, the `variant` and test `dataset` run, the
    script's last `output`, and the `attestation` published (`attach_key`). `ok` is True only
    when every claim was reproduced; `raw` is the whole report."""

    verdict: str
    exit_code: int
    metrics: List[MetricCheck]
    reason: Optional[str]
    variant: str
    dataset: str
    output: str
    attestation: Optional[str]
    raw: JSON = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.verdict == "reproduced"

    @classmethod
    def from_report(cls, r: Mapping[str, Any]) -> "ValidateResult":
        codes = {"reproduced": 0, "not_reproduced": 1, "nothing_to_check": 2, "script_failed": 6, "timed_out": 7}
        verdict = str(r.get("verdict"))
        return cls(
            verdict=verdict,
            exit_code=codes.get(verdict, 1),
            metrics=[
                MetricCheck(
                    type=str(m.get("type")),
                    claimed=m.get("claimed"),
                    measured=m.get("measured"),
                    tolerance=m.get("tolerance"),
                    passed=m.get("passed"),
                )
                for m in _dicts(r.get("metrics"))
            ],
            reason=_str(r.get("reason")),
            variant=str(r.get("variant") or ""),
            dataset=str(r.get("dataset") or ""),
            output=str(r.get("output") or ""),
            attestation=_str(r.get("attestation")),
            raw=dict(r),
        )
