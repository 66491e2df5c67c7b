//! The mistakes people make get the right hint (issue 21, point 4): other tools' spellings of a
//! location read where they mean one thing and refused with the form to write where not;
//! swapped arguments said so, with nothing written into the suite folder; `index --task` and
//! `check` suggesting only a near miss; licences checked as SPDX expressions.

use std::fs;
use std::path::Path;

use crate::util::registry::Registry;
use crate::util::*;

/// The suite folder's files, names and contents, to see that a refused command left it alone.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>, u32)> {
    tree(dir)
}

#[test]
fn oci_urls_are_read_as_layouts() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let suite = suite.to_str().unwrap();
    run_in(tmp.path(), &["push", "-q", suite, "oci://./zoo:1"]).ok();
    run_in(tmp.path(), &["inspect", "oci:./zoo:1"]).ok().stdout_has("tiny 1.0.0");
    run_in(tmp.path(), &["inspect", "oci://./zoo:1"]).ok().stdout_has("tiny 1.0.0");
    run_in(tmp.path(), &["index", "oci://./zoo"]).ok().stdout_has("tiny");

    // oci:///abs is /abs.
    let absolute = tmp.path().join("abs-zoo");
    run_in(tmp.path(), &["push", "-q", suite, &format!("oci://{}:2", absolute.display())]).ok();
    assert!(absolute.join("oci-layout").is_file(), "the layout is at the absolute path");
    run_in(tmp.path(), &["inspect", &format!("oci:{}:2", absolute.display())]).ok().stdout_has("tiny 1.0.0");
}

#[test]
fn docker_and_https_urls_are_read_as_registries() {
    let reg = Registry::tls();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let ca = reg.ca_arg();
    run_in(
        tmp.path(),
        &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &format!("https://{}/zoo/tiny:1", reg.addr)],
    )
    .ok();
    run_in(tmp.path(), &["inspect", "--ca-file", &ca, &reg.at("zoo/tiny:1")]).ok().stdout_has("tiny 1.0.0");
    run_in(tmp.path(), &["inspect", "--ca-file", &ca, &format!("docker://{}/zoo/tiny:1", reg.addr)])
        .ok()
        .stdout_has("tiny 1.0.0");

    // http:// would switch a transfer to plain HTTP by a scheme: refused with the flag, before
    // any request.
    reg.clear_requests();
    run_in(tmp.path(), &["inspect", &format!("http://{}/zoo/tiny:1", reg.addr)])
        .code(2)
        .stderr_has(&format!("hint: write {}/zoo/tiny:1 --plain-http", reg.addr));
    assert!(reg.requests().is_empty(), "a refused form reached the registry: {:?}", reg.requests());
}

#[test]
fn ambiguous_forms_are_refused_with_the_form_to_write() {
    let tmp = scratch();
    let digest = format!("sha256:{}", "a".repeat(64));
    let refused: &[(&str, &str)] = &[
        ("oci://", "oci:PATH[:TAG]"),
        ("oci://ghcr.io/team/model:1", "write ghcr.io/team/model:1 for the registry, or oci:./ghcr.io/team/model:1"),
        ("docker://ubuntu:24.04", "docker.io/library/ubuntu:24.04"),
        ("docker://team/model", "docker.io/team/model"),
        ("http://localhost:5000/zoo/model:1", "localhost:5000/zoo/model:1 --plain-http"),
        ("https://hub.docker.com/r/team/model", "docker.io/team/model"),
        ("https://hub.docker.com/_/ubuntu", "docker.io/library/ubuntu"),
        ("https://github.com/orgs/team/packages/container/package/model", "ghcr.io/team/model"),
        ("https://quay.io/repository/team/model", "quay.io/team/model"),
        ("https://ghcr.io/v2/team/model/manifests/1.0", "ghcr.io/team/model:1.0"),
        ("https://ghcr.io/team/model?tab=versions", "ghcr.io/team/model"),
    ];
    for (form, hint) in refused {
        let run = run_in(tmp.path(), &["inspect", form]);
        run.code(2).stderr_has(hint);
    }
    let manifest = format!("https://ghcr.io/v2/team/model/manifests/{digest}");
    run_in(tmp.path(), &["inspect", &manifest]).code(2).stderr_has(&format!("ghcr.io/team/model@{digest}"));
    // index reads the same forms.
    run_in(tmp.path(), &["index", "http://localhost:5000"]).code(2).stderr_has("write localhost:5000 --plain-http");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing was written");
}

#[test]
fn swapped_push_arguments_are_said_so_and_write_nothing() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let before = listing(&suite);
    run_in(tmp.path(), &["push", "oci:./zoo", "./suite"])
        .code(2)
        .stderr_has("the arguments are swapped: push takes the suite folder first, then the target")
        .stderr_has("hint: zoo-oci push ./suite oci:./zoo");
    let to_registry = run_in(tmp.path(), &["push", "localhost:1/zoo/tiny:1", "./suite"]);
    to_registry.code(2).stderr_has("swapped").stderr_has("zoo-oci push ./suite localhost:1/zoo/tiny:1");
    // A folder name where the target goes is never answered with oci:FOLDER.
    let both_folders = run_in(tmp.path(), &["push", "./suite", "./suite"]);
    both_folders.code(2).stderr_has("is a suite folder");
    assert!(!both_folders.stderr.contains("did you mean oci:"), "{}", both_folders.stderr);
    assert_eq!(listing(&suite), before, "the suite folder is as it was");
    assert!(!tmp.path().join("zoo").exists(), "no layout was made");
}

