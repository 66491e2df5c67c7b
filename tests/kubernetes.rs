//! Pulling in an init container: the example Deployment's exact command line, selective and
//! idempotent pulls shown by the registry's own log, waiting for a registry, JSON logs, and
//! credentials the way Kubernetes mounts them.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::registry::*;
use crate::util::*;

fn blob_gets(requests: &[String]) -> Vec<String> {
    requests.iter().filter(|r| r.starts_with("GET ") && r.contains("/blobs/sha256:")).cloned().collect()
}

fn layer_digests(manifest: &Value, pick: impl Fn(&Value) -> bool) -> Vec<String> {
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| pick(l))
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect()
}

/// The raw manifest, through a copy into a layout, to read layer annotations.
fn registry_manifest(dir: &Path, env: &[(&str, &str)], at: &str, extra: &[&str]) -> Value {
    let layout = dir.join(format!("m-{}", at.replace(['/', ':', '.'], "_")));
    let dst = format!("oci:{}:m", layout.display());
    let mut args = vec!["copy", "-q", at, dst.as_str()];
    args.extend_from_slice(extra);
    run_env(dir, env, &args).ok();
    manifest(&layout, "m")
}

#[test]
fn the_example_init_container_command_pulls_just_the_model_variant_and_reruns_as_a_no_op() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let suite = example("iris-logreg");
    let ca = reg.ca_arg();
    let creds =
        [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD), ("DOCKER_CONFIG", tmp.path().to_str().unwrap())];
    run_env(tmp.path(), &creds, &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &reg.at("zoo/iris-logreg")])
        .ok();
    // The platform's signing key (trust.yaml holds its public half).
    let (key, public) = key_pair(tmp.path(), "platform", "prime256v1");

    // Read the init container from the manifest users apply.
    let yaml = fs::read_to_string(repo().join("examples/k8s/deployment.yaml")).unwrap();
    let deployment: Value = serde_saphyr::from_str(&yaml).unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let init = &pod["initContainers"][0];
    let volumes = pod["volumes"].as_array().unwrap();

    // Map each mount to a folder of the test holding what Kubernetes would put there.
    let mut mounts: Vec<(String, PathBuf)> = Vec::new();
    for mount in init["volumeMounts"].as_array().unwrap() {
        let name = mount["name"].as_str().unwrap();
        let path = mount["mountPath"].as_str().unwrap().to_string();
        let volume = volumes.iter().find(|v| v["name"] == name).unwrap();
        let dir = tmp.path().join("mounts").join(name);
        fs::create_dir_all(&dir).unwrap();
        if volume["secret"]["secretName"] == "zoo-oci-trust" {
            // The policy Secret of trust.yaml, its placeholder key replaced by the test's.
            let yaml = fs::read_to_string(repo().join("examples/k8s/trust.yaml")).unwrap();
            let secret: Value = serde_saphyr::from_str(&yaml).unwrap();
            let policy = secret["stringData"]["policy.json"].as_str().unwrap();
            fs::write(dir.join("policy.json"), policy.replace("registry.example.com", &reg.addr)).unwrap();
            assert!(secret["stringData"]["platform.pub"].as_str().unwrap().contains("PUBLIC KEY"));
            fs::copy(&public, dir.join("platform.pub")).unwrap();
        } else if volume.get("secret").is_some() {
            // A kubernetes.io/dockerconfigjson Secret mounts as a file named .dockerconfigjson.
            let auth = {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
            };
            fs::write(dir.join(".dockerconfigjson"), format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr))
                .unwrap();
        } else if volume.get("configMap").is_some() {
            fs::copy(&ca, dir.join("ca.crt")).unwrap();
        }
        mounts.push((path, dir));
    }
    mounts.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
    let map = |text: &str| -> String {
        let text = text.replace("registry.example.com", &reg.addr);
        for (path, dir) in &mounts {
            if let Some(rest) = text.strip_prefix(path.as_str()) {
                return format!("{}{rest}", dir.display());
            }
            if let Some((flag, value)) = text.split_once('=')
                && let Some(rest) = value.strip_prefix(path.as_str())
            {
                return format!("{flag}={}{rest}", dir.display());
            }
        }
        text
    };
    let args: Vec<String> = init["args"].as_array().unwrap().iter().map(|a| map(a.as_str().unwrap())).collect();
    let env: Vec<(String, String)> = init["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), map(e["value"].as_str().unwrap())))
        .collect();
    assert!(args.iter().any(|a| a.contains(&reg.addr)), "the manifest pulls from the registry: {args:?}");

    let run_init = || {
        let mut cmd = zoo();
        cmd.current_dir(tmp.path()).args(&args).env_remove("ZOO_OCI_USERNAME").env_remove("ZOO_OCI_PASSWORD");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    // Unsigned, the suite is refused by the policy: no layer leaves the registry, nothing is written.
    reg.clear_requests();
    let refused = run_init();
    assert_eq!(refused.status.code(), Some(4), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("requires a signature"));
    assert!(blob_gets(&reg.requests()).is_empty(), "{:?}", reg.requests());
    let models_mount = mounts.iter().find(|(p, _)| p == "/models").unwrap().1.clone();
    assert!(!models_mount.join("iris-logreg").exists());
    let sign = ["sign", "-q", "--ca-file", &ca, &reg.at("zoo/iris-logreg:1.0"), "--key", key.to_str().unwrap()];
    run_env(tmp.path(), &creds, &sign).ok();

    reg.clear_requests();
    let first = run_init();
    let stderr = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(first.status.success(), "{stderr}");
    // JSON log lines, no terminal control characters.
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\r'), "{stderr:?}");
    for line in stderr.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
        assert!(v["event"].is_string());
    }
    // Only the onnx variant's layer left the registry, beside the signature's bundle.
    let all_gets = blob_gets(&reg.requests());
    let at = reg.at("zoo/iris-logreg:1.0");
    let m = registry_manifest(tmp.path(), &creds, &at, &["--ca-file", &ca]);
    let suite_blobs: Vec<String> = layer_digests(&m, |_| true);
    let gets: Vec<String> = all_gets.iter().filter(|g| suite_blobs.iter().any(|d| g.ends_with(d))).cloned().collect();
    let wanted = layer_digests(&m, |l| l["annotations"]["io.zoo-oci.variant"] == "onnx");
    assert_eq!(gets.len(), 1, "{gets:?}");
    assert!(gets[0].ends_with(&wanted[0]), "{gets:?} vs {wanted:?}");
    assert_eq!(all_gets.len(), 2, "the layer and the signature's bundle: {all_gets:?}");
    // The files the server reads.
    let models = mounts.iter().find(|(p, _)| p == "/models").unwrap().1.join("iris-logreg");
    let pulled: Vec<String> = tree(&models).into_iter().map(|(n, _, _)| n).collect();
    assert_eq!(pulled, ["model.sig", "models/logreg_iris_fixed.onnx"], "the model, and the signature that verified");
    assert_eq!(
        fs::read(models.join("models/logreg_iris_fixed.onnx")).unwrap(),
        fs::read(suite.join("models/logreg_iris_fixed.onnx")).unwrap()
    );
    let served = init_server_model_path(pod);
    assert_eq!(
        served, "/models/iris-logreg/models/logreg_iris_fixed.onnx",
        "the server reads what the init container writes"
    );

    // A restarted pod keeping its emptyDir: the same pull checks the signature again (one
    // small bundle) and downloads no layer.
    reg.clear_requests();
    let second = run_init();
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let again = blob_gets(&reg.requests());
    assert!(!again.iter().any(|g| suite_blobs.iter().any(|d| g.ends_with(d))), "{again:?}");
}

