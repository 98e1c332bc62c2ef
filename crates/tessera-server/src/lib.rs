//! tessera-server: the `tessera` binary's library half. Configuration, telemetry,
//! startup and the command line live here so the integration tests can start the
//! real server in-process.

pub mod cli;
pub mod commands;
pub mod config;
pub mod keyfile;
pub mod services;
pub mod startup;
pub mod telemetry;
