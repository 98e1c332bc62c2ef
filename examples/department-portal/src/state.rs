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
}

impl AppState {
    pub fn new(config: Config, rp: RelyingParty) -> Self {
        Self {
            config,
            rp,
            pending: TtlStore::new(LOGIN_TTL, MAX_PENDING_LOGINS),
            sessions: TtlStore::new(SESSION_TTL, MAX_SESSIONS),
        }
    }
}
