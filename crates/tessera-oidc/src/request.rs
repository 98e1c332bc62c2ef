//! Parsing an authorization request (OIDC Core §3.1.2.1, RFC 6749 §4.1.1) from its raw
//! parameters, whether they came in the query string or in a form POST (OIDC Core §3.1.2.1).
//!
//! The order of the checks matters (RFC 6749 §4.1.2.1, RFC 9700 §4.1): the client and the
//! redirect URI are established first, and any problem with them is a [`AuthorizeError::Fatal`]
//! error page, never a redirect. Only once the redirect URI is known to be registered for that
//! client are other problems sent back to it as [`AuthorizeError::Redirect`].
//!
//! General rules (RFC 6749 §3.1): a repeated parameter is `invalid_request`; a parameter with
//! an empty value counts as absent; unknown parameters are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use tessera_domain::{ACR_PASSKEY, ACR_PASSWORD, Client, ClientId, TokenEndpointAuthMethod, acr_level, weakest_level};

use crate::claims::{ClaimsRequest, claim_def, claims_for_scopes};
use crate::error::OAuthError;
use crate::pkce::CodeChallenge;
use crate::redirect::matches_registered;
use crate::response::error_redirect;
use crate::scope::{OPENID, ScopeSet};

/// The longest `state` accepted and echoed, in bytes.
pub const MAX_STATE_LEN: usize = 2048;
/// The longest `nonce` accepted, in bytes.
pub const MAX_NONCE_LEN: usize = 512;
/// The longest `login_hint` accepted, in bytes.
pub const MAX_LOGIN_HINT_LEN: usize = 256;
/// The longest `id_token_hint` accepted, in bytes.
pub const MAX_ID_TOKEN_HINT_LEN: usize = 8192;
/// The longest `ui_locales` or `claims_locales` accepted, in bytes.
pub const MAX_LOCALES_LEN: usize = 256;
/// The longest `acr_values` accepted, in bytes.
pub const MAX_ACR_VALUES_LEN: usize = 1024;
/// The largest `max_age` accepted: ten years of seconds.
pub const MAX_MAX_AGE: u64 = 10 * 365 * 24 * 3600;

/// The parameters this parser reads. Any other parameter is ignored, repeated or not.
const KNOWN: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "display",
    "code_challenge",
    "code_challenge_method",
    "login_hint",
    "id_token_hint",
    "acr_values",
    "ui_locales",
    "claims_locales",
    "claims",
    "request",
    "request_uri",
];

/// Why a request gets an error page instead of a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FatalReason {
    MissingClientId,
    RepeatedClientId,
    /// Not a syntactically valid client id.
    InvalidClientId,
    UnknownClient,
    DisabledClient,
    MissingRedirectUri,
    RepeatedRedirectUri,
    /// The redirect URI is not one registered for the client (exact string match).
    UnregisteredRedirectUri,
    /// The authorization request being continued has expired or was already completed
    /// (not produced by the parser: used when a pending request cannot be found).
    Expired,
}

impl FatalReason {
    /// A stable code for logs and message catalogs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingClientId => "missing_client_id",
            Self::RepeatedClientId => "repeated_client_id",
            Self::InvalidClientId => "invalid_client_id",
            Self::UnknownClient => "unknown_client",
            Self::DisabledClient => "disabled_client",
            Self::MissingRedirectUri => "missing_redirect_uri",
            Self::RepeatedRedirectUri => "repeated_redirect_uri",
            Self::UnregisteredRedirectUri => "unregistered_redirect_uri",
            Self::Expired => "expired",
        }
    }

    /// An English explanation for the error page.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::MissingClientId => "The request does not say which application is asking (client_id is missing).",
            Self::RepeatedClientId => "The request names the application more than once (client_id is repeated).",
            Self::InvalidClientId => "The application identifier (client_id) is not valid.",
            Self::UnknownClient => "The application asking to sign you in is not registered.",
            Self::DisabledClient => "The application asking to sign you in has been disabled.",
            Self::MissingRedirectUri => "The request does not say where to return (redirect_uri is missing).",
            Self::RepeatedRedirectUri => "The request gives more than one return address (redirect_uri is repeated).",
            Self::UnregisteredRedirectUri => {
                "The return address (redirect_uri) is not registered for this application."
            }
            Self::Expired => {
                "This sign-in request has expired or was already completed. Return to the application and start again."
            }
        }
    }
}

