//! One integration test binary: the real `zoo-oci` against real OCI layouts and real skopeo.

mod util;

mod artifact;
mod architecture;
mod browse;
mod cache;
mod check;
mod container;
mod credentials_offline;
mod conventions;
mod destinations;
mod diff;
mod ecosystem;
mod graph;
mod harbor;
mod hostile;
mod init;
mod inputs;
mod interop;
mod kubernetes;
mod layout;
mod mistakes;
mod modes;
mod output;
mod pull;
mod ranges;
mod registry;
mod robust;
mod runtime;
mod scale;
mod shared_cache;
mod tls;
mod tour;
