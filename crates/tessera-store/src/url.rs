//! Database URL parsing and redaction.

use std::path::PathBuf;
use std::time::Duration;

use crate::StoreError;

/// Where a URL points, decided once at connect time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A SQLite file, or an in-memory database when `path` is `:memory:`.
    Sqlite { path: PathBuf },
    /// A libpq connection URI.
    Postgres { url: String },
}

impl Target {
    pub(crate) fn is_sqlite_memory(&self) -> bool {
        matches!(self, Target::Sqlite { path } if path.as_os_str() == MEMORY)
    }
}

const MEMORY: &str = ":memory:";

/// Parses `postgres://`, `postgresql://`, `sqlite://PATH`, `sqlite:PATH`, a plain file path or
/// `:memory:`. Anything with another scheme is refused, naming only the scheme.
pub(crate) fn parse(url: &str) -> Result<Target, StoreError> {
    let invalid = |reason: String| StoreError::InvalidUrl { reason };
    if url.trim().is_empty() {
        return Err(invalid("the URL is empty".into()));
    }
    if let Some((scheme, _)) = split_scheme(url) {
        let lower = scheme.to_ascii_lowercase();
        return match lower.as_str() {
            "postgres" | "postgresql" if url[scheme.len()..].starts_with("://") => {
                Ok(Target::Postgres { url: url.to_owned() })
            }
            "postgres" | "postgresql" => {
                Err(invalid("a PostgreSQL URL must start with postgres:// or postgresql://".into()))
            }
            "sqlite" => {
                let rest = &url[scheme.len() + 1..];
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(invalid("the sqlite URL has no file path".into()));
                }
                Ok(Target::Sqlite { path: PathBuf::from(path) })
            }
            _ => Err(invalid(format!("scheme \"{lower}\" is not supported"))),
        };
    }
    Ok(Target::Sqlite { path: PathBuf::from(url) })
}

/// `scheme` if the URL starts with `scheme:` (RFC 3986 syntax, two characters or more so a
/// Windows drive letter is a path), else `None`.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    if url == MEMORY {
        return None;
    }
    let (scheme, rest) = url.split_once(':')?;
    let valid = scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// The URL with any password (`user:PASSWORD@` or a `password=` parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        let authority_end = out[start..].find(['/', '?', '#']).map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..authority_end].rfind('@').map(|i| start + i)
            && let Some(colon) = out[start..at].find(':').map(|i| start + i)
        {
            out.replace_range(colon + 1..at, "***");
        }
    }
    if let Some(q) = out.find('?') {
        let (base, query) = out.split_at(q + 1);
        let redacted: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}{}", redacted.join("&"));
    }
    out
}

/// Adds libpq's `connect_timeout` (whole seconds, at least 2 as libpq requires) unless the
/// URL already sets one, so an unreachable server fails within the configured time.
pub(crate) fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={}", secs.max(2))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn sqlite(p: &str) -> Target {
        Target::Sqlite { path: PathBuf::from(p) }
    }

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse("sqlite://data/t.db").unwrap(), sqlite("data/t.db"));
        assert_eq!(parse("sqlite:///var/lib/t.db").unwrap(), sqlite("/var/lib/t.db"));
        assert_eq!(parse("sqlite:t.db").unwrap(), sqlite("t.db"));
        assert_eq!(parse("/tmp/x/t.db").unwrap(), sqlite("/tmp/x/t.db"));
        assert_eq!(parse("t.db").unwrap(), sqlite("t.db"));
        assert!(parse(":memory:").unwrap().is_sqlite_memory());
        assert!(parse("sqlite::memory:").unwrap().is_sqlite_memory());
        assert!(parse("sqlite://:memory:").unwrap().is_sqlite_memory());
        for pg in ["postgres://u@h/db", "postgresql://u:p@h:5432/db?sslmode=disable", "POSTGRES://h/db"] {
            assert_eq!(parse(pg).unwrap(), Target::Postgres { url: pg.to_owned() });
        }
    }

    #[test]
    fn refuses_other_forms_with_a_clear_reason() {
        for (bad, needle) in [
            ("", "empty"),
            ("   ", "empty"),
            ("mysql://u:secret@h/db", "\"mysql\""),
            ("http://example.com", "\"http\""),
            ("postgres:db", "must start with postgres://"),
            ("sqlite:", "no file path"),
            ("sqlite://", "no file path"),
        ] {
            let err = parse(bad).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(needle), "{bad:?}: {text}");
            assert!(text.contains("postgres://") && text.contains("sqlite://PATH"), "{text}");
            assert!(!text.contains("secret"));
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://tessera:s3cret@db:5432/t"), "postgres://tessera:***@db:5432/t");
        assert_eq!(redact("postgres://tessera@db/t"), "postgres://tessera@db/t");
        assert_eq!(
            redact("postgres://u:p%40ss@h/db?password=x&sslmode=require"),
            "postgres://u:***@h/db?password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://h/db?user=u&PASSWORD=x"), "postgres://h/db?user=u&PASSWORD=***");
        assert_eq!(redact("/var/lib/tessera.db"), "/var/lib/tessera.db");
    }

    #[test]
    fn adds_a_connect_timeout_once() {
        assert_eq!(
            with_connect_timeout("postgres://h/db", Duration::from_secs(5)),
            "postgres://h/db?connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?a=b", Duration::from_millis(2500)),
            "postgres://h/db?a=b&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db", Duration::from_millis(100)),
            "postgres://h/db?connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=9", Duration::from_secs(5)),
            "postgres://h/db?connect_timeout=9"
        );
    }
}
