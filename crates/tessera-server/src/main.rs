//! `tessera`: the single binary that runs every Tessera service.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match tessera_server::cli::run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line that names the cause, never a panic or a backtrace.
            eprintln!("tessera: error: {}", tessera_server::cli::one_line(&error));
            ExitCode::FAILURE
        }
    }
}