fn init_server_model_path(pod: &Value) -> String {
    let server = &pod["containers"][0];
    server["env"].as_array().unwrap().iter().find(|e| e["name"] == "MODEL_PATH").unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn each_selection_downloads_only_its_layers() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    let m = registry_manifest(tmp.path(), &[], &at, &["--plain-http"]);
    let class = |c: &'static str| move |l: &Value| l["annotations"]["io.zoo-oci.class"] == c;
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            vec!["--only", "model", "--variant", "safetensors"],
            layer_digests(&m, |l| l["annotations"]["io.zoo-oci.variant"] == "safetensors"),
        ),
        (
            vec!["--framework", "onnx", "--only", "model"],
            layer_digests(&m, |l| l["annotations"]["io.zoo-oci.framework"] == "onnx"),
        ),
        (
            vec!["--only", "readme,license"],
            [layer_digests(&m, class("readme")), layer_digests(&m, class("license"))].concat(),
        ),
        (vec!["--include", "*.py"], layer_digests(&m, class("scripts"))),
    ];
    for (i, (selection, expected)) in cases.into_iter().enumerate() {
        reg.clear_requests();
        let out = tmp.path().join(format!("out{i}"));
        let mut args = vec!["pull", "-q", "--plain-http", at.as_str(), "-o", out.to_str().unwrap()];
        args.extend(selection.iter().copied());
        run_in(tmp.path(), &args).ok();
        let mut got: Vec<String> =
            blob_gets(&reg.requests()).iter().map(|r| r.rsplit('/').next().unwrap().to_string()).collect();
        let mut expected = expected;
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "selection {selection:?}");
    }
}

