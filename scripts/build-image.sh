#!/usr/bin/env bash
# Builds a minimal runnable OCI image of zoo-oci without a container engine: one layer with the
# static binary at /zoo-oci, the CA roots, an empty /tmp and /models, and no shell; it runs as
# 65532:65532. Writes an OCI image layout (skopeo, oras and `zoo-oci copy` read it) and prints
# `oci:PATH:TAG` as its last line; everything else goes to stderr. The same inputs give the same
# manifest digest (scripts/build_image.py does the writing, with Python's standard library).
#   BINARY=PATH        default: the last line of scripts/build-static.sh (PROFILE passes through)
#   IMAGE_DIR=PATH     default: target/image (an existing layout keeps its other tags)
#   TAG=TAG            default: the crate version
#   SOURCE_DATE_EPOCH  default: 0 (the time of every file and of the image)
#   CA_BUNDLE=PEM      default: /etc/ssl/certs/ca-certificates.crt (Debian's ca-certificates)
#   SOURCE_URL=URL     org.opencontainers.image.source; default: `repository` in Cargo.toml
# Then: zoo-oci copy oci:PATH:TAG REGISTRY/REPO:TAG
set -euo pipefail
caller=$PWD
root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "build-image: $*" >&2; exit 1; }
# Paths the caller gives are relative to the caller's folder.
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$caller/$1" ;; esac; }

command -v python3 >/dev/null || die "needs python3 (apt-get install python3)"
ca_bundle=$(absolute "${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}")
[ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle: install Debian's CA roots (apt-get install ca-certificates) or set CA_BUNDLE"

if [ -n "${BINARY:-}" ]; then
  binary=$(absolute "$BINARY")
else
  echo "build-image: building the static binary (PROFILE=${PROFILE:-release})" >&2
  binary=$("$root/scripts/build-static.sh" | tail -n 1)
fi
[ -f "$binary" ] || die "no binary at $binary"

image_dir=$root/target/image
[ -n "${IMAGE_DIR:-}" ] && image_dir=$(absolute "$IMAGE_DIR")

args=(--binary "$binary" --ca-bundle "$ca_bundle" --cargo-toml "$root/Cargo.toml" --out "$image_dir")
[ -n "${TAG:-}" ] && args+=(--tag "$TAG")
[ -n "${SOURCE_URL:-}" ] && args+=(--source "$SOURCE_URL")
exec python3 "$root/scripts/build_image.py" "${args[@]}"