impl fmt::Display for FatalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authorization request that cannot proceed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// Show an error page; never redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.1.1).
    #[error("authorization request refused with an error page: {0}")]
    Fatal(FatalReason),
    /// Redirect to `redirect_uri` (registered for the client) with the error
    /// (see [`crate::response::error_redirect`]).
    #[error("authorization request refused: {error}")]
    Redirect { redirect_uri: String, state: Option<String>, error: OAuthError },
}

impl AuthorizeError {
    /// For a `Redirect` error, the URL to redirect to (with `error`, `error_description`,
    /// `state` and `iss`); `None` for a `Fatal` one.
    #[must_use]
    pub fn redirect_url(&self, issuer: &str) -> Option<String> {
        match self {
            Self::Fatal(_) => None,
            Self::Redirect { redirect_uri, state, error } => {
                Some(error_redirect(redirect_uri, error, state.as_deref(), issuer))
            }
        }
    }
}

/// A `prompt` value (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    None,
    Login,
    Consent,
    SelectAccount,
}

impl Prompt {
    /// The value as sent.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Login => "login",
            Self::Consent => "consent",
            Self::SelectAccount => "select_account",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::None, Self::Login, Self::Consent, Self::SelectAccount].into_iter().find(|p| p.as_str() == s)
    }
}

/// A `display` value (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplayMode {
    Page,
    Popup,
    Touch,
    Wap,
}

impl DisplayMode {
    /// Every value, for `display_values_supported`.
    pub const ALL: [DisplayMode; 4] = [Self::Page, Self::Popup, Self::Touch, Self::Wap];

    /// The value as sent.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Popup => "popup",
            Self::Touch => "touch",
            Self::Wap => "wap",
        }
    }
}

/// A valid authorization request, ready to be kept in the session store while the citizen
/// signs in and consents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    /// Exactly as sent, and registered for the client.
    pub redirect_uri: String,
    /// Echoed byte-exact in the response.
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The supported scopes requested (unknown ones dropped); always contains `openid`, and
    /// only scopes the client is allowed.
    pub scope: ScopeSet,
    #[serde(default)]
    pub prompt: BTreeSet<Prompt>,
    pub max_age: Option<u64>,
    pub code_challenge: Option<CodeChallenge>,
    pub login_hint: Option<String>,
    /// Kept raw; the caller verifies it (signature by Tessera, `aud`, expiry tolerance).
    pub id_token_hint: Option<String>,
    /// Requested ACRs in order of preference, without duplicates.
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// Space-separated BCP 47 tags, in order of preference.
    pub ui_locales: Option<String>,
    pub claims_locales: Option<String>,
    /// The `claims` parameter; catalogue claims whose scope the client is not allowed were removed.
    #[serde(default)]
    pub claims: ClaimsRequest,
    pub display: Option<DisplayMode>,
}

/// The authentication level a request demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    /// Any sign-in will do.
    Any,
    /// A level of [`tessera_domain::ACR_VALUES`] (an index) or a stronger one.
    AtLeast(usize),
    /// An essential `acr` Tessera cannot perform.
    Unavailable,
}

impl Assurance {
    /// Whether a session signed in at `acr` meets this demand.
    #[must_use]
    pub fn met_by(self, acr: &str) -> bool {
        match self {
            Assurance::Any => true,
            Assurance::AtLeast(level) => acr_level(acr).is_some_and(|l| l >= level),
            Assurance::Unavailable => false,
        }
    }

    /// Whether only a passkey sign-in meets this demand.
    #[must_use]
    pub fn needs_passkey(self) -> bool {
        !self.met_by(ACR_PASSWORD) && self.met_by(ACR_PASSKEY)
    }
}

impl AuthorizationRequest {
    /// Whether `prompt=none` was sent: no UI may be shown (OIDC Core §3.1.2.1).
    #[must_use]
    pub fn prompt_none(&self) -> bool {
        self.prompt.contains(&Prompt::None)
    }

    /// Whether `prompt=login` was sent: the citizen must sign in again.
    #[must_use]
    pub fn prompt_login(&self) -> bool {
        self.prompt.contains(&Prompt::Login)
    }

    /// Whether `prompt=consent` was sent: consent must be asked even if stored.
    #[must_use]
    pub fn prompt_consent(&self) -> bool {
        self.prompt.contains(&Prompt::Consent)
    }

