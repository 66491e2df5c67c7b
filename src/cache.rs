//! The user cache folder zoo-oci keeps state in: `$ZOO_OCI_CACHE`, else `$XDG_CACHE_HOME/zoo-oci`,
//! else `~/.cache/zoo-oci`. Partial downloads (`partial/`) and layer digests (`digests/`) live
//! there.

use std::path::PathBuf;

/// The cache folder, if the environment names one.
pub fn root() -> Option<PathBuf> {
    std::env::var_os("ZOO_OCI_CACHE").map(PathBuf::from).or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("zoo-oci"))
    })
}
