//! Configuration: built-in defaults, then `tessera.toml` (or `--config FILE`), then
//! `TESSERA__SECTION__KEY` environment variables. Secrets may also come from files
//! (`database.url_file`, `session.store_file`, `crypto.master_key_file`). The raw
//! values are read into plain serde structs and converted once into validated
//! [`Settings`]; every error names the setting and the reason.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_web::client_ip::{IpNetwork, TrustedProxies};
use tessera_web::metrics::MetricsAccess;
use url::Url;

/// The configuration file read when `--config` is not given (optional).
pub const DEFAULT_CONFIG_FILE: &str = "tessera.toml";

// ---------------------------------------------------------------- raw form

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub issuer: String,
    pub listen: String,
    pub data_dir: PathBuf,
    pub workers: usize,
    pub database: RawDatabase,
    pub session: RawSession,
    pub crypto: RawCrypto,
    pub log: RawLog,
    pub admin: RawAdmin,
    /// Load balancers and reverse proxies whose `X-Forwarded-For` names the client
    /// (addresses or CIDR networks); empty: the TCP peer is the client.
    pub trusted_proxies: AddressList,
    pub metrics: RawMetrics,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    /// Who may read `/metrics` (TCP peers; addresses or CIDR networks).
    pub allow: AddressList,
}

impl Default for RawMetrics {
    fn default() -> Self {
        RawMetrics { allow: AddressList::List(vec!["127.0.0.0/8".into(), "::1".into()]) }
    }
}

/// A list of addresses or networks (`trusted_proxies`, `metrics.allow`): a TOML array, or one
/// comma-separated string (as an environment variable gives it).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AddressList {
    List(Vec<String>),
    Text(String),
}