    /// Whether `prompt=select_account` was sent.
    #[must_use]
    pub fn prompt_select_account(&self) -> bool {
        self.prompt.contains(&Prompt::SelectAccount)
    }

    /// The catalogue claims (see [`crate::claims::CLAIMS`]) this request asks for: those its
    /// scopes release (OIDC Core §5.4) plus those named in the `claims` parameter (§5.5).
    /// Names outside the catalogue (`acr`, `auth_time`, unknown claims) are not included.
    #[must_use]
    pub fn requested_claims(&self) -> BTreeSet<String> {
        let from_scopes = claims_for_scopes(&self.scope).into_iter().map(|c| c.name.to_owned());
        let from_param = self.claims.requested().into_iter().filter(|n| claim_def(n).is_some());
        from_scopes.chain(from_param).collect()
    }

    /// The catalogue claims marked essential in the `claims` parameter.
    #[must_use]
    pub fn essential_claims(&self) -> BTreeSet<String> {
        self.claims.essential().into_iter().filter(|n| claim_def(n).is_some()).collect()
    }

    /// The authentication level this request demands (see [`tessera_domain::ACR_VALUES`]):
    /// an essential `acr` in `claims` first, then `acr_values` or a voluntary `acr` claim.
    /// Tessera treats a named level as a minimum: a citizen signed in below it is asked to
    /// sign in again at that level (step-up). Unknown values are ignored, except that an
    /// essential `acr` naming only unknown values can never be met.
    #[must_use]
    pub fn assurance(&self) -> Assurance {
        let requested = self.claims.acr_request().filter(|(_, values)| !values.is_empty());
        match requested {
            Some((true, values)) => match weakest_level(values.iter().map(String::as_str)) {
                Some(level) => Assurance::AtLeast(level),
                None => Assurance::Unavailable,
            },
            Some((false, values)) => {
                let named = values.iter().chain(&self.acr_values).map(String::as_str);
                weakest_level(named).map_or(Assurance::Any, Assurance::AtLeast)
            }
            None => {
                weakest_level(self.acr_values.iter().map(String::as_str)).map_or(Assurance::Any, Assurance::AtLeast)
            }
        }
    }

    /// The `ui_locales` tags in order of preference.
    #[must_use]
    pub fn ui_locales_list(&self) -> Vec<&str> {
        self.ui_locales.as_deref().map(|l| l.split(' ').filter(|t| !t.is_empty()).collect()).unwrap_or_default()
    }
}

/// The known parameters of one request: the single non-empty value of each, and which were
/// repeated.
struct Params<'a> {
    values: BTreeMap<&'static str, &'a str>,
    repeated: BTreeSet<&'static str>,
}

impl<'a> Params<'a> {
    fn collect(params: &'a [(String, String)]) -> Self {
        let mut seen = BTreeSet::new();
        let mut values = BTreeMap::new();
        let mut repeated = BTreeSet::new();
        for (name, value) in params {
            let Some(known) = KNOWN.iter().copied().find(|k| *k == name) else {
                continue;
            };
            if !seen.insert(known) {
                repeated.insert(known);
            }
            if !value.is_empty() {
                values.insert(known, value.as_str());
            }
        }
        Self { values, repeated }
    }

    /// The value, unless absent, empty or repeated.
    fn get(&self, name: &str) -> Option<&'a str> {
        if self.repeated.contains(name) { None } else { self.values.get(name).copied() }
    }

    fn is_repeated(&self, name: &str) -> bool {
        self.repeated.contains(name)
    }
}

/// The `client_id` of a request, if it carries exactly one valid one: lets the caller load the
/// client (asynchronously) before calling [`parse_authorization_request`].
#[must_use]
pub fn requested_client_id(params: &[(String, String)]) -> Option<ClientId> {
    Params::collect(params).get("client_id").and_then(|id| ClientId::parse(id).ok())
}

