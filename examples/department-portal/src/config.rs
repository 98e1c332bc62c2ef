//! The portal's configuration, read once from `PORTAL_*` environment variables and turned into
//! validated types at the edge. Every error names the variable it is about.

use std::net::SocketAddr;
use std::time::Duration;

use openidconnect::{AuthenticationContextClass, ClientId, ClientSecret, IssuerUrl, Scope};
use url::Url;

const DEFAULT_LISTEN: &str = "127.0.0.1:8081";
const DEFAULT_SCOPES: &str = "openid profile email phone address";
const DEFAULT_DEPARTMENT_EN: &str = "Transport Department";
const DEFAULT_DEPARTMENT_ZH: &str = "運輸署";
const DEFAULT_DISCOVERY_WAIT_SECS: u64 = 30;

/// A configuration error; its message starts with the variable's name.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{var}: {reason}")]
    Invalid { var: &'static str, reason: String },
}

impl ConfigError {
    fn invalid(var: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { var, reason: reason.into() }
    }
}

/// The department's own public URL, without a trailing slash (`https://portal.example.gov`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw.trim()).map_err(|err| format!("not a URL: {err}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL".into());
        }
        if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
            return Err("must not have a query or fragment".into());
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The redirect URI registered with Tessera: `{base}/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.0)
    }

    /// Where Tessera sends the browser after signing out: `{base}/`.
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.0)
    }

    /// Cookies get the `Secure` flag when the portal is served over HTTPS.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

/// The department's name in both languages.
#[derive(Clone, Debug)]
pub struct Department {
    pub en: String,
    pub zh: String,
}

/// Validated settings of the portal.
#[derive(Clone, Debug)]
pub struct Config {
    /// Tessera's issuer URL, exactly as it appears in its discovery document.
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    /// Printed as `ClientSecret([redacted])` by `Debug`.
    pub client_secret: ClientSecret,
    pub base_url: BaseUrl,
    pub listen: SocketAddr,
    pub department: Department,
    /// Scopes besides `openid`, which is always requested.
    pub scopes: Vec<Scope>,
    /// Requested authentication context classes; when set, the ID token's `acr` must be one of them.
    pub acr_values: Vec<AuthenticationContextClass>,
    /// How long startup keeps retrying discovery while Tessera is not up yet.
    pub discovery_wait: Duration,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `var`, which returns a variable's value if it is set.
    /// Empty values count as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| var(name).filter(|value| !value.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));

        let issuer = parse_issuer(&required("PORTAL_ISSUER")?)?;
        let client_id = ClientId::new(required("PORTAL_CLIENT_ID")?.trim().to_owned());
        let client_secret = read_secret(get("PORTAL_CLIENT_SECRET"), get("PORTAL_CLIENT_SECRET_FILE"))?;
        let base_url =
            BaseUrl::parse(&required("PORTAL_BASE_URL")?).map_err(|r| ConfigError::invalid("PORTAL_BASE_URL", r))?;
        let listen_raw = get("PORTAL_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_raw.trim().parse::<SocketAddr>().map_err(|_| {
            ConfigError::invalid("PORTAL_LISTEN", format!("`{listen_raw}` is not an address like 127.0.0.1:8081"))
        })?;
        let department = Department {
            en: get("PORTAL_DEPARTMENT_EN").unwrap_or_else(|| DEFAULT_DEPARTMENT_EN.to_owned()).trim().to_owned(),
            zh: get("PORTAL_DEPARTMENT_ZH").unwrap_or_else(|| DEFAULT_DEPARTMENT_ZH.to_owned()).trim().to_owned(),
        };
        let scopes = parse_scopes(&get("PORTAL_SCOPES").unwrap_or_else(|| DEFAULT_SCOPES.to_owned()))?;
        let acr_values = match get("PORTAL_ACR_VALUES") {
            Some(raw) => {
                parse_tokens("PORTAL_ACR_VALUES", &raw)?.into_iter().map(AuthenticationContextClass::new).collect()
            }
            None => Vec::new(),
        };
        let discovery_wait = match get("PORTAL_DISCOVERY_WAIT_SECS") {
            Some(raw) => Duration::from_secs(raw.trim().parse::<u64>().map_err(|_| {
                ConfigError::invalid("PORTAL_DISCOVERY_WAIT_SECS", "must be a whole number of seconds")
            })?),
            None => Duration::from_secs(DEFAULT_DISCOVERY_WAIT_SECS),
        };
        Ok(Self { issuer, client_id, client_secret, base_url, listen, department, scopes, acr_values, discovery_wait })
    }
}

fn parse_issuer(raw: &str) -> Result<IssuerUrl, ConfigError> {
    const VAR: &str = "PORTAL_ISSUER";
    let raw = raw.trim();
    let issuer =
        IssuerUrl::new(raw.to_owned()).map_err(|err| ConfigError::invalid(VAR, format!("not a URL: {err}")))?;
    let url = issuer.url();
    match url.scheme() {
        "https" if !cfg!(feature = "rustls-tls") => {
            return Err(ConfigError::invalid(
                VAR,
                "https:// issuers need the portal built with `--features rustls-tls`",
            ));
        }
        "http" | "https" => {}
        _ => return Err(ConfigError::invalid(VAR, "must be an http:// or https:// URL")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::invalid(VAR, "must not have a query or fragment"));
    }
    Ok(issuer)
}

fn read_secret(inline: Option<String>, file: Option<String>) -> Result<ClientSecret, ConfigError> {
    let secret = match (inline, file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::invalid(
                "PORTAL_CLIENT_SECRET",
                "set either PORTAL_CLIENT_SECRET or PORTAL_CLIENT_SECRET_FILE, not both",
            ));
        }
        (Some(secret), None) => secret.trim().to_owned(),
        (None, Some(path)) => {
            let path = path.trim();
            let contents = std::fs::read_to_string(path).map_err(|err| {
                ConfigError::invalid("PORTAL_CLIENT_SECRET_FILE", format!("cannot read `{path}`: {err}"))
            })?;
            let secret = contents.trim().to_owned();
            if secret.is_empty() {
                return Err(ConfigError::invalid("PORTAL_CLIENT_SECRET_FILE", format!("`{path}` is empty")));
            }
            secret
        }
        (None, None) => return Err(ConfigError::Missing("PORTAL_CLIENT_SECRET (or PORTAL_CLIENT_SECRET_FILE)")),
    };
    Ok(ClientSecret::new(secret))
}

fn parse_scopes(raw: &str) -> Result<Vec<Scope>, ConfigError> {
    Ok(parse_tokens("PORTAL_SCOPES", raw)?
        .into_iter()
        .filter(|scope| scope != "openid") // openidconnect always sends `openid` itself
        .map(Scope::new)
        .collect())
}

/// Splits a space-separated list of RFC 6749 tokens (printable ASCII except `"` and `\`),
/// dropping duplicates and keeping the order.
fn parse_tokens(var: &'static str, raw: &str) -> Result<Vec<String>, ConfigError> {
    let mut tokens: Vec<String> = Vec::new();
    for token in raw.split_whitespace() {
        if !token.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\') {
            return Err(ConfigError::invalid(var, format!("`{token}` is not a valid value")));
        }
        if !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_owned());
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    const MINIMAL: &[(&str, &str)] = &[
        ("PORTAL_ISSUER", "http://localhost:8080"),
        ("PORTAL_CLIENT_ID", "transport-portal"),
        ("PORTAL_CLIENT_SECRET", "s3cret"),
        ("PORTAL_BASE_URL", "http://localhost:8081/"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut all: Vec<_> = MINIMAL.iter().filter(|(k, _)| !extra.iter().any(|(e, _)| e == k)).copied().collect();
        all.extend_from_slice(extra);
        all
    }

    fn error_of(pairs: &[(&str, &str)]) -> String {
        match Config::from_vars(vars(pairs)) {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn minimal_configuration_gets_defaults() {
        let config = Config::from_vars(vars(MINIMAL)).unwrap();
        assert_eq!(config.issuer.as_str(), "http://localhost:8080");
        assert_eq!(config.client_id.as_str(), "transport-portal");
        assert_eq!(config.client_secret.secret(), "s3cret");
        assert_eq!(config.base_url.redirect_uri(), "http://localhost:8081/callback");
        assert_eq!(config.base_url.post_logout_redirect_uri(), "http://localhost:8081/");
        assert!(!config.base_url.is_https());
        assert_eq!(config.listen, "127.0.0.1:8081".parse().unwrap());
        assert_eq!(config.department.en, "Transport Department");
        assert_eq!(config.department.zh, "運輸署");
        let scopes: Vec<&str> = config.scopes.iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, ["profile", "email", "phone", "address"]);
        assert!(config.acr_values.is_empty());
        assert_eq!(config.discovery_wait, Duration::from_secs(30));
    }

    #[test]
    fn optional_variables_are_parsed() {
        let config = Config::from_vars(vars(&with(&[
            ("PORTAL_LISTEN", "0.0.0.0:0"),
            ("PORTAL_DEPARTMENT_EN", "Immigration Department"),
            ("PORTAL_DEPARTMENT_ZH", "入境事務處"),
            ("PORTAL_SCOPES", "openid  email email"),
            ("PORTAL_ACR_VALUES", "urn:tessera:loa:2 urn:tessera:loa:3"),
            ("PORTAL_DISCOVERY_WAIT_SECS", "0"),
            ("PORTAL_BASE_URL", "https://portal.example.gov/td"),
        ])))
        .unwrap();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.department.zh, "入境事務處");
        assert_eq!(config.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["email"]);
        assert_eq!(config.acr_values.len(), 2);
        assert_eq!(config.discovery_wait, Duration::ZERO);
        assert_eq!(config.base_url.redirect_uri(), "https://portal.example.gov/td/callback");
        assert!(config.base_url.is_https());
    }

    #[test]
    fn errors_name_the_variable() {
        let without = |name: &str| MINIMAL.iter().filter(|(k, _)| *k != name).copied().collect::<Vec<_>>();
        assert_eq!(error_of(&without("PORTAL_ISSUER")), "PORTAL_ISSUER is not set");
        assert_eq!(error_of(&without("PORTAL_CLIENT_ID")), "PORTAL_CLIENT_ID is not set");
        assert!(error_of(&without("PORTAL_CLIENT_SECRET")).starts_with("PORTAL_CLIENT_SECRET (or"));
        assert_eq!(error_of(&without("PORTAL_BASE_URL")), "PORTAL_BASE_URL is not set");
        assert!(error_of(&with(&[("PORTAL_ISSUER", "not a url")])).starts_with("PORTAL_ISSUER: "));
        assert!(error_of(&with(&[("PORTAL_ISSUER", "ftp://idp")])).starts_with("PORTAL_ISSUER: "));
        assert!(error_of(&with(&[("PORTAL_BASE_URL", "http://x/?a=1")])).starts_with("PORTAL_BASE_URL: "));
        assert!(error_of(&with(&[("PORTAL_LISTEN", "localhost")])).starts_with("PORTAL_LISTEN: "));
        assert!(error_of(&with(&[("PORTAL_SCOPES", "openid \"x\"")])).starts_with("PORTAL_SCOPES: "));
        assert!(error_of(&with(&[("PORTAL_DISCOVERY_WAIT_SECS", "soon")])).starts_with("PORTAL_DISCOVERY_WAIT_SECS: "));
        assert!(error_of(&with(&[("PORTAL_CLIENT_SECRET_FILE", "/x")])).contains("not both"));
        assert_eq!(error_of(&with(&[("PORTAL_ISSUER", "  ")])), "PORTAL_ISSUER is not set");
    }

    #[test]
    fn https_issuer_needs_the_tls_feature() {
        let result = Config::from_vars(vars(&with(&[("PORTAL_ISSUER", "https://id.example.gov")])));
        assert_eq!(result.is_ok(), cfg!(feature = "rustls-tls"));
    }

    #[test]
    fn secret_can_come_from_a_file() {
        let dir = std::env::temp_dir().join(format!("portal-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let path_str = path.to_str().unwrap().to_owned();
        let pairs: Vec<(&str, &str)> = MINIMAL
            .iter()
            .filter(|(k, _)| *k != "PORTAL_CLIENT_SECRET")
            .copied()
            .chain([("PORTAL_CLIENT_SECRET_FILE", path_str.as_str())])
            .collect();
        let config = Config::from_vars(vars(&pairs)).unwrap();
        assert_eq!(config.client_secret.secret(), "from-file");
        assert!(!format!("{config:?}").contains("from-file"), "Debug must not print the secret");

        std::fs::write(&path, "\n").unwrap();
        assert!(error_of(&pairs).starts_with("PORTAL_CLIENT_SECRET_FILE: "));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(error_of(&pairs).starts_with("PORTAL_CLIENT_SECRET_FILE: cannot read"));
    }
}
