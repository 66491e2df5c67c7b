//! The `zoo-oci` binary: parse, run one command, render an error once, exit with its code.

use std::process::ExitCode;

use clap::Parser;

mod cli;

/// Waits for SIGINT or SIGTERM; gives its name and the conventional exit code (128 + signal).
async fn interrupted() -> (&'static str, u8) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return std::future::pending().await; // no handlers: the default action stays
    };
    tokio::select! {
        _ = int.recv() => ("SIGINT", 130),
        _ = term.recv() => ("SIGTERM", 143),
    }
}

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
    // Ctrl-C and SIGTERM (a pod being stopped) end the command by dropping it: scratch folders
    // and temp files are removed as their owners drop, extraction threads are stopped, and the
    // runtime waits a moment for them before the process exits.
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = cli::run(args) => Ok(result),
            signal = interrupted() => Err(signal),
        }
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let result = match outcome {
        Ok(result) => result,
        Err((name, code)) => {
            eprintln!("zoo-oci: stopped by {name}; temporary files were removed");
            return ExitCode::from(code);
        }
    };
    match result {
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