#[test]
fn other_commands_taking_a_suite_folder_for_a_location_write_nothing_into_it() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    run_in(tmp.path(), &["push", "-q", "./suite", "oci:./zoo:1"]).ok();
    let before = listing(&suite);
    run_in(tmp.path(), &["copy", "./suite", "oci:./zoo"])
        .code(2)
        .stderr_has("is a suite folder")
        .stderr_has("hint: zoo-oci push ./suite oci:./zoo");
    let copy_into = run_in(tmp.path(), &["copy", "oci:./zoo:1", "./suite"]);
    copy_into.code(2).stderr_has("./suite is a suite folder");
    assert!(!copy_into.stderr.contains("did you mean oci:"), "{}", copy_into.stderr);
    run_in(tmp.path(), &["pull", "./suite"]).code(2).stderr_has("is a suite folder");
    run_in(tmp.path(), &["tag", "2", "oci:./zoo:1"])
        .code(2)
        .stderr_has("the arguments are swapped")
        .stderr_has("hint: zoo-oci tag oci:./zoo:1 2");
    assert_eq!(listing(&suite), before, "the suite folder is as it was");
    // A folder of other files is not offered as a layout either; an empty one is.
    fs::create_dir(tmp.path().join("project")).unwrap();
    fs::write(tmp.path().join("project/notes.txt"), "mine").unwrap();
    let project = run_in(tmp.path(), &["copy", "oci:./zoo:1", "./project"]);
    project.code(2).stderr_has("holds no OCI layout");
    assert!(!project.stderr.contains("did you mean oci:"), "{}", project.stderr);
    fs::create_dir(tmp.path().join("empty")).unwrap();
    run_in(tmp.path(), &["copy", "oci:./zoo:1", "./empty"]).code(2).stderr_has("did you mean oci:./empty?");
}

#[test]
fn index_task_suggests_a_near_miss_only() {
    let tmp = scratch();
    small_suite(tmp.path());
    run_in(tmp.path(), &["push", "-q", "./suite", "oci:./zoo:1"]).ok();
    run_in(tmp.path(), &["index", "oci:./zoo", "--task", "image classification"]).ok().stdout_has("tiny");
    run_in(tmp.path(), &["index", "oci:./zoo", "--task", "objet detection"])
        .code(2)
        .stderr_has("unknown task \"objet detection\"")
        .stderr_has("did you mean \"object-detection\"?");
    let far = run_in(tmp.path(), &["index", "oci:./zoo", "--task", "speech detection"]);
    far.code(2).stderr_has("unknown task \"speech detection\"");
    assert!(!far.stderr.contains("did you mean"), "speech detection is not a typo: {}", far.stderr);

    // check gives the same answers.
    let yaml = |task: &str| SMALL_SUITE_YAML.replace("task: image-classification", &format!("task: {task}"));
    fs::write(tmp.path().join("suite/zoo.yaml"), yaml("objet detection")).unwrap();
    run_in(tmp.path(), &["check", "suite"]).code(1).stderr_has("did you mean \"object-detection\"?");
    fs::write(tmp.path().join("suite/zoo.yaml"), yaml("speech detection")).unwrap();
    let far = run_in(tmp.path(), &["check", "suite"]);
    far.code(1).stderr_has("unknown task \"speech detection\"");
    assert!(!far.stderr.contains("did you mean"), "{}", far.stderr);
}

#[test]
fn licences_are_spdx_expressions_with_a_did_you_mean() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let check = |license: &str| {
        let yaml = SMALL_SUITE_YAML.replace("license: MIT", &format!("license: {license:?}"));
        fs::write(suite.join("zoo.yaml"), yaml).unwrap();
        run_in(tmp.path(), &["check", "suite"])
    };
    for valid in
        ["MIT", "Apache-2.0 OR MIT", "(MIT OR Apache-2.0) AND BSD-2-Clause", "apache-2.0", "LicenseRef-Tiny-1.0"]
    {
        let run = check(valid);
        run.ok();
        assert!(!run.stderr.contains("license"), "{valid}: {}", run.stderr);
    }
    check("Apache 2.0")
        .code(1)
        .stderr_has("zoo.yaml: license: \"Apache 2.0\" is not an SPDX licence expression")
        .stderr_has("did you mean \"Apache-2.0\"?");
    check("MTI").code(1).stderr_has("\"MTI\" is no SPDX licence identifier").stderr_has("did you mean \"MIT\"?");
    check("openrail").code(1).stderr_has("LicenseRef-openrail");
    check("MIT AND").code(1).stderr_has("is not an SPDX licence expression");
    check("other").ok().stderr_has("warning: zoo.yaml: license: `other` names no licence");
    check("other").code(0);
    run_in(tmp.path(), &["check", "--strict", "suite"]).code(1);

    // A dataset's licence too; and push refuses what check refuses, writing nothing.
    let yaml = SMALL_SUITE_YAML.replace(
        "{name: tiny-test, role: test, path: data/test/}",
        "{name: tiny-test, role: test, path: data/test/, license: CC BY 4.0}",
    );
    fs::write(suite.join("zoo.yaml"), yaml).unwrap();
    run_in(tmp.path(), &["check", "suite"]).code(1).stderr_has("zoo.yaml: datasets[0].license");
    run_in(tmp.path(), &["push", "./suite", "oci:./zoo"]).code(1);
    assert!(!tmp.path().join("zoo/index.json").exists(), "nothing was pushed");
}

#[test]
fn every_example_suite_keeps_its_licence_valid() {
    for entry in fs::read_dir(repo().join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("zoo.yaml").is_file() {
            continue;
        }
        let run = run_in(&repo(), &["check", dir.to_str().unwrap()]);
        assert!(!run.stderr.contains("SPDX"), "{}: {}", dir.display(), run.stderr);
    }
}
