#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: skopeo (interoperability with the
# OCI layouts we write), umoci (unpacks the images `copy --as-image` writes), python3-venv (the
# Python package's tests run in a fresh virtualenv: scripts/test-python.sh) and the example
# model files. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium fonts-dejavu-core)
command -v umoci >/dev/null 2>&1 || need_apt+=(umoci)
# bubblewrap: the sandbox `zoo-oci validate` runs a suite's validate script in.
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
# Node.js and npm run the site's browser tests (puppeteer-core driving Debian's Chromium).
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# nginx limits each connection's rate in front of a registry (the parallel-range download's test).
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)
# Virtualenvs (the readers below, the Python package's build and tests): Debian splits venv and
# ensurepip out of python3 into python3-venv.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
      echo "setup: need root (or sudo) to install: ${need_apt[*]}" >&2; exit 1
    fi
  else SUDO=""; fi
  echo "setup: installing ${need_apt[*]} from Debian" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
for tool in skopeo docker-registry htpasswd openssl chromium umoci bwrap node npm; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is still missing after install" >&2; exit 1; }
done
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { echo "setup: nginx is still missing after install" >&2; exit 1; }
# Debian starts the registry as a service on :5000 when it can; the tests start their own.

# Third-party Python readers for the interoperability tests, in a virtualenv: the ORAS SDK (an
# independent OCI client), KitOps's Python package (its Kitfile parser) and huggingface_hub (its
# model card parser).
venv="${ZOO_OCI_CACHE:-$HOME/.cache/zoo-oci}/venv"
if ! "$venv/bin/python" -c 'import oras, kitops.modelkit.kitfile, huggingface_hub' 2>/dev/null; then
  echo "setup: installing the ORAS SDK, kitops and huggingface_hub into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'oras==0.2.43' 'kitops==1.5.0' 'huggingface_hub==2.4.0'
fi

# PyPI's model-signing, the reference verifier of OpenSSF Model Signing, for the signing tests
# (zoo-oci's signatures checked by it, and its signatures by zoo-oci). Its own virtualenv: it
# brings sigstore and its pins. It imports pyOpenSSL without declaring it.
oms_venv="${ZOO_OCI_CACHE:-$HOME/.cache/zoo-oci}/venv-model-signing"
if ! "$oms_venv/bin/python" -c 'import model_signing, OpenSSL' 2>/dev/null; then
  echo "setup: installing model-signing into $oms_venv" >&2
  python3 -m venv "$oms_venv"
  "$oms_venv/bin/pip" install --quiet --disable-pip-version-check 'model-signing==1.1.1' 'pyOpenSSL==26.4.0'
fi

# PyPI's securesystemslib, an independent DSSE verifier, checks the attestations of
# `validate --attach` (in its own virtualenv: its pins are not model-signing's).
sslib_venv="${ZOO_OCI_CACHE:-$HOME/.cache/zoo-oci}/venv-securesystemslib"
if ! "$sslib_venv/bin/python" -c 'import securesystemslib.dsse, cryptography' 2>/dev/null; then
  echo "setup: installing securesystemslib into $sslib_venv" >&2
  python3 -m venv "$sslib_venv"
  "$sslib_venv/bin/pip" install --quiet --disable-pip-version-check 'securesystemslib[crypto]==1.6.0'
fi

# npm's puppeteer-core and axe-core for the site's browser tests (tests/site/check.mjs), at the
# versions tests/site/package-lock.json pins; puppeteer-core downloads no browser (Debian's
# Chromium is driven).
if ! (cd tests/site && node -e 'require.resolve("puppeteer-core"); require.resolve("axe-core")' 2>/dev/null) ||
  ! cmp -s tests/site/package-lock.json tests/site/node_modules/.package-lock.json.zoo-oci; then
  echo "setup: installing puppeteer-core and axe-core into tests/site/node_modules" >&2
  (cd tests/site && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp tests/site/package-lock.json tests/site/node_modules/.package-lock.json.zoo-oci
fi

# skopeo refuses to run without a signature policy; a fresh machine may have none.
if [ ! -f /etc/containers/policy.json ] && [ ! -f "${HOME}/.config/containers/policy.json" ]; then
  mkdir -p "${HOME}/.config/containers"
  echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "${HOME}/.config/containers/policy.json"
fi

scripts/fetch-examples.sh
scripts/fetch-fixtures.sh >/dev/null