/// Parses and checks an authorization request.
///
/// `find_client` looks up the client named by `client_id` (called at most once).
///
/// [`AuthorizeError::Fatal`], checked first, in this order: `client_id` repeated, missing or
/// malformed; client unknown or disabled; `redirect_uri` repeated or missing (OIDC Core
/// §3.1.2.1 makes it required); `redirect_uri` not exactly one of the client's registered URIs.
///
/// [`AuthorizeError::Redirect`] for everything after that:
/// - any known parameter repeated, or `state` longer than [`MAX_STATE_LEN`]: `invalid_request`
///   (the error then carries no `state`);
/// - `request`: `request_not_supported`; `request_uri`: `request_uri_not_supported` (OIDC Core
///   §6; Tessera never fetches a `request_uri`);
/// - `response_type` missing: `invalid_request`; not exactly `code`: `unsupported_response_type`
///   (authorization code flow only, RFC 9700 §2.1.2);
/// - `response_mode` other than `query`: `invalid_request`;
/// - `scope` missing, malformed or without `openid`: `invalid_scope`; a supported scope the
///   client is not allowed: `invalid_scope`; unknown scopes are dropped (RFC 6749 §3.3);
/// - PKCE (RFC 7636, [`CodeChallenge::parse`]): malformed or not `S256`: `invalid_request`; no
///   challenge when the client requires PKCE, or is a public client: `invalid_request`;
/// - `prompt` with an unknown value, or `none` with another value: `invalid_request`;
/// - `max_age` not a decimal integer in 0..=[`MAX_MAX_AGE`]: `invalid_request`;
/// - `display` not one of `page`, `popup`, `touch`, `wap`: `invalid_request`;
/// - `nonce`, `login_hint`, `id_token_hint`, `ui_locales`, `claims_locales` or `acr_values`
///   too long or malformed, or a malformed `claims`: `invalid_request`.
pub fn parse_authorization_request(
    params: &[(String, String)],
    find_client: impl FnOnce(&ClientId) -> Option<Client>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    use FatalReason::*;
    let p = Params::collect(params);
    let fatal = AuthorizeError::Fatal;

    if p.is_repeated("client_id") {
        return Err(fatal(RepeatedClientId));
    }
    let client_id =
        ClientId::parse(p.get("client_id").ok_or(fatal(MissingClientId))?).map_err(|_| fatal(InvalidClientId))?;
    let client = find_client(&client_id).filter(|c| c.id == client_id).ok_or(fatal(UnknownClient))?;
    if !client.enabled {
        return Err(fatal(DisabledClient));
    }
    if p.is_repeated("redirect_uri") {
        return Err(fatal(RepeatedRedirectUri));
    }
    let redirect_uri = p.get("redirect_uri").ok_or(fatal(MissingRedirectUri))?;
    if !matches_registered(&client.redirect_uris, redirect_uri) {
        return Err(fatal(UnregisteredRedirectUri));
    }

    // From here on, errors go back to the client's registered redirect URI.
    let state = p.get("state").filter(|s| s.len() <= MAX_STATE_LEN).map(str::to_owned);
    check_rest(&p, &client, client_id, redirect_uri, state.clone()).map_err(|error| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state,
        error,
    })
}

fn check_rest(
    p: &Params<'_>,
    client: &Client,
    client_id: ClientId,
    redirect_uri: &str,
    state: Option<String>,
) -> Result<AuthorizationRequest, OAuthError> {
    if let Some(name) = p.repeated.iter().next() {
        return Err(OAuthError::invalid_request(format!("parameter {name} is repeated")));
    }
    if p.get("state").is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(OAuthError::invalid_request("state is too long"));
    }
    if p.get("request").is_some() {
        return Err(OAuthError::request_not_supported("the request parameter is not supported"));
    }
    if p.get("request_uri").is_some() {
        return Err(OAuthError::request_uri_not_supported("the request_uri parameter is not supported"));
    }
    match p.get("response_type") {
        None => return Err(OAuthError::invalid_request("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::unsupported_response_type("only the authorization code flow (code) is supported"));
        }
    }
    if p.get("response_mode").is_some_and(|m| m != "query") {
        return Err(OAuthError::invalid_request("only response_mode query is supported"));
    }

    let scope = parse_scope(p.get("scope"), client)?;
    let code_challenge = CodeChallenge::parse(p.get("code_challenge"), p.get("code_challenge_method"))?;
    let pkce_required = client.require_pkce || client.token_endpoint_auth_method == TokenEndpointAuthMethod::None;
    if pkce_required && code_challenge.is_none() {
        return Err(OAuthError::invalid_request("code_challenge is required (PKCE with S256)"));
    }

    let prompt = parse_prompt(p.get("prompt"))?;
    let max_age = p.get("max_age").map(parse_max_age).transpose()?;
    let display = p
        .get("display")
        .map(|d| {
            DisplayMode::ALL
                .into_iter()
                .find(|m| m.as_str() == d)
                .ok_or_else(|| OAuthError::invalid_request("display must be page, popup, touch or wap"))
        })
        .transpose()?;
    let nonce = bounded(p.get("nonce"), MAX_NONCE_LEN, "nonce")?;
    let login_hint = bounded(p.get("login_hint"), MAX_LOGIN_HINT_LEN, "login_hint")?;
    let id_token_hint = bounded(p.get("id_token_hint"), MAX_ID_TOKEN_HINT_LEN, "id_token_hint")?;
    let ui_locales = locales(p.get("ui_locales"), "ui_locales")?;
    let claims_locales = locales(p.get("claims_locales"), "claims_locales")?;
    let acr_values = parse_acr_values(p.get("acr_values"))?;
    let mut claims = p.get("claims").map(ClaimsRequest::parse).transpose()?.unwrap_or_default();
    // A client may not reach, through `claims`, data that its allowed scopes do not release.
    claims.retain(|name| claim_def(name).is_none_or(|def| client.allowed_scopes.iter().any(|s| s == def.scope)));

    Ok(AuthorizationRequest {
        client_id,
        redirect_uri: redirect_uri.to_owned(),
        state,
        nonce,
        scope,
        prompt,
        max_age,
        code_challenge,
        login_hint,
        id_token_hint,
        acr_values,
        ui_locales,
        claims_locales,
        claims,
        display,
    })
}

