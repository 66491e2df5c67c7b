//! The `zoo-oci` binary: the command line lives in the library (`zoo_oci::cli`), so that the
//! Python package's `zoo-oci` command is the same program.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(zoo_oci::cli::main(std::env::args_os()))
}
