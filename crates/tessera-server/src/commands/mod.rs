pub mod admin;
pub mod citizen;
pub mod client;
