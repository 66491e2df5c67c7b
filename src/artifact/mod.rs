//! The artifact encoding (DESIGN §2): media types and annotation keys, layer archives, packing a
//! suite into a manifest, and decoding a manifest back into what a suite holds.

pub mod archive;
pub mod attestation;
pub mod decode;
pub mod image;
pub mod known;
pub mod manifest;
pub mod media;
pub mod pack;
pub mod record;
pub mod variant;
