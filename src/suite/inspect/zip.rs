//! Zip-based formats, told apart by the names in the central directory: TorchScript archives,
//! PyTorch `torch.save` checkpoints, `torch.export` `.pt2` packages, TorchServe `.mar` files and
//! Keras 3 `.keras` files. Weights are never decompressed and pickles never run: the only
//! entries read are small text ones (a version, a manifest), each bounded.

use std::io::{Read, Seek};

use ::zip::ZipArchive;
use serde_json::Value;

use super::source::{Bad, Res, Source, bytes_in_words};
use super::{Facts, Recognised, put_metadata};

/// Largest manifest or metadata entry read.
const MAX_MANIFEST: u64 = 1 << 20;
/// Largest version entry read.
const MAX_VERSION: u64 = 64;

/// Reads what a zip archive's names and small entries say.
pub(super) fn read<R: Read + Seek>(src: &mut Source<R>, facts: &mut Facts) -> Res<()> {
    let mut archive =
        ZipArchive::new(src.reader()).map_err(|e| Bad::new(format!("the zip central directory does not read: {e}")))?;
    let names: Vec<String> = archive.file_names().filter_map(Result::ok).map(|n| n.into_owned()).collect();

    if names.iter().any(|n| n == "MAR-INF/MANIFEST.json") {
        facts.format = "torchserve-mar".into();
        facts.framework = "torchserve".into();
        facts.recognised = Recognised::Content;
        let manifest = small_entry(&mut archive, "MAR-INF/MANIFEST.json", MAX_MANIFEST)?.unwrap_or_default();
        let manifest: Value =
            serde_json::from_str(&manifest).map_err(|e| Bad::new(format!("MAR-INF/MANIFEST.json is not JSON: {e}")))?;
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        };
        facts.name = manifest.pointer("/model/modelName").and_then(text);
        for (key, pointer) in [
            ("model_version", "/model/modelVersion"),
            ("handler", "/model/handler"),
            ("serialized_file", "/model/serializedFile"),
            ("runtime", "/runtime"),
            ("archiver_version", "/archiverVersion"),
            ("created_on", "/createdOn"),
        ] {
            if let Some(v) = manifest.pointer(pointer).and_then(text) {
                put_metadata(facts, key, &v);
            }
        }
        return Ok(());
    }

    // torch.save and torch.jit.save write every entry under one folder (`archive/` lately,
    // the file's stem before): `data.pkl` is the pickled object, `data/` its tensors' storages,
    // and a TorchScript module adds `code/` and `constants.pkl`.
    let prefix = names.iter().find_map(|n| n.strip_suffix("/data.pkl").filter(|p| !p.contains('/')));
    if let Some(prefix) = prefix.map(str::to_string) {
        let under = |rest: &str| format!("{prefix}/{rest}");
        let script = names.iter().any(|n| n.starts_with(&under("code/")) || *n == under("constants.pkl"));
        facts.format = if script { "torchscript" } else { "pytorch" }.into();
        facts.framework = "pytorch".into();
        facts.recognised = Recognised::Content;
        let storages = names.iter().filter(|n| n.starts_with(&under("data/")) && !n.ends_with('/')).count();
        put_metadata(facts, "storages", &storages.to_string());
        version(&mut archive, &[under(".data/version"), under("version")], facts);
        if !script {
            facts.warnings.push("a torch.save checkpoint: its pickle is not run, so parameters are not counted".into());
        }
        return Ok(());
    }

    if let Some(format_entry) = names.iter().find(|n| n.ends_with("archive_format")).cloned() {
        let format = small_entry(&mut archive, &format_entry, MAX_VERSION)?.unwrap_or_default();
        if format.trim() == "pt2" {
            let folder = format_entry.strip_suffix("archive_format").unwrap_or("");
            facts.format = "pt2".into();
            facts.framework = "pytorch".into();
            facts.recognised = Recognised::Content;
            version(&mut archive, &[format!("{folder}.data/version"), format!("{folder}version")], facts);
            return Ok(());
        }
    }

    let has = |name: &str| names.iter().any(|n| n == name);
    if has("config.json") && has("metadata.json") && (has("model.weights.h5") || has("model.weights.npz")) {
        facts.format = "keras".into();
        facts.framework = "keras".into();
        facts.recognised = Recognised::Content;
        let metadata = small_entry(&mut archive, "metadata.json", MAX_MANIFEST)?.unwrap_or_default();
        if let Ok(metadata) = serde_json::from_str::<Value>(&metadata)
            && let Some(v) = metadata.get("keras_version").and_then(Value::as_str)
        {
            put_metadata(facts, "keras_version", v);
        }
        return Ok(());
    }

    Err(Bad::new(
        "a zip archive, but not a TorchScript, PyTorch, torch.export, TorchServe or Keras one (no data.pkl, \
         MAR-INF/MANIFEST.json or Keras metadata.json)",
    ))
}

/// The first of `candidates` that holds a version, into `format_version`; a failure to read it
/// is a warning.
fn version<R: Read + Seek>(archive: &mut ZipArchive<R>, candidates: &[String], facts: &mut Facts) {
    for name in candidates {
        match small_entry(archive, name, MAX_VERSION) {
            Ok(Some(v)) => {
                let v = v.trim();
                if !v.is_empty() {
                    facts.format_version = Some(v.to_string());
                }
                return;
            }
            Ok(None) => {}
            Err(e) => {
                facts.warnings.push(e.0);
                return;
            }
        }
    }
}

