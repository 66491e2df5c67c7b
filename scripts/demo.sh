#!/usr/bin/env bash
# The main job on the embedded default: push the example suites into local OCI image layouts, one
# per suite as a registry has one repository per suite (no server), list them, inspect one, pull
# it back, and show that every byte came back.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-examples.sh >/dev/null
cargo build --release --quiet
zoo=target/release/zoo-oci
out=$(mktemp -d "${TMPDIR:-/tmp}/zoo-oci-demo.XXXXXX")

for suite in iris-logreg squeezenet-light; do
  "$zoo" push "examples/$suite" "oci:$out/zoo/$suite"
done
"$zoo" index "oci:$out/zoo"
"$zoo" inspect "oci:$out/zoo/iris-logreg:1.0" | head -n 40
"$zoo" pull "oci:$out/zoo/iris-logreg:1.0" -o "$out/pulled/iris-logreg"
"$zoo" pull "oci:$out/zoo/squeezenet-light:1.1.0" -o "$out/pulled/squeezenet-onnx" --only model --framework onnx
diff -r --exclude=.zoo-oci.json examples/iris-logreg "$out/pulled/iris-logreg"
echo "demo: pushed two suites to oci:$out/zoo/{iris-logreg,squeezenet-light} and pulled iris-logreg back byte for byte into $out/pulled"
