#!/usr/bin/env bash
# Measures zoo-oci push and pull next to the tools that bound them, on the same bytes in the same
# run, and prints each figure as a ratio against its ceiling (issue 12, point 6):
#   (a) one large random weights file in a suite: push, unchanged re-push and pull through an OCI
#       layout and through a local CNCF Distribution registry (plain HTTP on loopback); ceilings:
#       openssl's and sha256sum's sha256 over the file, curl uploading the blob in one PUT and
#       downloading it in one GET, skopeo copying the same artifact to and from the registry;
#   (b) many 512-byte files in a dataset folder of a suite: push, re-push and pull through a
#       layout; ceilings: `tar c | sha256sum` and `tar x` of the same folder;
#   (c) a Hugging Face checkpoint of 4 shards and its config (issue 20): push and pull through the
#       registry against curl moving the same 4 blobs one connection at a time; then a 19-byte
#       change to config.json: the bytes its re-push uploads and the bytes its pull into the
#       shared cache (after the first version's) downloads;
#   (e) a catalogue of CATALOG_SUITES suites in one registry (issue 25), each in its own
#       repository (the iris example's manifest under another name): index with an empty cache,
#       against a plain client reading the same catalogue, tag lists and manifests with as many
#       requests in flight (scripts/bench_catalog.py plain); then, with one repository pushed in
#       between, the index again with the cache the first one filled (checked to show it);
#   (f) the site of SITE_SUITES suites (issue 26): `index --format site` into a new folder, then
#       again unchanged (checked to rewrite nothing), and the front page's ready time in headless
#       Chromium (tests/site/ready.mjs: DOMContentLoaded and load from file://, best of 5);
#   (d) the large file of (a) pulled through nginx limiting each connection to LIMIT_MBPS
#       (CDNs, object stores), against curl through the same limit (one connection). nginx lets
#       each request have its first second of bytes at once, so parts smaller than LIMIT_MBPS
#       pass unthrottled: the ratio is the connections' and that burst's together.
# Pulls keep their partial files under the scratch folder (ZOO_OCI_CACHE), on the destination's
# file system, so that a raw layer is renamed into place there too (tmpfs included).
# Every step runs RUNS times, in rounds (each round a new layout, a new registry, new folders);
# the table keeps each step's best time and its largest peak RSS, and lists every time. Then a
# table of the issue's bar lines and whether each holds. It reports and does not judge: the exit
# code is 0 unless a step failed or its result was wrong (every push and pull is checked with cmp
# or diff -r, every re-push to have uploaded nothing, so a broken run prints no figure).
#   SIZE_MB=1024     size of the weights file in MiB
#   FILES=100000     small files in (b)
#   RUNS=3           rounds; best of RUNS
#   SHARD_MB=256     size of each of the 4 shards in (c)
#   LIMIT_MBPS=16    nginx's limit per connection in (d), 10^6 bytes a second
#   BENCH_DIR=target where the scratch folder goes: on the disk by default (BENCH_DIR=/dev/shm for
#                    tmpfs); needs about 5×SIZE_MB + 12×SHARD_MB MiB plus (2×RUNS+2)×FILES×4 KiB
#   BENCH_REGISTRY=0 skip the registry steps (and so (c), (d));  BENCH_SMALL=0 skip (b);
#   BENCH_SCALE=0    skip (c) and (d)
#   CATALOG_SUITES=3000  suites in (e);  CATALOG_CONCURRENCY=8  requests in flight in (e)
#   SITE_SUITES=500  suites in (f)
#   BENCH_CATALOG=0  skip (e);  BENCH_SITE=0  skip (f)
#   BENCH_ONLY=ef    run only the parts named (letters a to f)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${SIZE_MB:-1024}
files=${FILES:-100000}
runs=${RUNS:-3}
with_registry=${BENCH_REGISTRY:-1}
with_small=${BENCH_SMALL:-1}
with_scale=${BENCH_SCALE:-1}
with_catalog=${BENCH_CATALOG:-1}
with_site=${BENCH_SITE:-1}
catalog_suites=${CATALOG_SUITES:-3000}
catalog_concurrency=${CATALOG_CONCURRENCY:-8}
site_suites=${SITE_SUITES:-500}
with_core=1
only=${BENCH_ONLY:-}
if [ -n "$only" ]; then
  # part LETTER: whether BENCH_ONLY names it.
  part() { case $only in *"$1"*) echo 1 ;; *) echo 0 ;; esac; }
  with_core=$(part a) with_small=$(part b) with_catalog=$(part e) with_site=$(part f)
  if [ "$(part c)$(part d)" = 00 ]; then with_scale=0; fi
  [ "$with_core" = 1 ] || size_mb=1
