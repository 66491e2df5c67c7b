#!/usr/bin/env python3
"""Writes the zoo-oci image as an OCI image layout; called by build-image.sh.

Standard library only. One gzip layer (the static binary at /zoo-oci, the CA roots, an empty /tmp
and /models), an image config, a manifest, and a tag in index.json. Reproducible: entries sorted,
every time SOURCE_DATE_EPOCH (default 0), owner 0:0 without names, gzip without time or file name,
canonical JSON; the input files' own times, owners and modes never reach the image.
Prints `oci:PATH:TAG` on stdout and nothing else there.
"""

import argparse
import datetime
import gzip
import hashlib
import json
import os
import re
import sys
import tarfile
import tempfile

LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
REF_NAME = "org.opencontainers.image.ref.name"
CA_PATH = "etc/ssl/certs/ca-certificates.crt"
# A tag as the distribution spec allows it.
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\Z")
# ELF e_machine -> OCI architecture (64-bit little-endian Linux targets Rust builds for).
ELF_ARCH = {0x3E: "amd64", 0xB7: "arm64", 0xF3: "riscv64", 0x15: "ppc64le"}
PT_INTERP = 3
# zlib level 6: level 9 is several times slower for a few percent on a binary.
GZIP_LEVEL = 6
# mkstemp makes 0600 files: blobs get what a plain open() would give them.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def fail(message):
    print(f"build-image: {message}", file=sys.stderr)
    sys.exit(1)


