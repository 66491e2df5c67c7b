//! A suite as a standard OCI *image* (`copy --as-image`), for what mounts images rather than
//! reading artifacts: Kubernetes image volumes (containerd ≥ 2.1, CRI-O), KServe's modelcars.
//! Each selected layer becomes one `application/vnd.oci.image.layer.v1.tar` holding its files
//! under a prefix (`/models`), with reproducible headers (mtime 0, owner 0:0, modes 0644/0755,
//! the source's order); the image config lists their `rootfs.diff_ids`; the manifest keeps the
//! suite's annotations. Same suite and options, same bytes.

use std::io::{self, Read, Write};

use super::archive::{Compression, safe_relative_path};
use super::decode::Storage;
use super::manifest::{Descriptor, Manifest};
use super::media;
use crate::digest::HashingWriter;
use crate::error::{Error, Result};

/// An OCI image layer, uncompressed.
pub const IMAGE_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// An OCI image config.
pub const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// The folder the files go under in the image: `/models` → `models`.
pub fn prefix_folder(prefix: &str) -> Result<String> {
    let trimmed = prefix.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    safe_relative_path(trimmed).map(String::from).ok_or_else(|| {
        Error::usage(format!("--prefix {prefix:?} is not a folder path")).with_hint("e.g. --prefix /models")
    })
}

/// Writes the image layer of one source layer read from `raw` (its blob's bytes, `storage` as
/// the manifest says; `filepath` names a raw layer's file) into `out`, the files under `prefix`.
/// The source blob's digest is checked over every byte read. Returns `out` and the number of
/// bytes written, which is the layer's size; its digest is the hash of those bytes.
pub fn convert_layer<R: Read, W: Write>(
    raw: R,
    source: &Descriptor,
    storage: Storage,
    filepath: Option<&str>,
    prefix: &str,
    out: W,
) -> Result<(W, String, u64)> {
    let mut hashed = crate::digest::ChunkHashingReader::new(raw.take(source.size + 1), source.size);
    let mut builder = tar::Builder::new(HashingWriter::new(out));
    let write_err = |e: io::Error| Error::failed("could not write the image layer").with_cause(e);
    let mut folders = std::collections::BTreeSet::new();
    // `folder` and every folder above it, each once: prefix first, so the image's tree has them
    // with 0755.
    let mut add_folders = |builder: &mut tar::Builder<_>, folder: &str| -> Result<()> {
        let mut at = String::new();
        for part in folder.split('/').filter(|p| !p.is_empty()) {
            at = if at.is_empty() { part.to_string() } else { format!("{at}/{part}") };
            if folders.insert(at.clone()) {
                builder
                    .append(&header(&format!("{at}/"), 0, 0o755, tar::EntryType::Directory), io::empty())
                    .map_err(write_err)?;
            }
        }
        Ok(())
    };
    let parent = |path: &str| path.rsplit_once('/').map(|(dir, _)| dir.to_string()).unwrap_or_default();
    let under = |path: &str| if prefix.is_empty() { path.to_string() } else { format!("{prefix}/{path}") };
    match storage {
        Storage::Raw => {
            let path = filepath
                .and_then(safe_relative_path)
                .ok_or_else(|| Error::malformed(format!("raw layer {} names no safe file path", source.digest)))?;
            let target = under(path);
            add_folders(&mut builder, &parent(&target))?;
            let h = header(&target, source.size, 0o644, tar::EntryType::Regular);
            builder.append(&h, (&mut hashed).take(source.size)).map_err(|e| read_err(source, e))?;
        }
        Storage::Tar(compression) => {
            let plain: Box<dyn Read + '_> = match compression {
                Compression::None => Box::new(&mut hashed),
                Compression::Zstd => Box::new(zstd::Decoder::new(&mut hashed).map_err(|e| read_err(source, e))?),
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(&mut hashed)),
            };
            let mut archive = tar::Archive::new(plain);
            for entry in archive.entries().map_err(|e| read_err(source, e))? {
                let entry = entry.map_err(|e| read_err(source, e))?;
                let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let Some(path) = safe_relative_path(&raw_path) else {
                    return Err(Error::integrity(
                        crate::error::IntegrityFailure::HostileEntry,
                        format!("layer {} is refused: entry {raw_path:?} leaves the destination", source.digest),
                    ));
                };
                let target = under(path);
                let kind = entry.header().entry_type();
                if kind.is_dir() {
                    add_folders(&mut builder, &target)?;
                } else if kind.is_file() {
                    add_folders(&mut builder, &parent(&target))?;
                    let size = entry.header().size().map_err(|e| read_err(source, e))?;
                    let executable = entry.header().mode().map(|m| m & 0o111 != 0).unwrap_or(false);
                    let h = header(&target, size, if executable { 0o755 } else { 0o644 }, tar::EntryType::Regular);
                    builder.append(&h, entry).map_err(|e| read_err(source, e))?;
                } else {
                    return Err(Error::integrity(
                        crate::error::IntegrityFailure::HostileEntry,
                        format!("layer {} is refused: entry {path:?} is a {kind:?}", source.digest),
                    ));
                }
            }
        }
    }
    let hashing = builder.into_inner().map_err(write_err)?;
    io::copy(&mut hashed, &mut io::sink()).map_err(|e| read_err(source, e))?;
    let (actual, read) = hashed.finish();
    crate::digest::verify(&format!("layer {}", source.digest), &source.digest, source.size, &actual, read)?;
    Ok(hashing.finish())
}

