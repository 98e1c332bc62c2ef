//! The command line: `tessera serve`, `tessera migrate`, `tessera keys ...`, `tessera client add`,
//! `tessera citizen add`, `tessera admin invite`.

use crate::config::{self, Settings};
use crate::startup::{self, Application};
use crate::telemetry;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "tessera", version, about = "Tessera: single sign-on digital identity for government services")]
pub struct Cli {
    /// Configuration file (default: ./tessera.toml when present).
    #[arg(long, global = true, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default when no command is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage the token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage citizens' accounts (for operators' scripts and bulk onboarding).
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// Manage department clients (for operators' scripts).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Operators of the admin page.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Print a one-time link (24 hours) with which a new operator creates their account and passkey.
    Invite(crate::commands::admin::AdminInviteArgs),
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a department's client; prints its id and, once, its secret.
    Add(Box<crate::commands::client::ClientAddArgs>),
}

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Create a citizen's account with a password and profile.
    Add(Box<crate::commands::citizen::CitizenAddArgs>),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys and their state.
    List,
    /// Make each algorithm's next key active and create a new next key.
    Rotate,
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = config::load(cli.config.as_deref())?;
    telemetry::init(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Migrate => {
            let applied = startup::migrate(&settings).await?;
            if applied.is_empty() {
                println!("database is up to date");
            } else {
                for name in applied {
                    println!("applied {name}");
                }
            }
            Ok(())
        }
        Command::Keys(command) => crate::services::keys_command(&settings, command).await,
        Command::Citizen(CitizenCommand::Add(args)) => crate::commands::citizen::citizen_add(&settings, *args).await,
        Command::Client(ClientCommand::Add(args)) => crate::commands::client::client_add(&settings, *args).await,
        Command::Admin(AdminCommand::Invite(args)) => crate::commands::admin::admin_invite(&settings, args).await,
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run_until_stopped().await.context("the server stopped with an error")?;
    tracing::info!("tessera stopped");
    Ok(())
}

/// An error and its causes on one line: `outer: inner: root`.
pub fn one_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
