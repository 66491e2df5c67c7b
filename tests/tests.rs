//! One integration test binary: the real `zoo-oci` against real OCI layouts and real skopeo.

mod util;

mod architecture;
mod artifact;
mod browse;
mod cache;
mod check;
mod container;
mod conventions;
mod credentials_offline;
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
mod signing;
mod tls;
mod tour;
mod transfers;
mod trust;
