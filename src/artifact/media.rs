//! Media types and annotation keys, defined once (DESIGN §2). Versioned names: a change of
//! meaning is a new name.

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker schema 2 manifest (read when copying foreign images).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (read when copying foreign images).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// The manifest `artifactType` of a ModelPack model.
pub const MODEL_ARTIFACT: &str = "application/vnd.cncf.model.manifest.v1+json";
/// The ModelPack config blob.
pub const MODEL_CONFIG: &str = "application/vnd.cncf.model.config.v1+json";
/// Model weights, uncompressed tar (weights don't compress).
pub const WEIGHT_TAR: &str = "application/vnd.cncf.model.weight.v1.tar";
/// Model weights, zstd tar (read only; other tools write it).
pub const WEIGHT_TAR_ZSTD: &str = "application/vnd.cncf.model.weight.v1.tar+zstd";
/// Code (scripts, notebooks), tar.
pub const CODE_TAR: &str = "application/vnd.cncf.model.code.v1.tar";
/// Code (scripts, notebooks), zstd tar.
pub const CODE_TAR_ZSTD: &str = "application/vnd.cncf.model.code.v1.tar+zstd";
/// Datasets, tar.
pub const DATASET_TAR: &str = "application/vnd.cncf.model.dataset.v1.tar";
/// Datasets, zstd tar.
pub const DATASET_TAR_ZSTD: &str = "application/vnd.cncf.model.dataset.v1.tar+zstd";
/// One document stored as-is (README, LICENSE): registry UIs render it.
pub const DOC_RAW: &str = "application/vnd.cncf.model.doc.v1.raw";
/// Documents, tar.
pub const DOC_TAR: &str = "application/vnd.cncf.model.doc.v1.tar";
/// Documents, zstd tar.
pub const DOC_TAR_ZSTD: &str = "application/vnd.cncf.model.doc.v1.tar+zstd";
/// Model weights stored as-is (read only; other tools write it).
pub const WEIGHT_RAW: &str = "application/vnd.cncf.model.weight.v1.raw";
/// Code stored as-is (read only).
pub const CODE_RAW: &str = "application/vnd.cncf.model.code.v1.raw";
/// Dataset stored as-is (read only).
pub const DATASET_RAW: &str = "application/vnd.cncf.model.dataset.v1.raw";

/// ModelPack: the file path a layer holds (a folder ends with `/`).
pub const ANN_FILEPATH: &str = "org.cncf.model.filepath";
/// ModelPack: the metadata of a raw layer's file, as JSON.
pub const ANN_FILE_METADATA: &str = "org.cncf.model.file.metadata+json";
/// OCI: a human title; we repeat the file path there, which ORAS uses as the file name.
pub const ANN_TITLE: &str = "org.opencontainers.image.title";
/// OCI: description (the suite's summary).
pub const ANN_DESCRIPTION: &str = "org.opencontainers.image.description";
/// OCI: version.
pub const ANN_VERSION: &str = "org.opencontainers.image.version";
/// OCI: SPDX licence expression.
pub const ANN_LICENSES: &str = "org.opencontainers.image.licenses";
/// OCI: authors.
pub const ANN_AUTHORS: &str = "org.opencontainers.image.authors";
/// OCI: source URL.
pub const ANN_SOURCE: &str = "org.opencontainers.image.source";
/// OCI: documentation URL.
pub const ANN_DOCUMENTATION: &str = "org.opencontainers.image.documentation";
/// OCI: URL for more information.
pub const ANN_URL: &str = "org.opencontainers.image.url";
/// OCI: creation time, written only on request.
pub const ANN_CREATED: &str = "org.opencontainers.image.created";
/// OCI image layout: a tag in `index.json`.
pub const ANN_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// zoo-oci: the file class of a layer.
pub const ANN_CLASS: &str = "io.zoo-oci.class";
/// zoo-oci: the model variant name of a model layer.
pub const ANN_VARIANT: &str = "io.zoo-oci.variant";
/// zoo-oci: the framework of a model layer.
pub const ANN_FRAMEWORK: &str = "io.zoo-oci.framework";
/// zoo-oci: the framework version of a model layer.
pub const ANN_FRAMEWORK_VERSION: &str = "io.zoo-oci.framework-version";
/// zoo-oci: the precision of a model layer.
pub const ANN_PRECISION: &str = "io.zoo-oci.precision";
/// zoo-oci: the dataset name of a dataset layer.
pub const ANN_DATASET: &str = "io.zoo-oci.dataset";
/// zoo-oci: the normalised descriptor with file sizes and digests, compact JSON.
pub const ANN_SUITE: &str = "io.zoo-oci.suite";
/// zoo-oci: the README text, cut at [`README_ANNOTATION_LIMIT`].
pub const ANN_README: &str = "io.zoo-oci.readme";
/// zoo-oci: `"true"` when the README annotation was cut.
pub const ANN_README_TRUNCATED: &str = "io.zoo-oci.readme.truncated";
/// zoo-oci: the canonical task (a Hugging Face pipeline tag).
pub const ANN_TASK: &str = "io.zoo-oci.task";
/// zoo-oci: the task's modality.
pub const ANN_MODALITY: &str = "io.zoo-oci.modality";
/// zoo-oci: the frameworks of the model variants, comma-separated, sorted.
pub const ANN_FRAMEWORKS: &str = "io.zoo-oci.frameworks";
/// zoo-oci: the tags, comma-separated, sorted.
pub const ANN_TAGS: &str = "io.zoo-oci.tags";

