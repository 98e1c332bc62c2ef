//! `department-portal`: reads `PORTAL_*` variables, discovers Tessera and serves the portal.

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let result = async {
        let config = department_portal::Config::from_env()?;
        let (server, _port) = department_portal::build(config).await?;
        server.await?;
        anyhow::Ok(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("department-portal: {err:#}");
            ExitCode::FAILURE
        }
    }
}
