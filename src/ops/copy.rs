//! `copy`: an artifact from any location to any location, unchanged (mirror, promote, export).

use serde::Serialize;

use super::Context;
use crate::copy as graph;
use crate::error::{Error, Result, Side};
use crate::event::Event;
use crate::reference::{Location, Reference};
use crate::store;

/// What to copy, and where.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CopyOptions {
    /// What to copy: a location with a tag or digest, or none (the only tag).
    pub source: Location,
    /// Where to: a location with a tag, or none (the source's tag, if it was named by one).
    pub destination: Location,
    /// Talk plain HTTP to the source registry.
    pub source_plain_http: bool,
    /// Talk plain HTTP to the destination registry.
    pub destination_plain_http: bool,
    /// Bring along the artifacts that refer to what is copied (signatures, SBOMs, attestations),
    /// as `oras cp -r` does.
    pub referrers: bool,
    /// Write a standard OCI image of the suite's files instead of copying the artifact as it is.
    pub as_image: Option<AsImage>,
}

impl CopyOptions {
    /// Copies `source` to `destination` as it is, over TLS, without its referrers.
    pub fn new(source: Location, destination: Location) -> Self {
        CopyOptions {
            source,
            destination,
            source_plain_http: false,
            destination_plain_http: false,
            referrers: false,
            as_image: None,
        }
    }
}

/// `copy --as-image`: which files, under which folder.
#[derive(Debug, Clone, Default)]
pub struct AsImage {
    /// The folder the files go under in the image (`/models`).
    pub prefix: String,
    /// Which layers and files, as `pull` selects them (`--only`, `--variant`).
    pub selection: crate::pull::Selection,
    /// An image to put the files on top of (`--base`): a shell for KServe's modelcar, a server.
    pub base: Option<Location>,
}

/// What a copy did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CopyReport {
    /// The source, with the reference read.
    pub from: String,
    /// The destination, with the tag written (if any).
    pub to: String,
    /// The root manifest's digest, the same on both sides.
    pub digest: String,
    /// Blobs copied, skipped and mounted.
    #[serde(flatten)]
    pub transferred: graph::CopyReport,
}

/// Copies an artifact and everything below it: children before parents, what the destination
/// has skipped, blobs mounted where the registry can.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, CopyOptions};
/// use zoo_oci::reference::Location;
/// let options = CopyOptions::new(Location::parse("oci:./zoo:1.0")?, Location::parse("oci:/mnt/usb/zoo")?);
/// let report = ops::copy(&options, &Context::default()).await?;
/// println!("{} blobs copied", report.transferred.copied);
/// # Ok(()) }
/// ```
pub async fn copy(options: &CopyOptions, context: &Context) -> Result<CopyReport> {
    let from_context = context.with_plain_http(options.source_plain_http);
    let at_source = |e: Error| e.on(Side::Source, options.source.to_string());
    // Offline, a copy that involves a registry fails before anything is written: the cache keeps
    // a suite's files, not its layer blobs, so it cannot stand in for a source either.
    let base = options.as_image.as_ref().and_then(|image| image.base.as_ref());
    for location in [Some(&options.source), Some(&options.destination), base].into_iter().flatten() {
        if let Location::Registry { registry, .. } = location {
            context.reach(registry, &format!("copying {} to {}", options.source, options.destination))?;
        }
    }
    let src = from_context.source(&options.source).await.map_err(at_source)?;
    let reference = store::reference_or_only_tag(&options.source, src.as_ref()).await.map_err(at_source)?;
    // What is to be copied is read before the destination is opened: a missing tag fails first.
    let root = graph::resolve(src.as_ref(), &reference, crate::retry::DEFAULT_RETRIES).await?;
    let tag = match (options.destination.reference(), &reference) {
        (Some(Reference::Tag(t)), _) => Some(t.clone()),
        (Some(Reference::Digest(_)), _) => {
            return Err(Error::usage("a copy target takes a tag, not a digest")
                .with_hint("the digest stays the same; name a tag or none"));
        }
        (None, Reference::Tag(t)) => Some(t.clone()),
        (None, Reference::Digest(_)) => None,
    };
    let to_context = context.with_plain_http(options.destination_plain_http);
    let dst = to_context
        .target(&options.destination, store::Access::Create)
        .await
        .map_err(|e| e.on(Side::Destination, options.destination.to_string()))?;
    if let Some(image) = &options.as_image {
        let source: (&dyn store::Source, _, _) = (src.as_ref(), &reference, &root);
        return as_image(options, image, source, dst.as_ref(), tag, &to_context).await;
    }
    let on_event = |e: &Event| (context.events)(e);
    let copy_options = graph::GraphOptions { referrers: options.referrers, ..context.copy_options(&on_event) };
    let transferred = graph::copy_graph(src.as_ref(), &root, dst.as_ref(), tag.as_deref(), &copy_options).await?;
    Ok(CopyReport {
        from: options.source.with_reference(Some(reference)).to_string(),
        to: options.destination.with_reference(tag.map(Reference::Tag)).to_string(),
        digest: root.descriptor.digest,
        transferred,
    })
}

