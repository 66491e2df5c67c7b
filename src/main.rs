//! The `zoo-oci` binary: parse, run one command, render an error once, exit with its code.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let log_format = args.global.log_format;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => ExitCode::from(code),
        // A reader that went away (`zoo-oci inspect … | head -1`) has what it wanted: like
        // ripgrep, end quietly and successfully rather than report a failure nobody can act on.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            // Errors are printed even with -q: they are what the user must read.
            eprint!("{}", cli::render_error_as(&err, log_format));
            ExitCode::from(err.kind().exit_code() as u8)
        }
    }
}
