//! The state shared by every request: configuration, the relying party and the two stores.

use std::time::Duration;

use crate::config::Config;
use crate::oidc::{PendingLogin, RelyingParty, SignedIn};
use crate::store::TtlStore;

/// A sign-in must come back from Tessera within ten minutes.
pub const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
/// The portal's own sessions last eight hours, whatever the tokens say.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);
/// Bounds on memory: entries alive at once.
const MAX_PENDING_LOGINS: usize = 10_000;
const MAX_SESSIONS: usize = 10_000;

pub struct AppState {
    pub config: Config,
    pub rp: RelyingParty,
    pub pending: TtlStore<PendingLogin>,
    pub sessions: TtlStore<SignedIn>,
    pub cookies: CookieNames,
}

/// The portal's cookie names. Browsers share cookies between ports of one host, so two
/// portals on `localhost:8081` and `localhost:8082` (the demo) need different names: the
/// port is part of each name.
#[derive(Debug, Clone)]
pub struct CookieNames {
    pub login: String,
    pub session: String,
    pub signed_out: String,
}

impl CookieNames {
    pub fn for_base_url(base_url: &str) -> Self {
        let suffix = url::Url::parse(base_url).ok().and_then(|u| u.port()).map(|p| format!("_{p}")).unwrap_or_default();
        CookieNames {
            login: format!("portal_login{suffix}"),
            session: format!("portal_session{suffix}"),
            signed_out: format!("portal_signed_out{suffix}"),
        }
    }
}

impl AppState {
    pub fn new(config: Config, rp: RelyingParty) -> Self {
        let cookies = CookieNames::for_base_url(config.base_url.as_str());
        Self {
            config,
            rp,
            cookies,
            pending: TtlStore::new(LOGIN_TTL, MAX_PENDING_LOGINS),
            sessions: TtlStore::new(SESSION_TTL, MAX_SESSIONS),
        }
    }
}
