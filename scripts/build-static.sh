#!/usr/bin/env bash
# Builds a zoo-oci binary with no dynamic dependencies: glibc linked statically (crt-static),
# rustls for TLS, and hickory-dns for name resolution, so that no libc NSS plugin is needed at
# run time (a scratch image has none). Prints the binary's path as its last line.
#   PROFILE=release (default) | dev     TARGET_DIR=target/static (default)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-release}
target_dir=${TARGET_DIR:-target/static}
triple=$(rustc -vV | awk '/^host:/ {print $2}')
case "$triple" in
  *-linux-gnu) ;;
  *) echo "build-static: only Linux (gnu) hosts are supported, not $triple" >&2; exit 1 ;;
esac
[ -f "$(gcc -print-file-name=libc.a)" ] || { echo "build-static: needs glibc's static libraries (apt-get install libc6-dev)" >&2; exit 1; }
# The glibc linker warns that getaddrinfo needs NSS at run time: zoo-oci resolves names with
# hickory-dns, so that path is never taken.
# getrandom finds the getrandom(2) wrapper with dlsym, which a static glibc binary lacks, and
# would fall back to /dev/urandom: call the system call directly instead.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" \
  cargo build --locked --profile "$profile" --target "$triple" --target-dir "$target_dir" --bin zoo-oci >&2
dir=$profile
[ "$profile" = dev ] && dir=debug
binary="$PWD/$target_dir/$triple/$dir/zoo-oci"
if ldd "$binary" >/dev/null 2>&1 && ! ldd "$binary" 2>&1 | grep -q 'statically linked'; then
  echo "build-static: $binary still has dynamic dependencies:" >&2
  ldd "$binary" >&2
  exit 1
fi
echo "$binary"
