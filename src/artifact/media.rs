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
/// A model's files that are not weights (configs, tokenizer, shard index), uncompressed tar:
/// beside the variant's raw weight layers.
pub const WEIGHT_CONFIG_TAR: &str = "application/vnd.cncf.model.weight.config.v1.tar";
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
/// modctl: the Modelfile an artifact was built from (regenerated from the parsed file), as a
/// manifest annotation.
pub const ANN_MODELFILE: &str = "org.cncf.modctl.modelfile";
/// modctl ≤ 0.1 and its `-cnai` builds: the same under the legacy prefix.
pub const LEGACY_ANN_MODELFILE: &str = "org.cnai.modctl.modelfile";
/// The legacy file path annotation.
pub const LEGACY_ANN_FILEPATH: &str = "org.cnai.model.filepath";
/// The legacy file metadata annotation (model-spec ≥ 0.0.5; 0.0.4 wrote it without `+json`).
pub const LEGACY_ANN_FILE_METADATA: &str = "org.cnai.model.file.metadata+json";
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

/// The legacy ModelPack prefix (the CNAI names older modctl and Harbor 2.13 era tools wrote);
/// read as the `vnd.cncf.model` names.
pub const LEGACY_PREFIX: &str = "application/vnd.cnai.model.";
/// The ModelPack media type prefix.
pub const PREFIX: &str = "application/vnd.cncf.model.";
/// The legacy manifest `artifactType`.
pub const LEGACY_MODEL_ARTIFACT: &str = "application/vnd.cnai.model.manifest.v1+json";
/// The legacy config media type.
pub const LEGACY_MODEL_CONFIG: &str = "application/vnd.cnai.model.config.v1+json";
/// The legacy annotation prefix (`org.cnai.model.filepath`, …), read as `org.cncf.model.`.
pub const LEGACY_ANNOTATION_PREFIX: &str = "org.cnai.model.";

/// The ModelPack annotation prefix (`org.cncf.model.filepath`, …).
pub const ANNOTATION_PREFIX: &str = "org.cncf.model.";

/// The names an artifact is written with: ModelPack's, or the ones model-spec 0.0.5 used, which
/// are the only ones released Harbor (2.13 to 2.15) shows as models. Readers take both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Names {
    /// `application/vnd.cncf.model.*` and `org.cncf.model.*` (model-spec ≥ 0.0.7).
    #[default]
    ModelPack,
    /// `application/vnd.cnai.model.*` and `org.cnai.model.*` (model-spec 0.0.5).
    Legacy,
}

impl Names {
    /// A ModelPack media type (layer, config, manifest `artifactType`) under these names; other
    /// media types as they are.
    pub fn media_type(self, name: &str) -> String {
        match (self, name.strip_prefix(PREFIX)) {
            (Names::Legacy, Some(rest)) => format!("{LEGACY_PREFIX}{rest}"),
            _ => name.to_string(),
        }
    }

    /// A ModelPack annotation key under these names; other keys as they are.
    pub fn annotation(self, key: &str) -> String {
        match (self, key.strip_prefix(ANNOTATION_PREFIX)) {
            (Names::Legacy, Some(rest)) => format!("{LEGACY_ANNOTATION_PREFIX}{rest}"),
            _ => key.to_string(),
        }
    }
}

/// KitOps: the ModelKit config blob, the Kitfile as JSON (with each entry's layer digest).
pub const KIT_CONFIG: &str = "application/vnd.kitops.modelkit.config.v1+json";
/// KitOps: the manifest `artifactType` of a ModelKit (newer kit; older ones write none).
pub const KIT_ARTIFACT: &str = "application/vnd.kitops.modelkit.manifest.v1+json";
/// KitOps: the layer media type prefix (`model`, `modelpart`, `dataset`, `code`, `docs`).
pub const KIT_PREFIX: &str = "application/vnd.kitops.modelkit.";
/// KitOps: the Kitfile, as JSON, on the manifest of a ModelKit packed as ModelPack (kit ≥ 1.10).
pub const KIT_ANN_KITFILE: &str = "ml.kitops.modelkit.kitfile";
/// KitOps: the annotation that marks a `code` layer holding prompts.
pub const KIT_ANN_LAYER_SUBTYPE: &str = "ml.kitops.modelkit.layer-subtype";

/// What a layer holds, as its media type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerContent {
    /// Model weights.
    Weight,
    /// A configuration file of the weights (`config.json`, a tokenizer): it belongs with the
    /// weights beside it.
    WeightConfig,
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
    /// A gzip-compressed tar.
    TarGzip,
    /// A zstd-compressed tar.
    TarZstd,
}

