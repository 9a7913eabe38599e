//! The `clickclack` binary: parse the command line, dispatch. Everything else lives in the
//! library (see `lib.rs`).

use clickclack::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    clickclack::commands::dispatch(Cli::parse_process())
}
