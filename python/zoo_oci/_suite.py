"""What zoo-oci reports about suites, as Python objects: `Suite`, `Variant`, `Layer` and
`CheckResult`. Pure data, built from the JSON the compiled core returns; nothing here touches the
network or the disk."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

__all__ = ["Suite", "Variant", "Layer", "CheckResult", "human_bytes"]

JSON = Dict[str, Any]


def human_bytes(n: Optional[int]) -> str:
    """Bytes in decimal units, as the command line prints them: `856 B`, `64.7 kB`, `4.9 MB`.

    Example:
        >>> human_bytes(64747)
        '64.7 kB'
    """
    if n is None:
        return "?"
    if n < 1000:
        return f"{n} B"
    value = float(n)
    unit = "B"
    for u in ("kB", "MB", "GB", "TB", "PB"):
        if value < 1000:
            break
        value /= 1000
        unit = u
    return f"{value:.1f} {unit}"


def _human_params(n: Optional[int]) -> str:
    if n is None:
        return ""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix} params"
    return f"{n} params"


def _str(value: Any) -> Optional[str]:
    if value is None:
        return None
    text = str(value)
    return text if text else None


def _int(value: Any) -> Optional[int]:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _strs(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Iterable):
        return [str(v) for v in value if v is not None and str(v)]
    return [str(value)]


def _split(value: Any) -> List[str]:
    """A comma-separated annotation as a list."""
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def _dict(value: Any) -> JSON:
    return dict(value) if isinstance(value, Mapping) else {}


def _list(value: Any) -> List[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _first(*values: Any) -> Any:
    """The first value that is neither None nor empty."""
    for v in values:
        if v is not None and v != "" and v != [] and v != {}:
            return v
    return None


def _first_line(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return None


@dataclass(frozen=True)
class Layer:
    """One layer of a suite's manifest: a file, or a folder packed as a tar.

    Attributes:
        class_: What it holds: `model`, `scripts`, `notebooks`, `dataset`, `readme`, `license`,
            `docs` (the JSON's `class`).
        name: The variant (model layers) or dataset it belongs to, if any.
        framework: The framework of a model layer.
        path: Where its file or folder goes in a pulled suite (a folder ends with `/`).
        media_type: Its OCI media type.
        digest: Its digest, `sha256:…`.
        size: Its size in the registry, in bytes.
        files: How many files it holds, when recorded.
        unpacked_size: The bytes of those files, when recorded.
    """

    class_: str
    name: Optional[str]
    framework: Optional[str]
    path: Optional[str]
    media_type: str
    digest: str
    size: int
    files: Optional[int] = None
    unpacked_size: Optional[int] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Layer":
        """A layer from one item of the `layers` list of `zoo-oci inspect --format json`.

        Example:
            >>> Layer.from_dict({"class": "readme", "path": "README.md", "size": 10,
            ...                  "mediaType": "application/vnd.cncf.model.doc.v1.raw",
            ...                  "digest": "sha256:ab"}).class_
            'readme'
        """
        return cls(
            class_=str(d.get("class") or ""),
            name=_str(d.get("name")),
            framework=_str(d.get("framework")),
            path=_str(d.get("path")),
            media_type=str(d.get("mediaType") or ""),
            digest=str(d.get("digest") or ""),
            size=_int(d.get("size")) or 0,
            files=_int(d.get("files")),
            unpacked_size=_int(d.get("unpackedSize")),
        )

    def __hash__(self) -> int:
        return hash((self.digest, self.path))


@dataclass(frozen=True)
class Variant:
    """One model variant of a suite: what the descriptor declares merged with what its model
    file says (the file wins where both speak).

    Attributes:
        name: What `pull(variant=...)` and `hub.load(variant=...)` select.
        framework: `onnx`, `pytorch`, `safetensors`, `gguf`, `tflite`, `openvino`, `keras`, ….
        format: The file format: as `framework`, or e.g. `torchscript` for a PyTorch file.
        precision: `fp32`, `fp16`, `bf16`, `int8`, `q4_k`, … when known.
        params: The parameter count, when known.
        size: The bytes of its layers.
        facts: Everything read from its main model file (inputs, outputs, opsets, metadata…);
            empty when the file was not read or the report is an index entry.
        paths: The `path` of every model layer of this variant, as pulled (a folder ends with
            `/`); empty for an index entry, which lists no layers.
        framework_version: The declared framework version, if any.
        opset: The ONNX opset, if any.
    """

    name: str
    framework: Optional[str]
    format: Optional[str]
    precision: Optional[str]
    params: Optional[int]
    size: int
    facts: JSON = field(default_factory=dict)
    paths: List[str] = field(default_factory=list)
    framework_version: Optional[str] = None
    opset: Optional[int] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], layers: Iterable[Layer] = ()) -> "Variant":
        """A variant from one item of the `variants` list of an inspect report or an index
        entry; `layers` (the suite's) give its `paths`.

        Example:
            >>> Variant.from_dict({"name": "onnx", "framework": "onnx", "size": 856}).size
            856
        """
        name = str(d.get("name") or "")
        paths = [l.path for l in layers if l.class_ == "model" and l.name == name and l.path]
        return cls(
            name=name,
            framework=_str(d.get("framework")),
            format=_str(d.get("format")),
            precision=_str(d.get("precision")),
            params=_int(d.get("params")),
            size=_int(d.get("size")) or 0,
            facts=_dict(d.get("facts")),
            paths=paths,
            framework_version=_str(d.get("framework_version")),
            opset=_int(d.get("opset")),
        )

    def describe(self) -> str:
        """One line: framework/format, precision, size, parameters.

        Example:
            >>> Variant("onnx", "onnx", "onnx", "fp32", 15, 856).describe()
            'onnx  fp32  856 B  15 params'
        """
        kind = self.framework or "?"
        if self.format and self.format != self.framework:
            kind = f"{kind}/{self.format}"
        if self.opset is not None:
            kind = f"{kind} opset {self.opset}"
        parts = [kind, self.precision or "", human_bytes(self.size), _human_params(self.params)]
        return "  ".join(p for p in parts if p)

    def __hash__(self) -> int:
        return hash((self.name, self.framework, self.format, self.size))


@dataclass(frozen=True, eq=False, repr=False)
class Suite:
    """A model suite as `inspect` or `index` describes it, read from its manifest alone.

    Build one with `zoo_oci.inspect(ref)` (everything, the descriptor and layers included) or
    get them from `zoo_oci.index(location)` (one per suite version; no layers, no descriptor).
    Artifacts written by other tools (modctl, KitOps) have no zoo-oci descriptor: their name,
    version, licence and summary come from their ModelPack config or Kitfile.

    Attributes:
        name, version: The suite's name and version (`None` only for foreign artifacts that
            name neither).
        summary: One-paragraph summary.
        task: Its task (a Hugging Face pipeline tag such as `image-classification`), if known.
        modality: `cv`, `nlp`, `audio`, `multimodal`, `tabular`, `rl` or `other`.
        license: SPDX licence expression.
        tags: Free keywords (the descriptor's `tags`, an index entry's `keywords`).
        authors: Authors.
        variants: The model variants, in the descriptor's order.
        io: The descriptor's `io` (inputs, outputs, pre- and post-processing), or None.
        results: Evaluation results (the descriptor's `results`; an index entry's flat
            `metrics`).
        datasets: The datasets the descriptor lists (for foreign artifacts: their dataset
            layers).
        readme: The README, or None.
        digest: The manifest digest, `sha256:…`.
        location: Where it was read, with its tag or digest (`oci:./zoo:1.0`,
            `ghcr.io/team/model:1.0`).
        size: Total bytes of its layers.
        layers: Its layers, in manifest order (empty for an index entry).
        frameworks: The frameworks of its variants, as the manifest records them.
        registry_tags: The tags pointing at this manifest (index entries only).
        raw: The JSON object it was built from.

    Example:
        >>> suite = zoo_oci.inspect("oci:./zoo:1.0")            # doctest: +SKIP
        >>> suite.name, suite.version, [v.name for v in suite.variants]  # doctest: +SKIP
        ('iris-logreg', '1.0', ['onnx', 'onnx-original', 'safetensors'])
    """

    name: Optional[str]
    version: Optional[str]
    summary: Optional[str]
    task: Optional[str]
    modality: Optional[str]
    license: Optional[str]
    tags: List[str]
    authors: List[str]
    variants: List[Variant]
    io: Optional[JSON]
    results: List[Any]
    datasets: List[Any]
    readme: Optional[str]
    digest: str
    location: Optional[str]
    size: int
    layers: List[Layer]
    frameworks: List[str]
    registry_tags: List[str] = field(default_factory=list)
    raw: JSON = field(default_factory=dict)

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Suite":
        """A suite from either an inspect report or an index entry, whichever `d` is.

        Example:
            >>> import json
            >>> Suite.from_dict(json.loads(open("inspect.json").read())).name  # doctest: +SKIP
            'iris-logreg'
        """
        if "keywords" in d or "repository" in d:
            return cls.from_index_entry(d)
        return cls.from_inspect(d)

    @classmethod
    def from_inspect(cls, report: Mapping[str, Any]) -> "Suite":
        """A suite from the JSON of `zoo-oci inspect --format json` (or `_native.inspect`).

        Example:
            >>> import json, subprocess
            >>> out = subprocess.run(["zoo-oci", "inspect", "--format", "json", "oci:./zoo:1.0"],
            ...                      capture_output=True, check=True).stdout   # doctest: +SKIP
            >>> Suite.from_inspect(json.loads(out)).variants[0].name          # doctest: +SKIP
            'onnx'
        """
        r = dict(report)
        desc = _dict(r.get("descriptor"))
        config = _dict(r.get("modelConfig"))
        mc_desc = _dict(config.get("descriptor"))
        kit = _dict(r.get("kitfile"))
        kit_package = _dict(kit.get("package"))
        ann = {str(k): v for k, v in _dict(r.get("annotations")).items()}
        layers = [Layer.from_dict(l) for l in _list(r.get("layers")) if isinstance(l, Mapping)]
        variants = [Variant.from_dict(v, layers) for v in _list(r.get("variants")) if isinstance(v, Mapping)]

        licenses = _strs(mc_desc.get("licenses"))
        license_ = _first(
            desc.get("license"),
            " AND ".join(licenses) if licenses else None,
            kit_package.get("license"),
            ann.get("org.opencontainers.image.licenses"),
        )
        datasets = _list(desc.get("datasets"))
        if not desc:
            datasets = [{"name": l.name, "path": l.path} for l in layers if l.class_ == "dataset"] or _list(
                kit.get("datasets")
            )
        frameworks = _first(
            _split(ann.get("io.zoo-oci.frameworks")),
            sorted({v.framework for v in variants if v.framework}),
        )
        return cls(
            name=_str(
                _first(
                    r.get("name"),
                    desc.get("name"),
                    mc_desc.get("name"),
                    kit_package.get("name"),
                    ann.get("org.opencontainers.image.title"),
                )
            ),
            version=_str(
                _first(
                    r.get("version"),
                    desc.get("version"),
                    mc_desc.get("version"),
                    kit_package.get("version"),
                    ann.get("org.opencontainers.image.version"),
                )
            ),
            summary=_str(
                _first(
                    desc.get("summary"),
                    mc_desc.get("description"),
                    kit_package.get("description"),
                    ann.get("org.opencontainers.image.description"),
                )
            ),
            task=_str(_first(r.get("task"), desc.get("task"), ann.get("io.zoo-oci.task"))),
            modality=_str(_first(r.get("modality"), ann.get("io.zoo-oci.modality"))),
            license=_str(license_),
            tags=_strs(_first(desc.get("tags"), _split(ann.get("io.zoo-oci.tags")))),
            authors=_strs(
                _first(
                    desc.get("authors"),
                    mc_desc.get("authors"),
                    kit_package.get("authors"),
                    _split(ann.get("org.opencontainers.image.authors")),
                )
            ),
            variants=variants,
            io=_dict(desc.get("io")) or None,
            results=_list(desc.get("results")),
            datasets=datasets,
            readme=_str(r.get("readme")),
            digest=str(r.get("digest") or ""),
            location=_str(r.get("location")),
            size=_int(r.get("size")) or sum(l.size for l in layers),
            layers=layers,
            frameworks=_strs(frameworks),
            registry_tags=[],
            raw=r,
        )

    @classmethod
    def from_index_entry(cls, entry: Mapping[str, Any]) -> "Suite":
        """A suite from one item of the `suites` list of `zoo-oci index --format json`.

        Example:
            >>> import json
            >>> doc = json.load(open("index.json"))                              # doctest: +SKIP
            >>> [Suite.from_index_entry(s).location for s in doc["suites"]]     # doctest: +SKIP
            ['oci:./zoo:1.0']
        """
        e = dict(entry)
        variants = [Variant.from_dict(v) for v in _list(e.get("variants")) if isinstance(v, Mapping)]
        return cls(
            name=_str(e.get("name")),
            version=_str(e.get("version")),
            summary=_str(e.get("summary")),
            task=_str(e.get("task")),
            modality=_str(e.get("modality")),
            license=_str(e.get("license")),
            tags=_strs(e.get("keywords")),
            authors=_strs(e.get("authors")),
            variants=variants,
            io=None,
            results=_list(e.get("metrics")),
            datasets=[],
            readme=_str(e.get("readme")),
            digest=str(e.get("digest") or ""),
            location=_str(e.get("location")),
            size=_int(e.get("size")) or 0,
            layers=[],
            frameworks=_strs(_first(e.get("frameworks"), sorted({v.framework for v in variants if v.framework}))),
            registry_tags=_strs(e.get("tags")),
            raw=e,
        )

    # -- reading -------------------------------------------------------------------------------

    def variant(self, name: str) -> Variant:
        """The variant called `name`.

        Raises:
            KeyError: when there is none; the message lists the variants there are.

        Example:
            >>> suite.variant("onnx").paths                                    # doctest: +SKIP
            ['models/logreg_iris_fixed.onnx']
        """
        for v in self.variants:
            if v.name == name:
                return v
        there = ", ".join(v.name for v in self.variants) or "none"
        raise KeyError(f"{self.title} has no variant {name!r} (variants: {there})")

    @property
    def title(self) -> str:
        """`name:version` (or whichever of them is known; the short digest when neither is).

        Example:
            >>> suite.title                                                    # doctest: +SKIP
            'iris-logreg:1.0'
        """
        if self.name and self.version:
            return f"{self.name}:{self.version}"
        return self.name or self.version or self.short_digest or "(unnamed suite)"

    @property
    def short_digest(self) -> str:
        """The digest cut to `sha256:` and 12 hex digits, as the command line shows it."""
        return self.digest[:19] if self.digest.startswith("sha256:") else self.digest[:12]

    @property
    def pull_command(self) -> Optional[str]:
        """The `zoo-oci pull …` command that fetches this suite, ready to paste."""
        return _str(self.raw.get("pull"))

    # -- identity ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Suite):
            return NotImplemented
        return self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.digest, self.location))

    # -- display -------------------------------------------------------------------------------

    def __repr__(self) -> str:
        lines = [f"<Suite {self.title}>"]
        if self.task or self.modality:
            task = self.task or "?"
            lines.append(f"  task      {task} ({self.modality})" if self.modality else f"  task      {task}")
        if self.license:
            lines.append(f"  license   {self.license}")
        lines.append(f"  digest    {self.short_digest}  ({human_bytes(self.size)})")
        if self.location:
            lines.append(f"  location  {self.location}")
        if self.variants:
            width = max(len(v.name) for v in self.variants)
            lines.append(f"  variants  {len(self.variants)}")
            for v in self.variants:
                lines.append(f"    {v.name:<{width}}  {v.describe()}")
        else:
            lines.append("  variants  none")
        if self.datasets:
            lines.append(f"  datasets  {len(self.datasets)}")
        summary = _first_line(self.summary)
        if summary:
            if len(summary) > 100:
                summary = summary[:99] + "…"
            lines.append(f"  summary   {summary}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        rows = []

        def row(key: str, value: Optional[str]) -> None:
            if value:
                rows.append(f"<tr><th style='text-align:left'>{e(key)}</th><td>{e(value)}</td></tr>")

        row("task", f"{self.task} ({self.modality})" if self.task and self.modality else self.task or self.modality)
        row("license", self.license)
        row("digest", self.short_digest)
        row("size", human_bytes(self.size))
        row("location", self.location)
        row("datasets", str(len(self.datasets)) if self.datasets else None)
        row("summary", _first_line(self.summary))
        variants = "".join(
            "<tr>"
            + "".join(
                f"<td>{e(c)}</td>"
                for c in (
                    v.name,
                    v.framework or "",
                    v.format or "",
                    v.precision or "",
                    human_bytes(v.size),
                    _human_params(v.params),
                )
            )
            + "</tr>"
            for v in self.variants
        )
        table = ""
        if variants:
            head = "".join(
                f"<th style='text-align:left'>{h}</th>"
                for h in ("variant", "framework", "format", "precision", "size", "params")
            )
            table = f"<table><thead><tr>{head}</tr></thead><tbody>{variants}</tbody></table>"
        return (
            f"<div class='zoo-oci-suite'><strong>{e(self.title)}</strong>"
            f"<table><tbody>{''.join(rows)}</tbody></table>{table}</div>"
        )


@dataclass(frozen=True, eq=False)
class CheckResult:
    """What `zoo_oci.check(folder)` found: true when the suite can be pushed.

    Attributes:
        ok: No error (warnings may remain); `bool(result)` is the same.
        problems: Each problem as the JSON has it: a dict with `severity` (`error` or
            `warning`), `at` (the file or `zoo.yaml: field`), `message` and sometimes `hint`.
        raw: The whole JSON report (`ok`, `errors`, `warnings`, `problems`, `suite`).

    Example:
        >>> result = zoo_oci.check("examples/iris-logreg")              # doctest: +SKIP
        >>> bool(result), result.errors, result.warnings                # doctest: +SKIP
        (True, 0, 0)
        >>> print(result)                                               # doctest: +SKIP
        ok: iris-logreg 1.0: 9 layers, 14 files, 52.0 kB
    """

    ok: bool
    problems: List[Any]
    raw: JSON = field(default_factory=dict)

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> "CheckResult":
        """From the JSON of `zoo-oci check --format json`."""
        r = dict(report)
        return cls(ok=bool(r.get("ok")), problems=_list(r.get("problems")), raw=r)

    def __bool__(self) -> bool:
        return self.ok

    def _count(self, severity: str) -> int:
        return sum(1 for p in self.problems if isinstance(p, Mapping) and p.get("severity") == severity)

    @property
    def errors(self) -> int:
        """How many problems are errors."""
        n = _int(self.raw.get("errors"))
        return self._count("error") if n is None else n

    @property
    def warnings(self) -> int:
        """How many problems are warnings."""
        n = _int(self.raw.get("warnings"))
        return self._count("warning") if n is None else n

    @property
    def suite(self) -> JSON:
        """What would be pushed (`name`, `version`, `layers`, `files`, `bytes`), when known."""
        return _dict(self.raw.get("suite"))

    def __str__(self) -> str:
        lines = []
        for p in self.problems:
            if isinstance(p, Mapping):
                at = f"{p['at']}: " if p.get("at") else ""
                lines.append(f"{p.get('severity', 'error')}: {at}{p.get('message', '')}")
                if p.get("hint"):
                    lines.append(f"  hint: {p['hint']}")
            else:
                lines.append(str(p))
        s = self.suite
        if self.ok and s:
            size = human_bytes(_int(s.get("bytes")))
            lines.append(
                f"ok: {s.get('name')} {s.get('version')}: {s.get('layers')} layers, {s.get('files')} files, {size}"
            )
        elif self.ok:
            lines.append("ok")
        else:
            lines.append(
                f"{self.errors} error{'s' if self.errors != 1 else ''}, "
                f"{self.warnings} warning{'s' if self.warnings != 1 else ''}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CheckResult(ok={self.ok}, errors={self.errors}, warnings={self.warnings})"