def elf_architecture(path):
    """The OCI architecture of a static Linux ELF executable; refuses a dynamically linked one,
    which could not start in an image without a loader (PT_INTERP names one)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF":
            fail(f"{path} is not an ELF executable")
        if head[4] != 2 or head[5] != 1:
            fail(f"{path} is not a 64-bit little-endian ELF executable")
        machine = int.from_bytes(head[18:20], "little")
        arch = ELF_ARCH.get(machine)
        if arch is None:
            fail(f"{path}: unsupported ELF machine {machine:#x}")
        phoff = int.from_bytes(head[32:40], "little")
        phentsize = int.from_bytes(head[54:56], "little")
        phnum = int.from_bytes(head[56:58], "little")
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if int.from_bytes(f.read(4), "little") == PT_INTERP:
                fail(f"{path} is dynamically linked (it names a program interpreter); build it with scripts/build-static.sh")
    return arch


class HashingWriter:
    """A write-only file object that hashes and counts the bytes it passes on to `out`."""

    def __init__(self, out):
        self.out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.sha256.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    def flush(self):
        self.out.flush()

    def digest(self):
        return "sha256:" + self.sha256.hexdigest()


def entries(binary, ca_bundle):
    """(name, mode, source file or None for a directory), parents first, sorted by name."""
    listed = [
        ("etc", 0o755, None),
        ("etc/ssl", 0o755, None),
        ("etc/ssl/certs", 0o755, None),
        (CA_PATH, 0o644, ca_bundle),
        ("models", 0o777, None),
        ("tmp", 0o1777, None),
        ("zoo-oci", 0o755, binary),
    ]
    return sorted(listed, key=lambda e: e[0])


def write_layer(blobs, binary, ca_bundle, epoch):
    """Writes the gzip layer into `blobs`; returns (diff_id, descriptor)."""
    fd, tmp = tempfile.mkstemp(prefix=".layer-", dir=blobs)
    try:
        with os.fdopen(fd, "wb") as out:
            compressed = HashingWriter(out)
            # filename="" and mtime=0: no name and no time in the gzip header.
            with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=GZIP_LEVEL) as gz:
                raw = HashingWriter(gz)
                with tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                    for name, mode, source in entries(binary, ca_bundle):
                        info = tarfile.TarInfo(name)
                        info.mode = mode
                        info.mtime = epoch
                        info.uid = info.gid = 0
                        info.uname = info.gname = ""
                        if source is None:
                            info.type = tarfile.DIRTYPE
                            tar.addfile(info)
                        else:
                            info.type = tarfile.REGTYPE
                            with open(source, "rb") as f:
                                info.size = os.fstat(f.fileno()).st_size
                                tar.addfile(info, f)
            out.flush()
            os.fchmod(out.fileno(), FILE_MODE)
            os.fsync(out.fileno())
        digest = compressed.digest()
        os.replace(tmp, os.path.join(blobs, digest.split(":", 1)[1]))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return raw.digest(), {"mediaType": LAYER_MEDIA_TYPE, "digest": digest, "size": compressed.size}


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def write_atomically(path, data):
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), FILE_MODE)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_blob(blobs, media_type, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    write_atomically(os.path.join(blobs, digest.split(":", 1)[1]), data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def crate_package(cargo_toml):
    """(version, repository or "") of the crate."""
    with open(cargo_toml, "rb") as f:
        text = f.read().decode()
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        package = re.search(r"^\[package\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
        fields = dict(re.findall(r'^(version|repository)\s*=\s*"([^"]*)"', package.group(1) if package else "", re.M))
    else:
        fields = tomllib.loads(text).get("package", {})
    if not isinstance(fields.get("version"), str):
        fail(f"no package version in {cargo_toml}")
    repository = fields.get("repository", "")
    return fields["version"], repository if isinstance(repository, str) else ""


def open_layout(root):
    """Makes `root` an OCI image layout, refusing a non-empty folder that is not one."""
    if os.path.isdir(root) and os.listdir(root) and not os.path.isfile(os.path.join(root, "oci-layout")):
        fail(f"{root} is not empty and not an OCI image layout; choose another IMAGE_DIR")
    blobs = os.path.join(root, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    write_atomically(os.path.join(root, "oci-layout"), canonical({"imageLayoutVersion": "1.0.0"}))
    return blobs


def tag_in_index(root, tag, descriptor):
    """Points `tag` at `descriptor` in index.json, keeping the layout's other tags."""
    path = os.path.join(root, "index.json")
    manifests = []
    if os.path.exists(path):
        with open(path, "rb") as f:
            try:
                manifests = json.load(f).get("manifests", [])
            except ValueError as e:
                fail(f"{path} is not valid JSON ({e}); remove it or choose another IMAGE_DIR")
    manifests = [m for m in manifests if m.get("annotations", {}).get(REF_NAME) != tag]
    manifests.append(dict(descriptor, annotations={REF_NAME: tag}))
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests}
    write_atomically(path, json.dumps(index, indent=2, sort_keys=True).encode() + b"\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", required=True)
    p.add_argument("--ca-bundle", required=True)
    p.add_argument("--cargo-toml", required=True)
    p.add_argument("--out", required=True, help="the OCI image layout to write (created if missing)")
    p.add_argument("--tag", help="default: the crate version")
    p.add_argument("--source", default="", help="org.opencontainers.image.source; default: the crate's repository")
    args = p.parse_args()

    epoch_text = os.environ.get("SOURCE_DATE_EPOCH", "") or "0"
    if not epoch_text.isdigit():
        fail(f"SOURCE_DATE_EPOCH must be a number of seconds, not {epoch_text!r}")
    epoch = int(epoch_text)
    created = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    version, repository = crate_package(args.cargo_toml)
    source = args.source or repository
    tag = args.tag or version
    if not TAG_RE.match(tag):
        fail(f"{tag!r} is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})")
    for path in (args.binary, args.ca_bundle):
        if not os.path.isfile(path):
            fail(f"{path} is not a file")
    arch = elf_architecture(args.binary)
    root = os.path.abspath(args.out)
    if not source:
        print("build-image: no org.opencontainers.image.source: set SOURCE_URL or `repository` in Cargo.toml", file=sys.stderr)
    blobs = open_layout(root)

    diff_id, layer = write_layer(blobs, args.binary, args.ca_bundle, epoch)
    labels = {
        "org.opencontainers.image.title": "zoo-oci",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.licenses": "Apache-2.0",
    }
    if source:
        labels["org.opencontainers.image.source"] = source
    config = {
        "created": created,
        "architecture": arch,
        "os": "linux",
        "config": {
            "User": "65532:65532",
            "Env": ["SSL_CERT_FILE=/" + CA_PATH, "PATH=/"],
            "Entrypoint": ["/zoo-oci"],
            "Cmd": ["--help"],
            "WorkingDir": "/",
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [
            {
                "created": created,
                "created_by": "scripts/build-image.sh",
                "comment": f"zoo-oci {version}: static binary, CA roots, /tmp, /models",
            }
        ],
    }
    config_descriptor = write_blob(blobs, CONFIG_MEDIA_TYPE, canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config_descriptor,
        "layers": [layer],
        "annotations": dict(labels, **{"org.opencontainers.image.created": created}),
    }
    manifest_descriptor = write_blob(blobs, MANIFEST_MEDIA_TYPE, canonical(manifest))
    tag_in_index(root, tag, dict(manifest_descriptor, platform={"architecture": arch, "os": "linux"}))

    mib = layer["size"] / (1 << 20)
    print(f"build-image: {tag} is {manifest_descriptor['digest']} ({arch}, layer {mib:.1f} MiB)", file=sys.stderr)
    print(f"oci:{root}:{tag}")


if __name__ == "__main__":
    main()
