//! The OpenID Connect flows, driven by a real relying party (the `openidconnect` crate)
//! and a cookie-keeping HTTP client in the role of the browser.

pub mod browser;
pub mod flows;
pub mod rp;

mod account;
mod authorize;
mod authorize_pages;
mod authorize_prompt;
mod client_auth;
mod code_flow;
mod dashboard;
mod discovery;
mod introspection;
mod logout;
mod refresh;
mod step_up;
mod throttling;
mod token;
mod userinfo;