#[test]
fn a_registry_that_is_not_up_yet_is_waited_for() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let mut reg = Registry::plain();
    let at = reg.at("zoo/tiny:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    reg.stop();
    let starter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        reg.start_again();
        reg
    });
    let started = Instant::now();
    let out = tmp.path().join("out");
    let run = run_in(tmp.path(), &["pull", "--plain-http", "--retry-timeout", "30s", &at, "-o", out.to_str().unwrap()]);
    let _reg = starter.join().unwrap();
    run.ok().stderr_has("waiting for 127.0.0.1");
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_same_tree(&suite, &out);
}

#[test]
fn a_refused_connection_fails_at_once_unless_retry_timeout_asks_to_wait() {
    // A wrong port (nothing listening): docker and oras fail at once, and so does zoo-oci.
    let tmp = scratch();
    let port = free_port();
    let at = format!("127.0.0.1:{port}/zoo/tiny:1");
    let started = Instant::now();
    let run = run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out"]);
    run.code(1)
        .stderr_has(&format!("connecting to 127.0.0.1:{port}/zoo/tiny: connection refused by 127.0.0.1:{port}"))
        .stderr_has("--retry-timeout");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(!run.stderr.contains("waiting for"), "{}", run.stderr);
    assert!(!run.stderr.contains("authenticating"), "no credentials were involved: {}", run.stderr);
    // The same with credentials says it was authenticating, and fails as fast.
    let started = Instant::now();
    let run =
        run_env(tmp.path(), &[("ZOO_OCI_USERNAME", "u"), ("ZOO_OCI_PASSWORD", "p")], &["inspect", "--plain-http", &at]);
    run.code(1).stderr_has(&format!("authenticating for 127.0.0.1:{port}/zoo/tiny"));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    // A name that does not resolve fails at once too, with the cause.
    let started = Instant::now();
    run_in(tmp.path(), &["inspect", "no-such-host.invalid/zoo/tiny:1"]).code(1).stderr_has("does not resolve");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

#[test]
fn a_registry_that_stays_down_fails_after_the_retry_timeout_with_one_clear_line() {
    let tmp = scratch();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = Instant::now();
    let run = run_in(
        tmp.path(),
        &["pull", "--plain-http", "--retry-timeout", "3s", &format!("127.0.0.1:{port}/zoo/tiny:1"), "-o", "out"],
    );
    run.code(1).stderr_has(&format!("connection refused by 127.0.0.1:{port}"));
    assert!(started.elapsed() >= Duration::from_secs(3) && started.elapsed() < Duration::from_secs(15));
    let errors: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(!tmp.path().join("out").exists());
    // --log-format json: the error is one JSON object with its exit code.
    let json = run_in(
        tmp.path(),
        &[
            "pull",
            "--plain-http",
            "--retry-timeout",
            "0",
            "--log-format",
            "json",
            &format!("127.0.0.1:{port}/zoo/tiny:1"),
        ],
    );
    json.code(1);
    let last: Value = serde_json::from_str(json.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "error");
    assert_eq!(last["exit_code"], 1);
    assert!(last["hint"].is_string());
}

#[test]
fn bad_input_in_a_container_gets_one_clear_line_and_its_exit_code() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let ca = reg.ca_arg();
    let good =
        [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD), ("DOCKER_CONFIG", tmp.path().to_str().unwrap())];
    run_env(tmp.path(), &good, &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]).ok();
    let bad =
        [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", "wrong"), ("DOCKER_CONFIG", tmp.path().to_str().unwrap())];
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: Vec<(Env, String, Vec<&str>, i32, &str)> = vec![
        (&bad, reg.at("zoo/tiny:1"), vec![], 3, "zoo-oci login"),
        (&good, reg.at("zoo/tiny:2"), vec![], 4, "not found"),
        (&good, reg.at("zoo/tiny:1"), vec!["--variant", "tflite"], 4, "safetensors (safetensors)"),
    ];
    for (env, at, extra, code, needle) in cases {
        let out = tmp.path().join("out");
        let mut args = vec!["pull", "-q", "--ca-file", ca.as_str(), at.as_str(), "-o", out.to_str().unwrap()];
        args.extend(extra);
        let run = run_env(tmp.path(), env, &args);
        run.code(code).stderr_has(needle);
        assert_eq!(run.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{}", run.stderr);
        assert!(!out.exists());
    }
}

#[test]
fn credentials_from_a_mounted_dockerconfigjson_secret() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let ca = reg.ca_arg();
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    };
    let secret = tmp.path().join("secret");
    fs::create_dir_all(&secret).unwrap();
    fs::write(secret.join(".dockerconfigjson"), format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr))
        .unwrap();
    let at = reg.at("zoo/tiny:1");
    // DOCKER_CONFIG pointing at the mounted Secret's folder.
    run_env(
        tmp.path(),
        &[("DOCKER_CONFIG", secret.to_str().unwrap())],
        &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &at],
    )
    .ok();
    // --docker-config naming the file itself; the usual places are not read.
    let elsewhere = tmp.path().join("empty");
    fs::create_dir_all(&elsewhere).unwrap();
    let file = secret.join(".dockerconfigjson");
    let run = run_env(
        tmp.path(),
        &[("DOCKER_CONFIG", elsewhere.to_str().unwrap())],
        &["pull", "-q", "--ca-file", &ca, "--docker-config", file.to_str().unwrap(), &at, "-o", "out"],
    );
    run.ok();
    assert_same_tree(&suite, &tmp.path().join("out"));
    run_env(tmp.path(), &[], &["pull", "--ca-file", &ca, "--docker-config", "/nonexistent/.dockerconfigjson", &at])
        .code(4)
        .stderr_has("--docker-config names a file");
}