fi
[ "$with_registry" = 1 ] || { with_scale=0; with_catalog=0; with_site=0; }
shard_mb=${SHARD_MB:-256}
limit_mbps=${LIMIT_MBPS:-16}

need() { command -v "$1" >/dev/null || { echo "bench: needs $1 ($2)" >&2; exit 1; }; }
need /usr/bin/time "GNU time: apt-get install time"
need openssl "apt-get install openssl"
need python3 "apt-get install python3"
if [ "$with_registry" = 1 ]; then
  need docker-registry "scripts/setup.sh installs it"
  need curl "apt-get install curl"
  need skopeo "scripts/setup.sh installs it"
fi
nginx=/usr/sbin/nginx
[ -x "$nginx" ] || nginx=nginx
if [ "$with_scale" = 1 ]; then need "$nginx" "scripts/setup.sh installs nginx-light"; fi

cargo build --release --quiet --bin zoo-oci
zoo=${CARGO_TARGET_DIR:-$PWD/target}/release/zoo-oci
mkdir -p "${BENCH_DIR:-$PWD/target}"
work=$(mktemp -d "${BENCH_DIR:-$PWD/target}/zoo-oci-bench.XXXXXX")
registry_pid=
nginx_pid=
stop_registry() {
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
  fi
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
    registry_pid=
  fi
  rm -rf "$work/registry"
}
trap 'stop_registry; rm -rf "$work"' EXIT

# Results by step key: best wall seconds, largest peak RSS (KiB), every run's seconds, payload
# bytes, and the order of the rows.
declare -A secs rss all bytes label
order=()
big_bytes=$((size_mb * 1024 * 1024))
small_bytes=$((files * 512))

# measure KEY LABEL BYTES COMMAND...: runs COMMAND once after a sync (so writeback of the step
# before does not land in this one), stdout in $work/out.KEY; a failing step ends the bench.
measure() {
  local key=$1 s m
  label[$key]=$2
  bytes[$key]=$3
  shift 3
  sync
  if ! /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out.$key" 2>"$work/err"; then
    echo "bench: ${label[$key]} failed:" >&2
    cat "$work/err" >&2
    exit 1
  fi
  read -r s m <"$work/time"
  if [ -z "${secs[$key]:-}" ]; then
    order+=("$key")
    secs[$key]=$s rss[$key]=$m all[$key]=$s
  else
    all[$key]+=" $s"
    if awk -v a="$s" -v b="${secs[$key]}" 'BEGIN { exit !(a < b) }'; then secs[$key]=$s; fi
    if [ "$m" -gt "${rss[$key]}" ]; then rss[$key]=$m; fi
  fi
}
fail() { echo "bench: $*" >&2; exit 1; }
# The bytes a zoo-oci push reports it uploaded (push --format json).
uploaded() { sed -n 's/.*"uploaded_bytes":\([0-9]*\).*/\1/p' "$work/out.$1"; }
# The manifest digest a zoo-oci push reports.
pushed() { sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$work/out.$1"; }
# Same tree, the pull's record aside.
same_tree() { diff -r -x .zoo-oci.json "$1" "$2" >/dev/null || fail "$3: $2 differs from $1"; }

# A new registry for each round, on a new port with empty storage: nothing a round pushed can be
# reused by the next, by zoo-oci or by skopeo (whose blob cache remembers where it saw a blob).
start_registry() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  addr=127.0.0.1:$port
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$work/registry" "$addr" >"$work/registry.yml"
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://$addr/v2/" >/dev/null || fail "the registry did not start: $(cat "$work/registry.log")"
}

# nginx in front of the registry, each connection sent at most LIMIT_MBPS (buffered proxying, so
# the limit applies to what the client reads; Range goes through to the registry).
start_nginx() {
  local port d=$work/nginx
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  limited=127.0.0.1:$port
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<CONF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  server {
    listen $limited;
    client_max_body_size 0;
    location / {
      proxy_pass http://$addr;
      proxy_set_header Host \$http_host;
      proxy_http_version 1.1;
      proxy_buffering on;
      proxy_max_temp_file_size 0;
      limit_rate $((limit_mbps * 1000000));
    }
  }
}
CONF
  "$nginx" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" -g 'daemon off; user root;' >/dev/null 2>&1 &
  nginx_pid=$!
  for _ in $(seq 100); do curl -fsS "http://$limited/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "http://$limited/v2/" >/dev/null || fail "nginx did not start: $(cat "$d/error.log")"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# (a) One large weights file.
