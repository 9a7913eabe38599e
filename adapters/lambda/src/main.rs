//! `bootstrap`: the Lambda custom-runtime entry point. Everything lives in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    clickclack_lambda::run().await
}