#[test]
fn a_full_disk_is_a_clear_error_and_leaves_nothing_behind() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/tiny:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    let disk = tmp.path().join("small-disk");
    fs::create_dir_all(&disk).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&disk)
        .output()
        .unwrap();
    assert!(
        mounted.status.success(),
        "setup error: this test mounts a 64 KiB tmpfs and needs root (CI runs as root): {}",
        String::from_utf8_lossy(&mounted.stderr)
    );
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(disk.clone());
    let out = disk.join("models/tiny");
    let run = run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", out.to_str().unwrap()]);
    // Refused before the first byte: the free space does not cover the selected layers.
    run.code(1).stderr_has("free, but the selected layers need").stderr_has("free some space");
    let left: Vec<_> = fs::read_dir(&disk).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The image-volume and KServe examples name an image `copy --as-image` writes, and mount or
/// serve the folder it puts the files in.
#[test]
fn the_image_volume_and_kserve_examples_use_what_copy_as_image_writes() {
    let read = |name: &str| -> Value {
        serde_saphyr::from_str(&fs::read_to_string(repo().join("examples/k8s").join(name)).unwrap()).unwrap()
    };
    let text = |name: &str| fs::read_to_string(repo().join("examples/k8s").join(name)).unwrap();
    let deployment = read("image-volume.yaml");
    let spec = &deployment["spec"]["template"]["spec"];
    let volume = &spec["volumes"][0];
    let reference = volume["image"]["reference"].as_str().unwrap();
    let mount = &spec["containers"][0]["volumeMounts"][0];
    assert_eq!(mount["name"], volume["name"]);
    assert_eq!(mount["readOnly"], true);
    let args = spec["containers"][0]["args"].as_array().unwrap();
    let served = format!("{}/models", mount["mountPath"].as_str().unwrap());
    assert!(
        args.iter().any(|a| a.as_str().unwrap().ends_with(&served)),
        "the server reads the prefix folder: {args:?}"
    );
    assert!(text("image-volume.yaml").contains(&format!("{reference} --as-image")), "the header says how to make it");
    for needs in ["Kubernetes 1.35", "containerd 2.1", "CRI-O"] {
        assert!(text("image-volume.yaml").contains(needs), "{needs}");
    }
    let service = read("kserve.yaml");
    let uri = service["spec"]["predictor"]["model"]["storageUri"].as_str().unwrap();
    assert_eq!(uri, format!("oci://{reference}"));
    assert!(text("kserve.yaml").contains("--as-image") && text("kserve.yaml").contains("KServe 0.12"));
}