suite=$work/suite
mkdir -p "$suite/models"
head -c "$big_bytes" /dev/urandom >"$suite/models/weights.bin"
weights=$suite/models/weights.bin
printf '# Bench\n\nA %s MiB weights file.\n' "$size_mb" >"$suite/README.md"
cat >"$suite/zoo.yaml" <<'YAML'
name: bench
version: "1"
summary: benchmark suite, one large weights file
license: MIT
models:
  - {name: weights, path: models/weights.bin, framework: other}
YAML
hex=$(sha256sum "$weights" | cut -d' ' -f1)
digest=sha256:$hex
# skopeo reads no credentials from this machine's home. (Not exported: docker-registry reads
# REGISTRY_* variables as its configuration.)
echo '{}' >"$work/no-auth.json"
skopeo=(env "REGISTRY_AUTH_FILE=$work/no-auth.json" "DOCKER_CONFIG=$work/docker" skopeo)

if [ "$with_core" = 1 ]; then
for round in $(seq "$runs"); do
  layout=$work/layout-$round
  measure openssl 'openssl dgst -sha256' "$big_bytes" openssl dgst -sha256 "$weights"
  grep -q "= $hex\$" "$work/out.openssl" || fail "openssl and sha256sum disagree on the weights' digest"
  measure sha256sum 'sha256sum' "$big_bytes" sha256sum "$weights"
  grep -q "^$hex " "$work/out.sha256sum" || fail "sha256sum gave another digest"

  # A first push starts from an empty digest cache; its re-push uses the cache it filled.
  cache=$work/cache-layout-$round
  measure push 'push to layout' "$big_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --format json "$suite" "oci:$layout:v1"
  [ "$(uploaded push)" -ge "$big_bytes" ] || fail "push to the layout uploaded $(uploaded push) bytes"
  manifest=$(pushed push)
  measure repush 're-push to layout' "$big_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --format json "$suite" "oci:$layout:v1"
  [ "$(uploaded repush)" = 0 ] || fail "the unchanged re-push uploaded $(uploaded repush) bytes"
  measure pull 'pull from layout' "$big_bytes" "$zoo" pull -q "oci:$layout:v1" -o "$work/pulled"
  cmp "$weights" "$work/pulled/models/weights.bin"
  rm -rf "$work/pulled"

  if [ "$with_registry" = 1 ]; then
    start_registry
    # curl: one monolithic PUT of the blob (the registry checks its digest), one GET of it.
    location=$(curl -fsS -i -X POST "http://$addr/v2/bench/curl/blobs/uploads/" | tr -d '\r' |
      awk -F': ' 'tolower($1)=="location"{print $2}')
    case "$location" in http*) ;; *) location="http://$addr$location" ;; esac
    case "$location" in *\?*) put_url="$location&digest=$digest" ;; *) put_url="$location?digest=$digest" ;; esac
    measure curl-put 'curl PUT' "$big_bytes" curl -fsS -X PUT -H 'Content-Type: application/octet-stream' -T "$weights" "$put_url"
    measure curl-get 'curl GET' "$big_bytes" curl -fsS -o "$work/curl.bin" "http://$addr/v2/bench/curl/blobs/$digest"
    cmp "$weights" "$work/curl.bin"
    rm -f "$work/curl.bin"

    # skopeo pushes the artifact zoo-oci wrote into the layout before zoo-oci pushes it to the
    # registry: no repository there holds its blobs yet, so skopeo cannot reuse or mount them.
    measure skopeo-push 'skopeo push' "$big_bytes" \
      "${skopeo[@]}" copy -q --all --preserve-digests --dest-tls-verify=false "oci:$layout:v1" "docker://$addr/bench/skopeo:v1"
    got=$(curl -fsS -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$addr/v2/bench/skopeo/manifests/v1" |
      tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
    [ "$got" = "$manifest" ] || fail "skopeo pushed manifest $got, not $manifest"

    cache=$work/cache-registry-$round
    measure reg-push 'push to registry' "$big_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --plain-http --format json "$suite" "$addr/bench/zoo:v1"
    [ "$(uploaded reg-push)" -ge "$big_bytes" ] || fail "push to the registry uploaded $(uploaded reg-push) bytes"
    measure reg-repush 're-push to registry' "$big_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --plain-http --format json "$suite" "$addr/bench/zoo:v1"
    [ "$(uploaded reg-repush)" = 0 ] || fail "the unchanged re-push uploaded $(uploaded reg-repush) bytes"
    measure reg-pull 'pull from registry' "$big_bytes" env ZOO_OCI_CACHE="$work/pull-cache" "$zoo" pull -q --plain-http "$addr/bench/zoo:v1" -o "$work/pulled"
    cmp "$weights" "$work/pulled/models/weights.bin"
    rm -rf "$work/pulled"

    # skopeo pulls what zoo-oci pushed into a new layout; zoo-oci reads it back to check it.
    measure skopeo-pull 'skopeo pull' "$big_bytes" \
      "${skopeo[@]}" copy -q --all --preserve-digests --src-tls-verify=false "docker://$addr/bench/zoo:v1" "oci:$work/skopeo-layout:v1"
    "$zoo" pull -q "oci:$work/skopeo-layout:v1" -o "$work/pulled" >/dev/null
    cmp "$weights" "$work/pulled/models/weights.bin"
    rm -rf "$work/pulled" "$work/skopeo-layout"
    stop_registry
  fi
  rm -rf "$layout"
done
fi

# (b) Many small files in a dataset folder, 1,000 to a subfolder.
if [ "$with_small" = 1 ]; then
  small=$work/small
  mkdir -p "$small/models"
  head -c 4096 /dev/urandom >"$small/models/tiny.bin"
  printf '# Small files\n\n%s files of 512 bytes.\n' "$files" >"$small/README.md"
  cat >"$small/zoo.yaml" <<'YAML'
name: bench-small
version: "1"
summary: benchmark suite, many small files
license: MIT
models:
  - {name: tiny, path: models/tiny.bin, framework: other}
datasets:
  - {name: x, role: test, path: data/x/}
YAML
  python3 - "$small/data/x" "$files" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    folder = os.path.join(root, f"{i // 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(folder)
    with open(os.path.join(folder, f"{i:06d}.bin"), "wb") as f:
        f.write(os.urandom(512))
PY
  tar -C "$small" -cf "$work/small.tar" data/x
  # Each round's folders stay until the last round: deleting 100,000 files slows the creation
  # of files for a while after (seen on ext4 mounted with discard), which would land in the
  # next round's steps.
  for round in $(seq "$runs"); do
    # shellcheck disable=SC2016 # $1 is the inner shell's
    measure tar-c 'tar c | sha256sum' "$small_bytes" bash -c 'set -o pipefail; tar -C "$1" -c data/x | sha256sum' _ "$small"
    mkdir "$work/untarred-$round"
    measure tar-x 'tar x' "$small_bytes" tar -C "$work/untarred-$round" -xf "$work/small.tar"
    diff -r "$small/data" "$work/untarred-$round/data" >/dev/null || fail "tar x gave another tree"

    cache=$work/cache-small-$round
    measure small-push 'push to layout' "$small_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --format json "$small" "oci:$work/small-layout:v1"
    [ "$(uploaded small-push)" -gt 0 ] || fail "push to the layout uploaded nothing"
    measure small-repush 're-push to layout' "$small_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --format json "$small" "oci:$work/small-layout:v1"
    [ "$(uploaded small-repush)" = 0 ] || fail "the unchanged re-push uploaded $(uploaded small-repush) bytes"
    measure small-pull 'pull from layout' "$small_bytes" "$zoo" pull -q "oci:$work/small-layout:v1" -o "$work/small-pulled-$round"
    same_tree "$small" "$work/small-pulled-$round" "the pull of the small files"
    rm -rf "$work/small-layout"
  done
fi

# (c) A sharded checkpoint: 4 shards of SHARD_MB and a config, a variant of one folder.
# (d) The large file of (a) behind a per-connection limit.
shard_bytes=$((shard_mb * 1024 * 1024))
sharded_bytes=$((4 * shard_bytes))
limited_bytes=$big_bytes
config_push_bytes= config_pull_bytes=
if [ "$with_scale" = 1 ]; then
  sharded=$work/sharded
  mkdir -p "$sharded/model"
  python3 - "$sharded/model" "$shard_bytes" <<'PY'
import json, os, struct, sys
folder, size = sys.argv[1], int(sys.argv[2])
weight_map = {}
for i in range(1, 5):
    name = f"model-{i:05d}-of-00004.safetensors"
    n = (size - 128) // 4
    header = json.dumps({f"layer{i}.w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        left = 4 * n
        while left:
            chunk = os.urandom(min(left, 1 << 24))
            f.write(chunk)
            left -= len(chunk)
    weight_map[f"layer{i}.w"] = name
with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": 4 * 4 * ((size - 128) // 4)}, "weight_map": weight_map}, f)
with open(os.path.join(folder, "config.json"), "w") as f:
    f.write('{"model_type": "bench"}\n')
PY
  printf '# Sharded\n\nFour shards of %s MiB.\n' "$shard_mb" >"$sharded/README.md"
  cat >"$sharded/zoo.yaml" <<'YAML'
name: bench-sharded
version: "1"
summary: benchmark suite, a checkpoint in four shards
license: MIT
models:
  - {name: hf, path: model/, framework: safetensors}
YAML
  for round in $(seq "$runs"); do
    start_registry
    # curl: the 4 shard blobs up (POST, then one monolithic PUT each) and down, one connection
    # at a time.
    # shellcheck disable=SC2016 # the inner shell's variables
    measure curl-put4 'curl PUT ×4' "$sharded_bytes" bash -c '
      for f in "$2"/model/model-0000?-of-00004.safetensors; do
        d=sha256:$(sha256sum "$f" | cut -d" " -f1)
        loc=$(curl -fsS -i -X POST "http://$1/v2/bench/curl/blobs/uploads/" | tr -d "
" | awk -F": " "tolower(\$1)==\"location\"{print \$2}")
        case "$loc" in http*) ;; *) loc="http://$1$loc" ;; esac
        case "$loc" in *\?*) url="$loc&digest=$d" ;; *) url="$loc?digest=$d" ;; esac
        curl -fsS -X PUT -H "Content-Type: application/octet-stream" -T "$f" "$url"
      done' _ "$addr" "$sharded"
    urls=()
    for f in "$sharded"/model/model-0000?-of-00004.safetensors; do
      urls+=(-o "$work/curl-$(basename "$f")" "http://$addr/v2/bench/curl/blobs/sha256:$(sha256sum "$f" | cut -d' ' -f1)")
    done
    measure curl-get4 'curl GET ×4 (1 conn.)' "$sharded_bytes" curl -fsS "${urls[@]}"
    rm -f "$work"/curl-model-*

    cache=$work/cache-sharded-$round
    base_config='{"model_type": "bench"}'
    printf '%s\n' "$base_config" >"$sharded/model/config.json"
    measure shard-push 'sharded push' "$sharded_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --plain-http --format json "$sharded" "$addr/bench/sharded:v1"
    [ "$(uploaded shard-push)" -ge "$sharded_bytes" ] || fail "the sharded push uploaded $(uploaded shard-push) bytes"
    measure shard-pull 'sharded pull' "$sharded_bytes" env ZOO_OCI_CACHE="$work/pull-cache" "$zoo" pull -q --plain-http "$addr/bench/sharded:v1" -o "$work/sharded-pulled"
    same_tree "$sharded" "$work/sharded-pulled" "the sharded pull"
    rm -rf "$work/sharded-pulled"
    env ZOO_OCI_CACHE="$cache" "$zoo" pull -q --cache --plain-http "$addr/bench/sharded:v1" >/dev/null
    # A 19-byte change to config.json, pushed as v2 and pulled into the cache holding v1.
    printf '%s\n' '{"model_type": "bench", "hidden": 4096}' >"$sharded/model/config.json"
    measure config-push 'config-only re-push' "$sharded_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" push -q --plain-http --format json "$sharded" "$addr/bench/sharded:v2"
    config_push_bytes=$(uploaded config-push)
    measure config-pull 'its pull into the cache' "$sharded_bytes" env ZOO_OCI_CACHE="$cache" "$zoo" pull -q --cache --plain-http --format json "$addr/bench/sharded:v2"
    config_pull_bytes=$(sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' "$work/out.config-pull")
    printf '%s\n' "$base_config" >"$sharded/model/config.json"

    # (d): the large file of (a), pushed here, pulled through the limit.
    "$zoo" push -q --plain-http "$suite" "$addr/bench/big:v1" >/dev/null
    start_nginx
    measure lim-curl "curl GET, ${limit_mbps} MB/s a conn." "$limited_bytes" curl -fsS -o "$work/curl.bin" "http://$limited/v2/bench/big/blobs/$digest"
    cmp "$weights" "$work/curl.bin"
    rm -f "$work/curl.bin"
    measure lim-pull "pull, ${limit_mbps} MB/s a conn." "$limited_bytes" env ZOO_OCI_CACHE="$work/pull-cache" "$zoo" pull -q --plain-http "$limited/bench/big:v1" -o "$work/pulled"
    cmp "$weights" "$work/pulled/models/weights.bin"
    rm -rf "$work/pulled" "$cache"
    stop_registry
  done
fi

# (e) A catalogue of thousands of suites: index cold, the plain client, index again.
if [ "$with_catalog" = 1 ]; then
  start_registry
  cc=$catalog_concurrency
  "$zoo" push -q --plain-http examples/iris-logreg "$addr/zoo/template:1.0" >/dev/null
  python3 scripts/bench_catalog.py populate "$addr" zoo/template:1.0 "$catalog_suites" >/dev/null
  suites=$((catalog_suites + 1))
  # count FILE: the suites an index JSON lists.
  count() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["suites"]))' "$1"; }
  for round in $(seq "$runs"); do
    measure plain-index "plain client, ${cc} at once" 0 python3 scripts/bench_catalog.py plain "$addr" "$cc"
    grep -q "^$suites manifests of $suites repositories" "$work/out.plain-index" ||
      fail "the plain client read $(cat "$work/out.plain-index"), not $suites manifests"
    index_cache=$work/index-cache-$round
    measure index "index, empty cache" 0 env ZOO_OCI_CACHE="$index_cache" \
      "$zoo" index -q --plain-http --concurrency "$cc" --format json -o "$work/index.json" "$addr"
    [ "$(count "$work/index.json")" = "$suites" ] || fail "index listed $(count "$work/index.json") of $suites suites"
    ZOO_OCI_CACHE=$work/copy-cache "$zoo" copy -q --plain-http "$addr/zoo/template:1.0" "$addr/zoo/new-$round:1.0" >/dev/null
    suites=$((suites + 1))
    measure reindex "index again, 1 new" 0 env ZOO_OCI_CACHE="$index_cache" \
      "$zoo" index -q --plain-http --concurrency "$cc" --format json -o "$work/reindex.json" "$addr"
    [ "$(count "$work/reindex.json")" = "$suites" ] || fail "the second index listed $(count "$work/reindex.json") of $suites suites"
    grep -q "\"$addr/zoo/new-$round:1.0\"" "$work/reindex.json" || fail "the second index lacks zoo/new-$round"
    rm -rf "$index_cache"
  done
  stop_registry