/// Writes the selected files of the suite at `root` as an OCI image into `dst`: each selected
/// layer read once, converted while it streams into the destination's spool (hashed on the way,
/// the source's digest checked), then the image config and the manifest.
async fn as_image(
    options: &CopyOptions,
    image: &AsImage,
    (src, reference, root): (&dyn store::Source, &Reference, &graph::Root),
    dst: &dyn store::Target,
    tag: Option<String>,
    context: &Context,
) -> Result<CopyReport> {
    use crate::artifact::image;
    let prefix = image::prefix_folder(&image.prefix)?;
    let view =
        store::suite_view(src, &root.descriptor, &root.bytes).await.map_err(|e| e.on(Side::Source, src.name()))?;
    let files = crate::pull::FileFilter::of(&image.selection)?;
    let chosen = crate::pull::select(&view, &image.selection, &files)?;
    let spooler = dst.spooler()?.ok_or_else(|| Error::failed(format!("{} cannot take an image", dst.name())))?;
    let mut layers = Vec::new();
    let mut bytes = 0;
    for layer in chosen {
        let blob = src.fetch_blob(&layer.descriptor).await.map_err(|e| e.on(Side::Source, src.name()))?;
        let bridge = tokio_util::io::SyncIoBridge::new(blob);
        let (descriptor, storage, filepath) = (layer.descriptor.clone(), layer.storage, layer.filepath.clone());
        let (prefix, spooler) = (prefix.clone(), spooler.clone());
        let converted = tokio::task::spawn_blocking(move || -> Result<crate::artifact::manifest::Descriptor> {
            let reader = std::io::BufReader::with_capacity(crate::artifact::archive::COPY_BUFFER, bridge);
            let spool = spooler.spool()?;
            let (spool, digest, size) =
                image::convert_layer(reader, &descriptor, storage, filepath.as_deref(), &prefix, spool)?;
            spool.commit(&digest, size)?;
            Ok(crate::artifact::manifest::Descriptor::new(image::IMAGE_LAYER, digest, size))
        })
        .await
        .map_err(|e| Error::failed("the image layer thread failed").with_cause(e))??;
        bytes += converted.size;
        layers.push(converted);
    }
    let base = match &image.base {
        Some(location) => Some(copy_base(location, context, dst).await?),
        None => None,
    };
    let (config, config_bytes, manifest, manifest_bytes) =
        image::image_manifest(base.as_ref(), &layers, view.manifest.annotations.clone())?;
    let config_stream = config_bytes.clone();
    let open = move || -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<store::BlobReader>> + Send>> {
        let bytes = config_stream.clone();
        Box::pin(async move { Ok(Box::pin(std::io::Cursor::new(bytes)) as store::BlobReader) })
    };
    dst.push_blob(&config, &open).await?;
    dst.push_manifest(&manifest, &manifest_bytes, tag.as_deref()).await?;
    Ok(CopyReport {
        from: options.source.with_reference(Some(reference.clone())).to_string(),
        to: options.destination.with_reference(tag.map(Reference::Tag)).to_string(),
        digest: manifest.digest,
        transferred: graph::CopyReport {
            copied: layers.len() as u64 + 1,
            copied_bytes: bytes + config_bytes.len() as u64,
            ..Default::default()
        },
    })
}

/// Reads the base image at `location` (a single-platform image, or this machine's platform of an
/// index), copies its layers into `dst` where they are missing, and gives its config and layers.
async fn copy_base(
    location: &Location,
    context: &Context,
    dst: &dyn store::Target,
) -> Result<crate::artifact::image::Base> {
    use crate::artifact::manifest;
    let at_base = |e: Error| e.on(Side::Source, location.to_string()).context("reading the --base image");
    let base = context.source(location).await.map_err(at_base)?;
    let reference = store::reference_or_only_tag(location, base.as_ref()).await.map_err(at_base)?;
    let mut root = graph::resolve(base.as_ref(), &reference, crate::retry::DEFAULT_RETRIES).await.map_err(at_base)?;
    if let Some(children) = manifest::index_children(&root.descriptor, &root.bytes)? {
        let platform = format!("linux/{}", crate::artifact::image::go_arch());
        let child = children
            .iter()
            .find(|c| c.platform.as_deref().is_some_and(|p| p == platform || p.starts_with(&format!("{platform}/"))))
            .ok_or_else(|| Error::not_found(format!("the --base index {location} has no {platform} image")))?;
        let bytes = base.fetch_manifest(&child.descriptor).await.map_err(at_base)?;
        root = graph::Root { descriptor: child.descriptor.clone(), bytes };
    }
    let parsed = manifest::parse_manifest(&root.bytes, &format!("the --base image {location}"))?;
    let config_bytes =
        store::read_small_blob(base.as_ref(), &parsed.config, "the --base image's config").await.map_err(at_base)?;
    let config: serde_json::Value = serde_json::from_slice(&config_bytes).map_err(|e| {
        Error::malformed(format!("the --base image {location} has a config that is not JSON")).with_cause(e)
    })?;
    for layer in &parsed.layers {
        if dst.exists(layer).await? {
            continue;
        }
        let source = base.as_ref();
        let open = || -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<store::BlobReader>> + Send + '_>> {
            Box::pin(source.fetch_blob(layer))
        };
        dst.push_blob(layer, &open).await?;
    }
    Ok(crate::artifact::image::Base { config, layers: parsed.layers })
}