/// A small entry's text, or `None` when there is no such entry. Larger than `cap` is an error.
fn small_entry<R: Read + Seek>(archive: &mut ZipArchive<R>, name: &str, cap: u64) -> Res<Option<String>> {
    let Some(index) = archive.index_for_name(name) else { return Ok(None) };
    let entry = archive.by_index(index).map_err(|e| Bad::new(format!("{name} does not read: {e}")))?;
    if entry.size() > cap {
        return Err(Bad::new(format!(
            "{name} claims {} bytes, more than the {} read",
            entry.size(),
            bytes_in_words(cap)
        )));
    }
    let mut buf = Vec::new();
    entry.take(cap + 1).read_to_end(&mut buf).map_err(|e| Bad::new(format!("{name} does not read: {e}")))?;
    if buf.len() as u64 > cap {
        return Err(Bad::new(format!("{name} is larger than the {} read", bytes_in_words(cap))));
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::{Cursor, Write};

    use ::zip::write::SimpleFileOptions;
    use ::zip::{CompressionMethod, ZipWriter};

    use super::*;
    use crate::suite::inspect::read_from;

    /// A zip of `entries`, the weights stored and the rest deflated.
    pub(in crate::suite::inspect) fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            let method = if name.contains("/data/") { CompressionMethod::Stored } else { CompressionMethod::Deflated };
            w.start_file(*name, SimpleFileOptions::default().compression_method(method)).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    pub(in crate::suite::inspect) fn torchscript_bytes() -> Vec<u8> {
        zip_bytes(&[
            ("model/data.pkl", b"\x80\x02}q\x00."),
            ("model/code/__torch__/net.py", b"class Net(Module):\n  pass\n"),
            ("model/constants.pkl", b"\x80\x02)."),
            ("model/data/0", &[0; 64]),
            ("model/data/1", &[0; 16]),
            ("model/version", b"3\n"),
        ])
    }

    fn facts_of(bytes: &[u8], ext: &str) -> Facts {
        read_from(Cursor::new(bytes.to_vec()), bytes.len() as u64, ext, None)
    }

    #[test]
    fn a_torchscript_archive_gives_its_format_version() {
        let f = facts_of(&torchscript_bytes(), "pt");
        assert_eq!((f.format.as_str(), f.framework.as_str()), ("torchscript", "pytorch"));
        assert_eq!(f.recognised, Recognised::Content);
        assert_eq!(f.format_version.as_deref(), Some("3"));
        assert_eq!(f.metadata.get("storages").map(String::as_str), Some("2"));
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    }

    #[test]
    fn a_torch_save_checkpoint_is_pytorch_and_says_params_are_not_counted() {
        let bytes = zip_bytes(&[
            ("archive/data.pkl", b"\x80\x02}q\x00."),
            ("archive/byteorder", b"little"),
            ("archive/data/0", &[0; 64]),
            ("archive/.data/version", b"3\n"),
        ]);
        let f = facts_of(&bytes, "pth");
        assert_eq!((f.format.as_str(), f.framework.as_str()), ("pytorch", "pytorch"));
        assert_eq!(f.format_version.as_deref(), Some("3"));
        assert_eq!(f.params, None);
        assert!(f.warnings[0].contains("not run"), "{:?}", f.warnings);
    }

    #[test]
    fn a_mar_gives_the_model_name_handler_and_runtime() {
        let manifest = br#"{"createdOn":"01/01/2024 10:00:00","runtime":"python","model":{"modelName":"densenet161","serializedFile":"model.pt","handler":"image_classifier","modelVersion":"1.0"},"archiverVersion":"0.9.0"}"#;
        let bytes = zip_bytes(&[
            ("MAR-INF/MANIFEST.json", manifest),
            ("model.pt", b"PK\x03\x04 not read"),
            ("index.json", b"{}"),
        ]);
        let f = facts_of(&bytes, "mar");
        assert_eq!((f.format.as_str(), f.framework.as_str()), ("torchserve-mar", "torchserve"));
        assert_eq!(f.name.as_deref(), Some("densenet161"));
        assert_eq!(f.metadata.get("handler").map(String::as_str), Some("image_classifier"));
        assert_eq!(f.metadata.get("runtime").map(String::as_str), Some("python"));
        assert_eq!(f.metadata.get("model_version").map(String::as_str), Some("1.0"));
    }

    #[test]
    fn a_huge_manifest_is_not_read() {
        let big = vec![b' '; (MAX_MANIFEST + 10) as usize];
        let f = facts_of(&zip_bytes(&[("MAR-INF/MANIFEST.json", &big)]), "mar");
        assert_eq!(f.framework, "torchserve");
        assert!(f.warnings.iter().any(|w| w.contains("more than the 1 MiB")), "{:?}", f.warnings);
    }

    #[test]
    fn a_keras_3_file_is_keras() {
        let bytes = zip_bytes(&[
            ("metadata.json", br#"{"keras_version": "3.6.0", "date_saved": "2024-10-01"}"#),
            ("config.json", b"{}"),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n"),
        ]);
        let f = facts_of(&bytes, "keras");
        assert_eq!((f.format.as_str(), f.framework.as_str(), f.recognised), ("keras", "keras", Recognised::Content));
        assert_eq!(f.metadata.get("keras_version").map(String::as_str), Some("3.6.0"));
    }

    #[test]
    fn another_zip_named_pt_is_recognised_by_extension_only() {
        let f = facts_of(&zip_bytes(&[("readme.txt", b"hello")]), "pt");
        assert_eq!((f.format.as_str(), f.framework.as_str(), f.recognised), ("pt", "pytorch", Recognised::Extension));
        assert!(f.warnings[0].contains("not a TorchScript"), "{:?}", f.warnings);
    }
}