fi

# (f) The site of a zoo: written, written again unchanged, and its front page in Chromium.
site_ready=
if [ "$with_site" = 1 ]; then
  need node "scripts/setup.sh installs it"
  [ -d tests/site/node_modules/puppeteer-core ] || fail "tests/site/node_modules lacks puppeteer-core: run scripts/setup.sh"
  start_registry
  "$zoo" push -q --plain-http examples/iris-logreg "$addr/zoo/template:1.0" >/dev/null
  python3 scripts/bench_catalog.py populate "$addr" zoo/template:1.0 "$site_suites" >/dev/null
  for round in $(seq "$runs"); do
    site=$work/site-$round
    measure site "site, $((site_suites + 1)) suites" 0 env ZOO_OCI_CACHE="$work/site-cache-$round" \
      "$zoo" index -q --plain-http --format site -o "$site" "$addr"
    [ "$(find "$site" -name index.html | wc -l)" = "$((site_suites + 2))" ] || fail "the site lacks pages"
    measure site-again "site again, unchanged" 0 env ZOO_OCI_CACHE="$work/site-cache-$round" \
      "$zoo" index --plain-http --format site -o "$site" "$addr"
    grep -q " 0 files written" "$work/err" || fail "writing the site again rewrote files: $(cat "$work/err")"
  done
  node tests/site/ready.mjs "$site" 5 >"$work/ready.json" || fail "ready.mjs failed"
  site_ready=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(min(l["load"] for l in r["loads"]), min(l["domContentLoaded"] for l in r["loads"]), r["suites"])' "$work/ready.json")
  rm -rf "$work"/site-*
  stop_registry