/// What a ModelPack layer media type means: every kind of the spec (`weight`, `weight.config`,
/// `code`, `dataset`, `doc`) in every encoding (`raw`, `tar`, `tar+gzip`, `tar+zstd`), under the
/// current `vnd.cncf.model` names or the legacy `vnd.cnai.model` ones; `None` for anything else.
///
/// KitOps ModelKit layers (`application/vnd.kitops.modelkit.KIND.v1.tar[+gzip|+zstd]`, `.raw`)
/// read as their ModelPack kinds: `model` → weight, `modelpart` → weight.config, `dataset`,
/// `code`, `docs` → doc (kit's MCP bundles are not read).
pub fn layer_type(media_type: &str) -> Option<(LayerContent, LayerEncoding)> {
    let (rest, kit) = match media_type.strip_prefix(KIT_PREFIX) {
        Some(rest) => (rest, true),
        None => (media_type.strip_prefix(PREFIX).or_else(|| media_type.strip_prefix(LEGACY_PREFIX))?, false),
    };
    let (kind, encoding) = rest.rsplit_once(".v1.")?;
    let content = match (kind, kit) {
        ("weight", false) | ("model", true) => LayerContent::Weight,
        ("weight.config", false) | ("modelpart", true) => LayerContent::WeightConfig,
        ("code", _) => LayerContent::Code,
        ("dataset", _) => LayerContent::Dataset,
        ("doc", false) | ("docs", true) => LayerContent::Doc,
        _ => return None,
    };
    let encoding = match encoding {
        "raw" => LayerEncoding::Raw,
        "tar" => LayerEncoding::Tar,
        "tar+gzip" => LayerEncoding::TarGzip,
        "tar+zstd" => LayerEncoding::TarZstd,
        _ => return None,
    };
    Some((content, encoding))
}

/// Whether a manifest is a model: ModelPack (current or legacy names) or a KitOps ModelKit, by
/// its `artifactType` or config media type.
pub fn is_model_artifact(artifact_type: Option<&str>, config_media_type: &str) -> bool {
    matches!(artifact_type, Some(MODEL_ARTIFACT | LEGACY_MODEL_ARTIFACT | KIT_ARTIFACT))
        || matches!(config_media_type, MODEL_CONFIG | LEGACY_MODEL_CONFIG | KIT_CONFIG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_encoding_of_the_spec_is_read_under_both_prefixes() {
        let kinds = [
            ("weight", LayerContent::Weight),
            ("weight.config", LayerContent::WeightConfig),
            ("code", LayerContent::Code),
            ("dataset", LayerContent::Dataset),
            ("doc", LayerContent::Doc),
        ];
        let encodings = [
            ("raw", LayerEncoding::Raw),
            ("tar", LayerEncoding::Tar),
            ("tar+gzip", LayerEncoding::TarGzip),
            ("tar+zstd", LayerEncoding::TarZstd),
        ];
        for prefix in [PREFIX, LEGACY_PREFIX] {
            for (kind, content) in kinds {
                for (suffix, encoding) in encodings {
                    let name = format!("{prefix}{kind}.v1.{suffix}");
                    assert_eq!(layer_type(&name), Some((content, encoding)), "{name}");
                }
            }
        }
        for name in [
            WEIGHT_RAW,
            WEIGHT_TAR,
            WEIGHT_CONFIG_TAR,
            CODE_TAR,
            CODE_TAR_ZSTD,
            DATASET_TAR,
            DOC_RAW,
            DOC_TAR,
            DOC_TAR_ZSTD,
        ] {
            assert!(layer_type(name).is_some(), "{name}");
        }
        for other in [
            "application/vnd.cncf.model.weight.v1.tar+bzip2",
            "application/vnd.cncf.model.sbom.v1.tar",
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.cncf.model.weight.v2.tar",
        ] {
            assert_eq!(layer_type(other), None, "{other}");
        }
        assert!(is_model_artifact(Some(LEGACY_MODEL_ARTIFACT), "application/vnd.oci.empty.v1+json"));
        assert!(is_model_artifact(None, LEGACY_MODEL_CONFIG));
        assert!(!is_model_artifact(None, "application/vnd.oci.image.config.v1+json"));
        assert!(is_model_artifact(None, KIT_CONFIG), "kit writes no artifactType");
        let kit = [
            ("model", LayerContent::Weight),
            ("modelpart", LayerContent::WeightConfig),
            ("dataset", LayerContent::Dataset),
            ("code", LayerContent::Code),
            ("docs", LayerContent::Doc),
        ];
        for (kind, content) in kit {
            for (suffix, encoding) in encodings {
                let name = format!("{KIT_PREFIX}{kind}.v1.{suffix}");
                assert_eq!(layer_type(&name), Some((content, encoding)), "{name}");
            }
        }
        assert_eq!(layer_type("application/vnd.kitops.modelkit.mcpb.v1.raw"), None);
        // The legacy names read back as what they were written from.
        for name in [WEIGHT_RAW, WEIGHT_CONFIG_TAR, DOC_TAR, MODEL_CONFIG, MODEL_ARTIFACT] {
            let legacy = Names::Legacy.media_type(name);
            assert!(legacy.starts_with(LEGACY_PREFIX), "{legacy}");
            assert_eq!(legacy.replace(LEGACY_PREFIX, PREFIX), name);
        }
        assert_eq!(Names::Legacy.media_type(MODEL_ARTIFACT), LEGACY_MODEL_ARTIFACT);
        assert_eq!(Names::Legacy.media_type(MODEL_CONFIG), LEGACY_MODEL_CONFIG);
        assert_eq!(Names::Legacy.annotation(ANN_FILEPATH), LEGACY_ANN_FILEPATH);
        assert_eq!(Names::Legacy.annotation(ANN_FILE_METADATA), LEGACY_ANN_FILE_METADATA);
        assert_eq!(Names::Legacy.annotation(ANN_TITLE), ANN_TITLE);
        assert_eq!(Names::ModelPack.media_type(WEIGHT_RAW), WEIGHT_RAW);
        assert_eq!(layer_type("application/vnd.kitops.modelkit.doc.v1.tar"), None, "kit says docs");
    }
}
