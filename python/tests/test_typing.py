"""The package is typed (py.typed, annotations, the compiled core's stub): mypy --strict accepts
a program using the whole API, and rejects one that passes the wrong types, so the types are
really read (a package without py.typed would be `Any` throughout and reject nothing)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import zoo_oci

GOOD = """
from pathlib import Path
from typing import List, Optional
import zoo_oci
from zoo_oci import cache, hub

def use() -> None:
    folder: Path = zoo_oci.pull("oci:./zoo:1.0", only="model", variant=["onnx"], quiet=True)
    into: Path = zoo_oci.pull("oci:./zoo:1.0", Path("out"), include="*.onnx", ca_file="ca.pem")
    suite: zoo_oci.Suite = zoo_oci.inspect("oci:./zoo:1.0")
    name: Optional[str] = suite.name
    sizes: List[int] = [v.size or 0 for v in suite.variants]
    suites: List[zoo_oci.Suite] = zoo_oci.index("oci:./zoo", task="image-classification")
    digest: str = zoo_oci.push("suite", "oci:./zoo", strict=True, dereference=True)
    ok: bool = bool(zoo_oci.check("suite", strict=True))
    spec: Path = zoo_oci.init("suite", force=True)
    copied: str = zoo_oci.copy("oci:./zoo:1.0", "localhost:5000/zoo/m:1", plain_http=True, timeout=5.0, retry_timeout=0)
    secure: zoo_oci.Suite = zoo_oci.inspect("host/zoo/m:1", cert_file="c.pem", key_file="k.pem", insecure=False)
    tagged: List[str] = zoo_oci.tag("oci:./zoo:1.0", "stable", "latest")
    root: Path = cache.root()
    freed: int = cache.rm("oci:./zoo:1.0") + cache.prune(older_than=3600.0)
    cached = [(s.digest, s.size) for s in cache.ls()]
    text: str = hub.help("oci:./zoo:1.0")
    listed: List[zoo_oci.Suite] = hub.list("oci:./zoo")
    client = zoo_oci.Client(plain_http=True, cache_dir=Path("cache"), offline=False, concurrency=4, retry_timeout=0)
    held: Path = client.pull("localhost:5000/zoo/m:1", only="model", plain_http=False, quiet=True)
    changes: zoo_oci.Diff = client.diff("oci:./zoo:1.0", "oci:./zoo:1.1")
    changed: List[str] = changes.changed + zoo_oci.diff("oci:./zoo:1.0", suite).added
    entries: List[zoo_oci.TagEntry] = client.tags("oci:./zoo", long=True)
    gone: zoo_oci.RmResult = zoo_oci.rm("oci:./zoo:0.9")
    freed_blobs: int = client.gc("oci:./zoo", dry_run=True).bytes
    config: Path = zoo_oci.login("ghcr.io", "me", "token", ca_file="ca.pem")
    was_there: bool = client.logout("ghcr.io")
    loaded = hub.load("oci:./zoo:1.0", client=client)
    options: zoo_oci.RegistryOptions = {"plain_http": True, "ca_file": ["ca.pem"], "timeout": 5.0, "offline": None}
    from_options: Path = zoo_oci.pull("localhost:5000/zoo/m:1", quiet=True, **options)
    also: zoo_oci.Client = zoo_oci.Client(**options)
    listed_too: List[zoo_oci.Suite] = hub.list("localhost:5000", client=also, retry_timeout=0, cache_dir="c")
    every: List[zoo_oci.TagEntry] = zoo_oci.tags("localhost:5000/zoo/m", concurrency=2, offline=True, docker_config="d.json")
    try:
        hub.load("oci:./zoo:1.0", framework="onnx")
    except hub.RuntimeNotInstalled as e:
        extras = e.extras
    except zoo_oci.NotFoundError as e:
        hint: Optional[str] = e.hint
        code: int = e.exit_code
"""

BAD = """
import zoo_oci
digest: int = zoo_oci.push("suite", "oci:./zoo")
zoo_oci.pull(42)
zoo_oci.inspect("oci:./zoo:1.0").no_such_attribute
zoo_oci.Client(plain_http=True).pull(42)
zoo_oci.Client().tags("oci:./zoo", longg=True)
zoo_oci.pull("oci:./zoo:1.0", plain_htp=True)
zoo_oci.Client(plain_htp=True)
zoo_oci.Client().inspect("oci:./zoo:1.0", cache_dri="c")
zoo_oci.hub.list("oci:./zoo", ofline=True)
zoo_oci.inspect("oci:./zoo:1.0", timeout="5")
bad: zoo_oci.RegistryOptions = {"plain_htp": True}
"""


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.10", str(program)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_the_package_ships_its_type_information():
    package = Path(zoo_oci.__file__).parent
    assert (package / "py.typed").is_file(), "py.typed marks the package as typed (PEP 561)"
    assert (package / "_native.pyi").is_file(), "the compiled core's stub ships in the wheel"


def test_mypy_strict_accepts_a_program_using_the_whole_api(tmp_path):
    run = mypy(tmp_path, GOOD)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_strict_rejects_wrong_types(tmp_path):
    run = mypy(tmp_path, BAD)
    assert run.returncode == 1, run.stdout + run.stderr
    for line in (
        ":3: error: Incompatible types in assignment",
        ':4: error: Argument 1 to "pull"',
        ':5: error: "Suite" has no attribute',
        ':6: error: Argument 1 has incompatible type "int"',
        ':7: error: Unexpected keyword argument "longg"',
        # A misspelt registry option, wherever the options are taken (declared once: RegistryOptions).
        ':8: error: Unexpected keyword argument "plain_htp"',
        ':9: error: Unexpected keyword argument "plain_htp"',
        ':10: error: Unexpected keyword argument "cache_dri"',
        ':11: error: Unexpected keyword argument "ofline"',
        ':12: error: Argument "timeout" to "inspect" has incompatible type "str"',
        ':13: error: Extra key "plain_htp" for TypedDict "RegistryOptions"',
    ):
        assert line in run.stdout, f"{line!r} not in:\n{run.stdout}"