fi

# The tables. A step's ratio is its speed over its ceiling's (the ceiling's seconds over the
# step's), so more is better; a re-push's ceiling is the first push.
declare -A ceilings=(
  [push]=openssl [repush]=push [pull]=openssl
  [reg-push]='curl-put skopeo-push' [reg-repush]=reg-push [reg-pull]='curl-get openssl skopeo-pull'
  [small-push]=tar-c [small-repush]=small-push [small-pull]=tar-x
  [shard-push]=curl-put4 [shard-pull]=curl-get4 [config-push]=shard-push [config-pull]=shard-pull
  [lim-pull]=lim-curl
  [index]=plain-index [reindex]=index
)
has() { [ -n "${secs[$1]:-}" ]; }
# div A B: A / B to 2 decimals; n/a when either took under 10 ms, what %e resolves.
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a < 0.01 || b < 0.01) print "n/a"; else printf "%.2f", a / b }'; }

# The tables go through sed to lose the padding at the ends of lines.
{
echo
if [ "$with_core" = 0 ]; then scenarios="(a) not run"; else scenarios="(a) one ${size_mb} MiB random file"; fi
[ "$with_registry" = 1 ] || scenarios+=", no registry"
if [ "$with_small" = 1 ]; then scenarios+="; (b) ${files} files of 512 B"; else scenarios+="; (b) not run"; fi
if [ "$with_scale" = 1 ]; then
  scenarios+="; (c) 4 shards of ${shard_mb} MiB; (d) (a)'s file behind ${limit_mbps} MB/s a connection"
else
  scenarios+="; (c), (d) not run"
fi
if [ "$with_catalog" = 1 ]; then
  scenarios+="; (e) ${catalog_suites} suites, ${catalog_concurrency} requests at once"
else
  scenarios+="; (e) not run"
fi
if [ "$with_site" = 1 ]; then scenarios+="; (f) a site of ${site_suites} suites"; else scenarios+="; (f) not run"; fi
echo "$scenarios; best of $runs runs, warm page cache;"
echo "scratch folder on $(df --output=fstype "$work" | tail -1) (${work%/*}); $(nproc) cores, load average $load_before" \
  "at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
row='%-4s %-20s %8s %8s %10s  %-22s %6s   %s\n'
# shellcheck disable=SC2059
printf "$row" '' step seconds MB/s 'peak RSS' ceiling ratio 'every run (s)'
for key in "${order[@]}"; do
  case $key in plain-index | index | reindex) part=e ;; site | site-again) part=f ;; small-* | tar-*) part=b ;; shard-* | config-* | curl-put4 | curl-get4) part=c ;; lim-*) part=d ;; *) part=a ;; esac
  rate=$(awk -v n="${bytes[$key]}" -v s="${secs[$key]}" 'BEGIN { if (n == 0) print "-"; else if (s < 0.01) print "n/a"; else printf "%.0f", n / 1e6 / s }')
  mib=$(awk -v k="${rss[$key]}" 'BEGIN { printf "%.1f MiB", k / 1024 }')
  set -- "$part" "${label[$key]}" "${secs[$key]}" "$rate" "$mib"
  first=1
  for c in ${ceilings[$key]:-}; do
    has "$c" || continue
    if [ $first = 1 ]; then
      # shellcheck disable=SC2059
      printf "$row" "$@" "${label[$c]}" "$(div "${secs[$c]}" "${secs[$key]}")" "${all[$key]}"
      first=0
    else
      # shellcheck disable=SC2059
      printf "$row" '' '' '' '' '' "${label[$c]}" "$(div "${secs[$c]}" "${secs[$key]}")" ''
    fi
  done
  # shellcheck disable=SC2059
  [ $first = 0 ] || printf "$row" "$@" '' '' "${all[$key]}"
