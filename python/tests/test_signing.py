"""zoo_oci.sign, zoo_oci.verify and pull(verify_key=...) (issue 23): OpenSSF Model Signing
signatures made from a suite's manifest, stored beside it, checked with the right and the wrong
key, on a layout and a real registry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import zoo_oci
from conftest import small_suite


def key_pair(folder: Path, name: str, curve: str = "prime256v1") -> tuple[Path, Path]:
    """A PEM private key (SEC1) and its public key, made by openssl as users make them."""
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    subprocess.run(["openssl", "ecparam", "-name", curve, "-genkey", "-noout", "-out", str(private)], check=True)
    subprocess.run(["openssl", "ec", "-pubout", "-in", str(private), "-out", str(public)], check=True, capture_output=True)
    return private, public


def test_a_signed_layout_suite_verifies_with_its_key_and_pulls_with_its_signature(tmp_path, zoo_cache):
    ref = f"oci:{tmp_path / 'zoo'}:1.0.0"
    zoo_oci.push(small_suite(tmp_path), ref, quiet=True)
    key, public = key_pair(tmp_path, "key")
    _, other = key_pair(tmp_path, "other", "secp384r1")
    with pytest.raises(zoo_oci.NotFoundError):
        zoo_oci.verify(ref, public)
    signature = zoo_oci.sign(ref, key)
    assert signature.startswith("sha256:")
    assert zoo_oci.verify(ref, public) == signature
    with pytest.raises(zoo_oci.IntegrityError) as refused:
        zoo_oci.verify(ref, other)
    assert refused.value.exit_code == 5
    folder = zoo_oci.pull(ref, tmp_path / "out", verify_key=public, quiet=True)
    assert (folder / "model.sig").is_file()
    with pytest.raises(zoo_oci.IntegrityError):
        zoo_oci.pull(ref, tmp_path / "refused", verify_key=other, quiet=True)
    assert not (tmp_path / "refused").exists()


def test_a_client_signs_and_verifies_in_a_registry(registry, tmp_path, repo):
    ref = registry.at(f"{repo}:1.0.0")
    client = zoo_oci.Client(plain_http=True)
    client.push(small_suite(tmp_path), ref, quiet=True)
    key, public = key_pair(tmp_path, "key", "secp384r1")
    signature = client.sign(ref, key)
    assert client.verify(ref, public) == signature


def test_a_pull_into_the_cache_checks_the_signature_first(tmp_path, zoo_cache):
    ref = f"oci:{tmp_path / 'zoo'}:1.0.0"
    zoo_oci.push(small_suite(tmp_path), ref, quiet=True)
    key, public = key_pair(tmp_path, "key")
    _, other = key_pair(tmp_path, "other")
    with pytest.raises(zoo_oci.NotFoundError):
        zoo_oci.pull(ref, verify_key=public, quiet=True)
    zoo_oci.sign(ref, key)
    with pytest.raises(zoo_oci.IntegrityError):
        zoo_oci.pull(ref, verify_key=other, quiet=True)
    assert zoo_oci.cache.ls() == [], "nothing cached before the signature held"
    snapshot = zoo_oci.pull(ref, verify_key=public, quiet=True)
    assert (snapshot / "zoo.yaml").is_file()
    assert not (snapshot / "model.sig").exists(), "the cache keeps the suite's files only"


def test_hub_load_with_a_verify_key_loads_a_signed_suite_and_refuses_another_key(tmp_path, zoo_cache):
    from zoo_oci import hub

    ref = f"oci:{tmp_path / 'zoo'}:1.0"
    zoo_oci.push(Path(__file__).resolve().parents[2] / "examples" / "iris-logreg", ref, quiet=True)
    key, public = key_pair(tmp_path, "key")
    _, other = key_pair(tmp_path, "other", "secp384r1")
    zoo_oci.sign(ref, key)
    with pytest.raises(zoo_oci.IntegrityError):
        hub.load(ref, verify_key=other, quiet=True)
    session = hub.load(ref, verify_key=public, quiet=True)
    assert type(session).__name__ == "InferenceSession"


CERTS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "oms" / "cert"


def test_certificate_mode_and_a_policy_from_python(tmp_path, zoo_cache):
    ref = f"oci:{tmp_path / 'zoo'}:1.0.0"
    zoo_oci.push(small_suite(tmp_path), ref, quiet=True)
    signature = zoo_oci.sign(
        ref, CERTS / "leaf-key.pem", certificate=CERTS / "leaf.pem", certificate_chain=CERTS / "chain.pem"
    )
    assert zoo_oci.verify(ref, CERTS / "root.pem") == signature
    with pytest.raises(zoo_oci.IntegrityError, match="not trusted"):
        zoo_oci.verify(ref, CERTS / "other-root.pem")
    # A policy enforcing another root refuses the pull, one enforcing this root takes it, and
    # one that only warns pulls with a warning.
    layout = str(tmp_path / "zoo")
    policies = {}
    cases = [("other", "enforce", "other-root.pem"), ("this", "enforce", "root.pem"), ("lax", "warn", "other-root.pem")]
    for name, mode, roots in cases:
        policies[name] = tmp_path / f"{name}.json"
        policies[name].write_text(
            '{"scopes": {"oci:%s": {"mode": "%s", "keys": ["%s"]}}}' % (layout, mode, CERTS / roots)
        )
    with pytest.raises(zoo_oci.IntegrityError, match="requires a signature"):
        zoo_oci.pull(ref, tmp_path / "refused", policy=policies["other"], quiet=True)
    assert not (tmp_path / "refused").exists()
    folder = zoo_oci.pull(ref, tmp_path / "taken", policy=policies["this"], quiet=True)
    assert (folder / "model.sig").is_file()
    with pytest.warns(zoo_oci.ZooWarning, match="only warns"):
        zoo_oci.pull(ref, tmp_path / "warned", policy=policies["lax"], quiet=True)
    assert not (tmp_path / "warned" / "model.sig").exists()
