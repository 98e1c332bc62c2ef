//! What every handler can reach: built once in the server's `main`, passed as `web::Data`.

use crate::client_ip::TrustedProxies;
use crate::metrics::{Metrics, MetricsAccess};
use crate::pages::Pages;
use tessera_oidc::KeyManager;
use tessera_oidc::service::Oidc;
use tessera_passkey::{PasskeyService, PasswordService, SignInService, SignupService};
use tessera_session::AnySessionStore;
use tessera_store::Db;
use url::Url;

/// Settings the web layer needs, already validated by the server's configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// The issuer URL: the public base URL of this Tessera, never taken from the Host header.
    pub issuer: Url,
    /// New clients and changes of their redirect URIs or scopes need a second operator.
    pub maker_checker: bool,
    /// How recent an operator's passkey sign-in must be on the admin pages.
    pub admin_recent_sign_in_secs: i64,
    /// Proxies whose `X-Forwarded-For` names the client (see [`crate::client_ip`]).
    pub trusted_proxies: TrustedProxies,
    /// Who may read `/metrics`.
    pub metrics_access: MetricsAccess,
}

impl WebSettings {
    /// The client's address for throttling and the audit trail (see [`crate::client_ip`]).
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> String {
        crate::client_ip::client_ip(req, &self.trusted_proxies)
    }

    /// Cookies are `Secure` and `__Host-` prefixed whenever the issuer is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.scheme() == "https"
    }

    /// The name of a cookie, with the `__Host-` prefix when cookies are secure.
    pub fn cookie_name(&self, base: &str) -> String {
        if self.secure_cookies() { format!("__Host-{base}") } else { base.to_owned() }
    }
}

/// Shared application state.
pub struct AppState {
    pub settings: WebSettings,
    pub pages: Pages,
    pub db: Db,
    pub sessions: AnySessionStore,
    pub keys: KeyManager,
    pub oidc: Oidc,
    pub signin: SignInService,
    pub signup: SignupService,
    pub passkeys: PasskeyService,
    pub passwords: PasswordService,
    /// What this node has answered, for `/metrics`.
    pub metrics: Metrics,
}