done
echo "seconds: the best run's; peak RSS: the largest of the runs; ratio from the best runs."
echo "MB/s: payload bytes (the weights file, or the small files' contents) per second, 10^6 bytes."
echo "ratio: the step's speed over its ceiling's (the ceiling's seconds / the step's); above 1 is faster."

# The bar (issue 12): each line, what was measured in its own terms, and whether it holds.
echo
echo "bar (set for 1 GiB and 100,000 files; this run: $scenarios)"
bar='%-44s %-34s %s\n'
# shellcheck disable=SC2059
printf "$bar" bar measured holds
# line TEXT VALUE OP LIMIT WHAT: VALUE compared with LIMIT by OP (ge or le); empty VALUE = not run.
line() {
  if [ -z "$2" ]; then
    # shellcheck disable=SC2059
    printf "$bar" "$1" '-' 'not run'
    return
  fi
  local holds
  if [ "$2" = n/a ]; then
    # shellcheck disable=SC2059
    printf "$bar" "$1" 'n/a (a step took under 10 ms)' 'not timed'
    return
  fi
  # "<B": under a bound B (a step faster than the clock's resolution); it holds a "le" line when B does.
  holds=$(awk -v v="${2#<}" -v l="$4" -v op="$3" 'BEGIN { ok = (op == "ge") ? v >= l : v <= l; print ok ? "yes" : "no" }')
  # A bound past the limit says nothing either way.
  if [ "${2#<}" != "$2" ] && [ "$holds" = no ]; then holds='not timed (too fast for the clock)'; fi
  # shellcheck disable=SC2059
  printf "$bar" "$1" "$2 $5" "$holds"
}
speed() { if has "$1" && has "$2"; then div "${secs[$2]}" "${secs[$1]}"; fi; } # step's speed / ceiling's
times() { # step's time / ceiling's; a step under GNU time's 10 ms resolution gives "<" that bound
  if has "$1" && has "$2"; then
    if awk -v s="${secs[$1]}" 'BEGIN { exit !(s < 0.01) }'; then
      awk -v c="${secs[$2]}" 'BEGIN { printf "<%.4f", 0.01 / c }'
    else
      div "${secs[$1]}" "${secs[$2]}"
    fi
  fi
}
peak() { # the largest peak RSS of these steps, MiB
  local k max=
  for k in "$@"; do if has "$k" && { [ -z "$max" ] || [ "${rss[$k]}" -gt "$max" ]; }; then max=${rss[$k]}; fi; done
  if [ -n "$max" ]; then awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }'; fi
}
line 'push >= 0.9x curl upload' "$(speed reg-push curl-put)" ge 0.9 "x curl PUT's speed"
line 'push >= 1.1x skopeo push' "$(speed reg-push skopeo-push)" ge 1.1 "x skopeo push's speed"
line 'pull >= 0.5x the sha256 ceiling (registry)' "$(speed reg-pull openssl)" ge 0.5 "x openssl sha256's speed"
line 'pull >= 0.5x the sha256 ceiling (layout)' "$(speed pull openssl)" ge 0.5 "x openssl sha256's speed"
line 'pull >= 2x skopeo pull' "$(speed reg-pull skopeo-pull)" ge 2 "x skopeo pull's speed"
line 'unchanged re-push <= 0.05x first (registry)' "$(times reg-repush reg-push)" le 0.05 "x the first push's time"
line 'unchanged re-push <= 0.05x first (layout)' "$(times repush push)" le 0.05 "x the first push's time"
line 'peak RSS <= 100 MiB, push and pull (a)' "$(peak push repush pull reg-push reg-repush reg-pull)" le 100 "MiB"
line 'peak RSS <= 100 MiB, push and pull (b)' "$(peak small-push small-repush small-pull)" le 100 "MiB"
line 'small files: push <= 3x tar c | sha256sum' "$(times small-push tar-c)" le 3 "x tar c | sha256sum's time"
line 'small files: pull <= 1.3x tar x' "$(times small-pull tar-x)" le 1.3 "x tar x's time"
# The bar of issue 20.
kib() { if [ -n "$1" ]; then awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; fi; }
line 'config-only change: re-push < 1 MiB' "$(kib "$config_push_bytes")" le 1024 "KiB uploaded"
line 'config-only change: cache pull < 1 MiB' "$(kib "$config_pull_bytes")" le 1024 "KiB downloaded"
line 'limited pull <= 0.5x curl time (2x speed)' "$(times lim-pull lim-curl)" le 0.5 "x curl's time"
line 'peak RSS <= 100 MiB, (c) and (d)' "$(peak shard-push shard-pull config-push config-pull lim-pull)" le 100 "MiB"
# The bar of issue 25, set for 3,000 suites.
line 'index <= 3x the plain parallel client' "$(times index plain-index)" le 3 "x the plain client's time"
line 'index again < 0.25x the first' "$(times reindex index)" le 0.25 "x the first index's time"
line 'peak RSS < 150 MiB, index' "$(peak index reindex)" le 150 "MiB"
# The bar of issue 26, set for 500 suites.
line 'site of 500 suites written < 60 s' "$(if has site; then echo "${secs[site]}"; fi)" le 60 "s"
ready_ms=${site_ready%% *}
line 'front page ready < 1.5 s (Chromium, load)' "$(if [ -n "$site_ready" ]; then awk -v m="$ready_ms" 'BEGIN { printf "%.2f", m / 1000 }'; fi)" le 1.5 "s"
if [ -n "$site_ready" ]; then
  read -r load dcl named <<<"$site_ready"
  echo "front page: DOMContentLoaded ${dcl} ms, load ${load} ms (best of 5 loads from file://), ${named} suites in its table"
fi
} | sed 's/ *$//'
