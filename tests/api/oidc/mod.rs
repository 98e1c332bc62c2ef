//! The OpenID Connect flows, driven by a real relying party (the `openidconnect` crate)
//! and a cookie-keeping HTTP client in the role of the browser.

pub mod browser;
pub mod rp;

mod code_flow;