fn parse_scope(raw: Option<&str>, client: &Client) -> Result<ScopeSet, OAuthError> {
    let requested =
        ScopeSet::parse(raw.ok_or_else(|| OAuthError::invalid_scope("scope is missing; openid is required"))?)?;
    if !requested.contains(OPENID) {
        return Err(OAuthError::invalid_scope("the openid scope is required"));
    }
    let scope = requested.supported_only();
    if let Some(denied) = scope.iter().find(|s| !client.allowed_scopes.iter().any(|a| a == s)) {
        return Err(OAuthError::invalid_scope(format!("scope {denied} is not allowed for this client")));
    }
    Ok(scope)
}

fn parse_prompt(raw: Option<&str>) -> Result<BTreeSet<Prompt>, OAuthError> {
    let mut prompt = BTreeSet::new();
    for value in raw.unwrap_or_default().split(' ').filter(|v| !v.is_empty()) {
        prompt.insert(Prompt::parse(value).ok_or_else(|| {
            OAuthError::invalid_request("prompt values must be none, login, consent or select_account")
        })?);
    }
    if prompt.contains(&Prompt::None) && prompt.len() > 1 {
        return Err(OAuthError::invalid_request("prompt none cannot be combined with other values"));
    }
    Ok(prompt)
}

fn parse_max_age(raw: &str) -> Result<u64, OAuthError> {
    let invalid = || OAuthError::invalid_request(format!("max_age must be an integer from 0 to {MAX_MAX_AGE}"));
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    raw.parse::<u64>().ok().filter(|v| *v <= MAX_MAX_AGE).ok_or_else(invalid)
}

fn bounded(raw: Option<&str>, max: usize, name: &str) -> Result<Option<String>, OAuthError> {
    match raw {
        Some(v) if v.len() > max => Err(OAuthError::invalid_request(format!("{name} is longer than {max} bytes"))),
        Some(v) => Ok(Some(v.to_owned())),
        None => Ok(None),
    }
}

/// A space-separated list of BCP 47 language tags (OIDC Core §3.1.2.1, §5.2); only the
/// characters of tags are checked, not the registry.
fn locales(raw: Option<&str>, name: &str) -> Result<Option<String>, OAuthError> {
    let Some(raw) = bounded(raw, MAX_LOCALES_LEN, name)? else {
        return Ok(None);
    };
    if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b' ') {
        return Err(OAuthError::invalid_request(format!("{name} must be space-separated language tags")));
    }
    Ok(Some(raw))
}

fn parse_acr_values(raw: Option<&str>) -> Result<Vec<String>, OAuthError> {
    let raw = bounded(raw, MAX_ACR_VALUES_LEN, "acr_values")?.unwrap_or_default();
    let mut values: Vec<String> = Vec::new();
    for value in raw.split(' ').filter(|v| !v.is_empty()) {
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(OAuthError::invalid_request("acr_values must be space-separated printable ASCII"));
        }
        if !values.iter().any(|v| v == value) {
            values.push(value.to_owned());
        }
    }
    Ok(values)
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
