//! Integration tests: the real server on a loopback port, driven over HTTP.
//! One binary; `helpers::spawn_app()` starts a server with its own database and store,
//! on SQLite + memory or, under `TESSERA_TEST_STACK=production`, PostgreSQL + Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod binary;
mod cluster;
mod fixtures;
mod health;
mod helpers;
mod oidc;
mod pages;
mod signup;