fn read_err(source: &Descriptor, e: io::Error) -> Error {
    crate::stream::into_error(e, |e| Error::failed(format!("could not read layer {}", source.digest)).with_cause(e))
}

/// A reproducible tar header: owner 0:0, no names, mtime 0.
fn header(path: &str, size: u64, mode: u32, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    // Paths too long for ustar get a GNU long-name entry from `append`, via set_path's error.
    let _ = h.set_path(path);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(kind);
    h.set_cksum();
    h
}

/// A base image the files go on top of (`--base`): its config, as JSON, and its layers.
#[derive(Debug, Clone)]
pub struct Base {
    /// The image config: its `config` (Env, Cmd, WorkingDir…), platform and history are kept.
    pub config: serde_json::Value,
    /// Its layers, in order.
    pub layers: Vec<Descriptor>,
}

/// The image config (`rootfs.diff_ids` of the layers, after the base's) and the manifest, as
/// bytes and descriptors: `(config descriptor, config bytes, manifest descriptor, manifest bytes)`.
pub fn image_manifest(
    base: Option<&Base>,
    layers: &[Descriptor],
    annotations: std::collections::BTreeMap<String, String>,
) -> Result<(Descriptor, Vec<u8>, Descriptor, Vec<u8>)> {
    let mut config = match base {
        Some(base) => base.config.clone(),
        None => serde_json::json!({"architecture": go_arch(), "os": "linux", "config": {}}),
    };
    let object =
        config.as_object_mut().ok_or_else(|| Error::malformed("the base image's config is not a JSON object"))?;
    let mut diff_ids: Vec<serde_json::Value> =
        object.get("rootfs").and_then(|r| r.get("diff_ids")).and_then(|d| d.as_array()).cloned().unwrap_or_default();
    if base.is_some_and(|b| b.layers.len() != diff_ids.len()) {
        return Err(Error::malformed("the base image's config does not list a diff_id per layer"));
    }
    diff_ids.extend(layers.iter().map(|l| serde_json::Value::String(l.digest.clone())));
    object.insert("rootfs".into(), serde_json::json!({"type": "layers", "diff_ids": diff_ids}));
    if let Some(history) = object.get_mut("history").and_then(|h| h.as_array_mut()) {
        for _ in layers {
            history.push(serde_json::json!({"created_by": "zoo-oci copy --as-image"}));
        }
    }
    let config_bytes = serde_json::to_vec(&config).expect("configs serialise");
    let config_descriptor = Descriptor::for_bytes(IMAGE_CONFIG, &config_bytes);
    let mut all = base.map(|b| b.layers.clone()).unwrap_or_default();
    all.extend(layers.iter().cloned());
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: None,
        config: config_descriptor.clone(),
        layers: all,
        subject: None,
        annotations,
    };
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifests serialise");
    let manifest_descriptor = Descriptor::for_bytes(media::OCI_MANIFEST, &manifest_bytes);
    Ok((config_descriptor, config_bytes, manifest_descriptor, manifest_bytes))
}

/// This machine's architecture as OCI names it (GOARCH): the files are the same everywhere,
/// but runtimes pick images by platform.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        other => other,
    }
}
