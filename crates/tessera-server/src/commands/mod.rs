pub mod citizen;
pub mod client;
