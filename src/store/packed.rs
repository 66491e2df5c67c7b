//! A suite being pushed, seen as a [`Source`]: its layers are produced from the suite's
//! files on demand, so `push` is `copy(packed suite → destination)`.

use async_trait::async_trait;

use super::{BlobReader, Source, Store};
use crate::artifact::manifest::Descriptor;
use crate::artifact::pack::PackedSuite;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::stream as pipe;

/// A packed suite as a source.
pub struct PackedSource {
    packed: std::sync::Arc<PackedSuite>,
}

impl PackedSource {
    /// Wraps a packed suite.
    pub fn new(packed: PackedSuite) -> Self {
        PackedSource { packed: std::sync::Arc::new(packed) }
    }
    /// The packed suite.
    pub fn packed(&self) -> &PackedSuite {
        &self.packed
    }
}

#[async_trait]
impl Store for PackedSource {
    fn name(&self) -> String {
        self.packed.suite.root.display().to_string()
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        let p = &self.packed;
        Ok(descriptor.digest == p.manifest.digest
            || descriptor.digest == p.config.digest
            || p.layer(&descriptor.digest).is_some())
    }
}

#[async_trait]
impl Source for PackedSource {
    async fn resolve(&self, _reference: &Reference) -> Result<Descriptor> {
        Ok(self.packed.manifest.clone())
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        if descriptor.digest == self.packed.manifest.digest {
            Ok(self.packed.manifest_bytes.clone())
        } else {
            Err(Error::not_found(format!("the suite has no manifest {}", descriptor.digest)))
        }
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        if descriptor.digest == self.packed.config.digest {
            return Ok(Box::pin(std::io::Cursor::new(self.packed.config_bytes.clone())));
        }
        if self.packed.layer(&descriptor.digest).is_none() {
            return Err(Error::not_found(format!("the suite has no blob {}", descriptor.digest)));
        }
        let packed = self.packed.clone();
        let digest = descriptor.digest.clone();
        Ok(Box::pin(pipe::spawn_producer(move |out| {
            let layer = packed.layer(&digest).expect("checked above");
            packed.write_layer(layer, out).map(|_| ())
        })))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(vec![self.packed.suite.spec.version.clone()])
    }
}