/// Longest README kept in the manifest annotation.
pub const README_ANNOTATION_LIMIT: usize = 256 * 1024;
/// Largest manifest registries accept (CNCF Distribution refuses more).
pub const MANIFEST_LIMIT: usize = 4 * 1024 * 1024;
/// A layer with more files than this records a count and total in `io.zoo-oci.suite`.
pub const FILE_LIST_LIMIT: usize = 1000;

/// What a layer holds, as its media type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerContent {
    /// Model weights.
    Weight,
    /// Code: scripts, notebooks.
    Code,
    /// A dataset.
    Dataset,
    /// Documents: README, licence, the descriptor.
    Doc,
}

/// How a layer's bytes are laid out, as its media type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerEncoding {
    /// One file as it is.
    Raw,
    /// An uncompressed tar.
    Tar,
    /// A zstd-compressed tar.
    TarZstd,
}

/// Every layer media type zoo-oci reads, with what it means: the one table decoding consults.
pub const LAYER_TYPES: [(&str, LayerContent, LayerEncoding); 12] = [
    (WEIGHT_RAW, LayerContent::Weight, LayerEncoding::Raw),
    (WEIGHT_TAR, LayerContent::Weight, LayerEncoding::Tar),
    (WEIGHT_TAR_ZSTD, LayerContent::Weight, LayerEncoding::TarZstd),
    (CODE_RAW, LayerContent::Code, LayerEncoding::Raw),
    (CODE_TAR, LayerContent::Code, LayerEncoding::Tar),
    (CODE_TAR_ZSTD, LayerContent::Code, LayerEncoding::TarZstd),
    (DATASET_RAW, LayerContent::Dataset, LayerEncoding::Raw),
    (DATASET_TAR, LayerContent::Dataset, LayerEncoding::Tar),
    (DATASET_TAR_ZSTD, LayerContent::Dataset, LayerEncoding::TarZstd),
    (DOC_RAW, LayerContent::Doc, LayerEncoding::Raw),
    (DOC_TAR, LayerContent::Doc, LayerEncoding::Tar),
    (DOC_TAR_ZSTD, LayerContent::Doc, LayerEncoding::TarZstd),
];

/// What a layer media type means, if it is one zoo-oci reads.
pub fn layer_type(media_type: &str) -> Option<(LayerContent, LayerEncoding)> {
    LAYER_TYPES.iter().find(|(name, _, _)| *name == media_type).map(|(_, content, encoding)| (*content, *encoding))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_type_is_a_modelpack_name_that_says_its_content_and_encoding() {
        for (name, content, encoding) in LAYER_TYPES {
            let kind = match content {
                LayerContent::Weight => ".weight.v1.",
                LayerContent::Code => ".code.v1.",
                LayerContent::Dataset => ".dataset.v1.",
                LayerContent::Doc => ".doc.v1.",
            };
            let suffix = match encoding {
                LayerEncoding::Raw => "raw",
                LayerEncoding::Tar => "tar",
                LayerEncoding::TarZstd => "tar+zstd",
            };
            assert_eq!(name, format!("application/vnd.cncf.model{kind}{suffix}"));
        }
        assert_eq!(layer_type("application/vnd.cncf.model.weight.v1.tar+gzip"), None);
        assert_eq!(layer_type(CODE_TAR_ZSTD), Some((LayerContent::Code, LayerEncoding::TarZstd)));
    }
}