impl AddressList {
    fn entries(&self) -> Vec<&str> {
        match self {
            AddressList::List(list) => list.iter().map(String::as_str).collect(),
            AddressList::Text(text) => text.split(',').map(str::trim).filter(|e| !e.is_empty()).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAdmin {
    /// A new client, or new redirect URIs or scopes, take effect only after a second
    /// operator approves them. Off only for a single-operator development setup.
    pub maker_checker: bool,
    /// How recent an operator's passkey sign-in must be for the admin pages, in seconds.
    pub recent_sign_in_secs: u64,
}

impl Default for RawAdmin {
    fn default() -> Self {
        RawAdmin { maker_checker: true, recent_sign_in_secs: 600 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDatabase {
    pub url: Option<String>,
    pub url_file: Option<PathBuf>,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSession {
    pub store: Option<String>,
    pub store_file: Option<PathBuf>,
    pub key_prefix: String,
    pub memory_max_entries: usize,
    /// PEM certificates of the authority that issued a `rediss://` server's certificate,
    /// trusted instead of the system's authorities.
    pub tls_ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCrypto {
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    pub format: String,
    pub level: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            issuer: "http://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            workers: 0,
            database: RawDatabase::default(),
            session: RawSession::default(),
            crypto: RawCrypto::default(),
            log: RawLog::default(),
            admin: RawAdmin::default(),
            trusted_proxies: AddressList::List(Vec::new()),
            metrics: RawMetrics::default(),
        }
    }
}

impl Default for RawDatabase {
    fn default() -> Self {
        RawDatabase { url: None, url_file: None, max_connections: 8, connect_timeout_secs: 5 }
    }
}

impl Default for RawSession {
    fn default() -> Self {
        RawSession {
            store: None,
            store_file: None,
            key_prefix: "tessera:".into(),
            memory_max_entries: 100_000,
            tls_ca_file: None,
        }
    }
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog { format: "pretty".into(), level: "info".into() }
    }
}

// ---------------------------------------------------------------- validated form

/// A value that must never be printed (URLs with passwords, keys).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The public base URL; `issuer` in every token and in discovery.
    pub issuer: Url,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    pub database: DatabaseSettings,
    pub session: SessionSettings,
    pub master_key: MasterKeySource,
    pub log: LogSettings,
    pub admin: AdminSettings,
    pub trusted_proxies: TrustedProxies,
    pub metrics_access: MetricsAccess,
}

/// The operators' admin page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminSettings {
    pub maker_checker: bool,
    pub recent_sign_in: Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: Secret<String>,
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `memory`, or a `redis://`, `rediss://` or `redis+unix://` URL.
    pub store: Secret<String>,
    pub key_prefix: String,
    pub memory_max_entries: usize,
    /// The contents of `session.tls_ca_file`, for a `rediss://` store.
    pub tls_ca_pem: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// Given in the configuration (base64url, 32 bytes).
    Inline(Secret<String>),
    /// Read from a file the operator provides.
    File(PathBuf),
    /// `<data_dir>/master.key`, generated with mode 0600 on first start.
    Generated(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// Why the configuration cannot be used: every problem found, each naming its setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Read(String),
    #[error("configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
}

/// One invalid setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub setting: &'static str,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "setting `{}` {}", self.setting, self.reason)
    }
}

/// Reads the layered configuration. `file` is `--config`; when it is given it must exist,
/// otherwise `tessera.toml` in the working directory is read if present.
pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
    let path = match file {
        Some(path) if !path.is_file() => {
            return Err(ConfigError::Read(format!("the file {} given with --config does not exist", path.display())));
        }
        Some(path) => path,
        None => Path::new(DEFAULT_CONFIG_FILE),
    };
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if path.is_file() {
        figment = figment.merge(Toml::file_exact(path));
    }
    let raw: RawConfig = figment
        .merge(Env::prefixed("TESSERA__").split("__"))
        .extract()
        .map_err(|e| ConfigError::Read(one_line(&e.to_string())))?;
    validate(raw)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Converts raw values into settings, collecting every problem.
pub fn validate(raw: RawConfig) -> Result<Settings, ConfigError> {
    let mut problems = Vec::new();
    let mut problem = |setting: &'static str, reason: String| problems.push(Problem { setting, reason });

    let issuer = match parse_issuer(&raw.issuer) {
        Ok(url) => Some(url),
        Err(reason) => {
            problem("issuer", reason);
            None
        }
    };
    if !(1..=3600).contains(&raw.admin.recent_sign_in_secs) {
        problem("admin.recent_sign_in_secs", "must be 1 to 3600 seconds".into());
    }
    let listen = match raw.listen.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            problem("listen", format!("must be an IP address and port such as 127.0.0.1:8080, not {:?}", raw.listen));
            None
        }
    };
    if raw.data_dir.as_os_str().is_empty() {
        problem("data_dir", "must not be empty".into());
    }
    let mut networks = |setting: &'static str, list: &AddressList| {
        let mut parsed = Vec::new();
        for entry in list.entries() {
            match entry.parse::<IpNetwork>() {
                Ok(network) => parsed.push(network),
                Err(e) => problem(setting, e.to_string()),
            }
        }
        parsed
    };
    let proxies = networks("trusted_proxies", &raw.trusted_proxies);
    let metrics_allow = networks("metrics.allow", &raw.metrics.allow);

    let default_db = format!("sqlite://{}", raw.data_dir.join("tessera.db").display());
    let db_url = secret_value(raw.database.url, raw.database.url_file.as_deref(), "database.url_file")
        .unwrap_or_else(|reason| {
            problem("database.url", reason);
            None
        })
        .unwrap_or(default_db);
    if !(db_url.starts_with("sqlite:") || db_url.starts_with("postgres://") || db_url.starts_with("postgresql://")) {
        problem("database.url", "must start with sqlite://, postgres:// or postgresql://".into());
    }
    if raw.database.max_connections == 0 {
        problem("database.max_connections", "must be at least 1".into());
    }
    if raw.database.connect_timeout_secs == 0 || raw.database.connect_timeout_secs > 300 {
        problem("database.connect_timeout_secs", "must be between 1 and 300".into());
    }

    let store = secret_value(raw.session.store, raw.session.store_file.as_deref(), "session.store_file")
        .unwrap_or_else(|reason| {
            problem("session.store", reason);
            None
        })
        .unwrap_or_else(|| "memory".into());
    if !(store == "memory"
        || store.starts_with("redis://")
        || store.starts_with("rediss://")
        || store.starts_with("redis+unix://"))
    {
        problem("session.store", "must be `memory` or a redis://, rediss:// or redis+unix:// URL".into());
    }
    let tls_ca_pem = match &raw.session.tls_ca_file {
        None => None,
        Some(_) if !store.starts_with("rediss://") => {
            problem("session.tls_ca_file", "is only for a rediss:// (TLS) session store".into());
            None
        }
        Some(path) => match std::fs::read(path) {
            Ok(pem) => Some(pem),
            Err(e) => {
                problem("session.tls_ca_file", format!("cannot read {}: {e}", path.display()));
                None
            }
        },
    };
    if raw.session.key_prefix.is_empty() || raw.session.key_prefix.chars().any(char::is_whitespace) {
        problem("session.key_prefix", "must be non-empty without spaces".into());
    }
    if raw.session.memory_max_entries < 100 {
        problem("session.memory_max_entries", "must be at least 100".into());
    }

    let master_key = match (raw.crypto.master_key, raw.crypto.master_key_file) {
        (Some(_), Some(_)) => {
            problem("crypto.master_key", "and `crypto.master_key_file` are both set; set only one".into());
            None
        }
        (Some(key), None) => Some(MasterKeySource::Inline(Secret(key.trim().to_owned()))),
        (None, Some(path)) => Some(MasterKeySource::File(path)),
        (None, None) => Some(MasterKeySource::Generated(raw.data_dir.join("master.key"))),
    };

    let format = match raw.log.format.as_str() {
        "pretty" => Some(LogFormat::Pretty),
        "json" => Some(LogFormat::Json),
        other => {
            problem("log.format", format!("must be `pretty` or `json`, not {other:?}"));
            None
        }
    };
    if tracing_subscriber::EnvFilter::try_new(&raw.log.level).is_err() {
        problem(
            "log.level",
            format!("is not a valid filter such as `info` or `tessera=debug,info`: {:?}", raw.log.level),
        );
    }

    match (issuer, listen, master_key, format) {
        (Some(issuer), Some(listen), Some(master_key), Some(format)) if problems.is_empty() => Ok(Settings {
            issuer,
            listen,
            data_dir: raw.data_dir,
            workers: raw.workers,
            database: DatabaseSettings {
                url: Secret(db_url),
                max_connections: raw.database.max_connections,
                connect_timeout: Duration::from_secs(raw.database.connect_timeout_secs),
            },
            session: SessionSettings {
                store: Secret(store),
                key_prefix: raw.session.key_prefix,
                memory_max_entries: raw.session.memory_max_entries,
                tls_ca_pem,
            },
            master_key,
            log: LogSettings { format, level: raw.log.level },
            admin: AdminSettings {
                maker_checker: raw.admin.maker_checker,
                recent_sign_in: Duration::from_secs(raw.admin.recent_sign_in_secs),
            },
            trusted_proxies: TrustedProxies::new(proxies),
            metrics_access: MetricsAccess::new(metrics_allow),
        }),
        _ => Err(ConfigError::Invalid(problems)),
    }
}

/// A secret given inline or in a file (one of the two), trimmed.
fn secret_value(inline: Option<String>, file: Option<&Path>, file_name: &str) -> Result<Option<String>, String> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(format!("and `{file_name}` are both set; set only one")),
        (Some(v), None) => Ok(Some(v.trim().to_owned())),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|v| Some(v.trim().to_owned()))
            .map_err(|e| format!("could not be read from `{file_name}` {}: {e}", path.display())),
        (None, None) => Ok(None),
    }
}

/// The issuer: an absolute https URL (http only on loopback, for development) with no
/// query, fragment or credentials. A trailing slash is dropped so `iss` is exact.
pub fn parse_issuer(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("is not a URL ({e}): {value:?}"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(format!("must use https (http is allowed only for localhost): {value:?}")),
        _ => return Err(format!("must be an https URL: {value:?}")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.host_str().is_none() {
        return Err("must have a host".into());
    }
    Ok(url)
}

/// The issuer as it appears in tokens and discovery: no trailing slash.
pub fn issuer_string(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// The database URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
