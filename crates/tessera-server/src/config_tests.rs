#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::result_large_err)]
use super::*;
use figment::Jail;

fn problems(raw: RawConfig) -> Vec<Problem> {
    match validate(raw) {
        Err(ConfigError::Invalid(p)) => p,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn defaults_are_the_embedded_setup() {
    let s = validate(RawConfig::default()).unwrap();
    assert_eq!(issuer_string(&s.issuer), "http://localhost:8080");
    assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database.url.expose(), "sqlite://./data/tessera.db");
    assert_eq!(s.session.store.expose(), "memory");
    assert!(matches!(s.master_key, MasterKeySource::Generated(ref p) if p.ends_with("master.key")));
    assert_eq!(s.log.format, LogFormat::Pretty);
}

#[test]
fn issuer_must_be_https_except_on_loopback() {
    assert!(parse_issuer("https://id.gov.example").is_ok());
    assert!(parse_issuer("http://localhost:8080").is_ok());
    assert!(parse_issuer("http://127.0.0.1:9000").is_ok());
    for bad in [
        "http://id.gov.example",
        "ftp://x",
        "https://id.example/?a=b",
        "https://id.example/#f",
        "https://u:p@id.example",
        "not a url",
    ] {
        assert!(parse_issuer(bad).is_err(), "{bad}");
    }
    assert_eq!(issuer_string(&parse_issuer("https://id.example/").unwrap()), "https://id.example");
    assert_eq!(issuer_string(&parse_issuer("https://id.example/tessera/").unwrap()), "https://id.example/tessera");
}

#[test]
fn every_problem_names_its_setting() {
    let raw = RawConfig {
        issuer: "http://evil.example".into(),
        listen: "localhost".into(),
        database: RawDatabase { url: Some("mysql://x".into()), max_connections: 0, ..RawDatabase::default() },
        session: RawSession { store: Some("memcached://x".into()), ..RawSession::default() },
        log: RawLog { format: "xml".into(), level: "info".into() },
        ..RawConfig::default()
    };
    let settings: Vec<&str> = problems(raw).iter().map(|p| p.setting).collect();
    for s in ["issuer", "listen", "database.url", "database.max_connections", "session.store", "log.format"] {
        assert!(settings.contains(&s), "{s} missing from {settings:?}");
    }
}

#[test]
fn the_error_is_one_line() {
    let raw = RawConfig { issuer: "nope".into(), listen: "x".into(), ..RawConfig::default() };
    let text = validate(raw).unwrap_err().to_string();
    assert!(!text.contains('\n'), "{text}");
    assert!(text.contains("setting `issuer`") && text.contains("setting `listen`"), "{text}");
}

#[test]
fn secrets_come_from_files_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db-url");
    std::fs::write(&path, "postgres://tessera:hunter2@db/tessera\n").unwrap();
    let raw =
        RawConfig { database: RawDatabase { url_file: Some(path), ..RawDatabase::default() }, ..RawConfig::default() };
    let s = validate(raw).unwrap();
    assert_eq!(s.database.url.expose(), "postgres://tessera:hunter2@db/tessera");
    assert!(!format!("{s:?}").contains("hunter2"));
    assert_eq!(redact_url(s.database.url.expose()), "postgres://tessera:***@db/tessera");
}

#[test]
fn a_missing_secret_file_is_named() {
    let raw = RawConfig {
        session: RawSession { store_file: Some("/nonexistent/redis-url".into()), ..RawSession::default() },
        ..RawConfig::default()
    };
    let p = problems(raw);
    assert!(p[0].reason.contains("/nonexistent/redis-url"), "{p:?}");
}

#[test]
fn inline_and_file_together_are_refused() {
    let raw = RawConfig {
        crypto: RawCrypto { master_key: Some("x".into()), master_key_file: Some("/k".into()) },
        ..RawConfig::default()
    };
    assert_eq!(problems(raw)[0].setting, "crypto.master_key");
}

#[test]
fn file_then_environment_override_defaults() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "tessera.toml",
            "issuer = \"https://id.example\"\nlisten = \"0.0.0.0:9000\"\n[session]\nstore = \"redis://127.0.0.1:6379\"\n",
        )?;
        jail.set_env("TESSERA__LISTEN", "127.0.0.1:9001");
        jail.set_env("TESSERA__DATABASE__URL", "postgres://u@h/db");
        let s = load(None).unwrap();
        assert_eq!(issuer_string(&s.issuer), "https://id.example");
        assert_eq!(s.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(s.database.url.expose(), "postgres://u@h/db");
        assert_eq!(s.session.store.expose(), "redis://127.0.0.1:6379");
        Ok(())
    });
}

#[test]
fn a_malformed_file_is_one_clear_line() {
    Jail::expect_with(|jail| {
        jail.create_file("bad.toml", "issuer = \"https://id.example\"\n[database\nurl = 3\n")?;
        let err = load(Some(Path::new("bad.toml"))).unwrap_err().to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("bad.toml"), "{err}");
        Ok(())
    });
}

#[test]
fn an_unknown_setting_is_named() {
    Jail::expect_with(|jail| {
        jail.create_file("tessera.toml", "[database]\nurll = \"x\"\n")?;
        let err = load(None).unwrap_err().to_string();
        assert!(err.contains("urll"), "{err}");
        Ok(())
    });
}

#[test]
fn a_missing_explicit_file_is_an_error() {
    let err = load(Some(Path::new("/nonexistent/tessera.toml"))).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/tessera.toml"), "{err}");
}

#[test]
fn the_production_example_is_a_valid_configuration_file() {
    let raw: RawConfig = Figment::from(Serialized::defaults(RawConfig::default()))
        .merge(Toml::string(include_str!("../../../deploy/tessera.toml")))
        .extract()
        .unwrap();
    assert_eq!(raw.log.format, "json");
    assert!(
        raw.database.url_file.is_some() && raw.session.store_file.is_some() && raw.crypto.master_key_file.is_some()
    );
    assert!(parse_issuer(&raw.issuer).is_ok());
}

#[test]
fn trusted_proxies_are_addresses_or_networks() {
    assert_eq!(validate(RawConfig::default()).unwrap().trusted_proxies, TrustedProxies::default());
    let raw = RawConfig {
        trusted_proxies: AddressList::List(vec!["10.0.0.0/8".into(), "192.0.2.1".into(), "2001:db8::/32".into()]),
        ..RawConfig::default()
    };
    let expected = ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"].map(|n| n.parse::<IpNetwork>().unwrap());
    assert_eq!(validate(raw).unwrap().trusted_proxies, TrustedProxies::new(expected.to_vec()));

    let raw = RawConfig {
        trusted_proxies: AddressList::List(vec!["10.1.2.3/8".into(), "lb.internal".into(), "10.0.0.0/8".into()]),
        ..RawConfig::default()
    };
    let found = problems(raw);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|p| p.setting == "trusted_proxies"), "{found:?}");
    assert!(found[1].reason.contains("lb.internal"), "{found:?}");
}

#[test]
fn trusted_proxies_come_as_an_array_or_a_comma_separated_variable() {
    Jail::expect_with(|jail| {
        jail.create_file("tessera.toml", "trusted_proxies = [\"10.0.0.0/8\"]\n")?;
        assert_eq!(load(None).unwrap().trusted_proxies, TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]));
        jail.set_env("TESSERA__TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1");
        let expected = ["10.0.0.0/8", "192.0.2.1"].map(|n| n.parse::<IpNetwork>().unwrap());
        assert_eq!(load(None).unwrap().trusted_proxies, TrustedProxies::new(expected.to_vec()));
        jail.set_env("TESSERA__TRUSTED_PROXIES", "192.0.2.1");
        assert_eq!(load(None).unwrap().trusted_proxies, TrustedProxies::new(vec!["192.0.2.1".parse().unwrap()]));
        jail.set_env("TESSERA__TRUSTED_PROXIES", "not-an-address");
        let err = load(None).unwrap_err().to_string();
        assert!(err.contains("trusted_proxies") && err.contains("not-an-address"), "{err}");
        Ok(())
    });
}

#[test]
fn metrics_are_for_loopback_unless_configured() {
    let s = validate(RawConfig::default()).unwrap();
    assert_eq!(s.metrics_access, MetricsAccess::default());
    assert!(s.metrics_access.allows("127.0.0.1".parse().unwrap()));
    assert!(!s.metrics_access.allows("10.1.2.3".parse().unwrap()));
    Jail::expect_with(|jail| {
        jail.set_env("TESSERA__METRICS__ALLOW", "10.0.0.0/8");
        let s = load(None).unwrap();
        assert!(s.metrics_access.allows("10.1.2.3".parse().unwrap()));
        assert!(!s.metrics_access.allows("127.0.0.1".parse().unwrap()), "the list replaces the default");
        jail.set_env("TESSERA__METRICS__ALLOW", "10.0.0.0/8,monitoring");
        let err = load(None).unwrap_err().to_string();
        assert!(err.contains("metrics.allow") && err.contains("monitoring"), "{err}");
        Ok(())
    });
}

#[test]
fn a_tls_session_store_may_name_its_certificate_authority() {
    Jail::expect_with(|jail| {
        jail.create_file("ca.pem", "-----BEGIN CERTIFICATE-----\n")?;
        jail.set_env("TESSERA__SESSION__STORE", "rediss://:pw@cache.internal:6380/0");
        jail.set_env("TESSERA__SESSION__TLS_CA_FILE", "ca.pem");
        let s = load(None).unwrap();
        assert_eq!(s.session.store.expose(), "rediss://:pw@cache.internal:6380/0");
        assert_eq!(s.session.tls_ca_pem.as_deref(), Some(b"-----BEGIN CERTIFICATE-----\n".as_slice()));

        jail.set_env("TESSERA__SESSION__TLS_CA_FILE", "missing.pem");
        let err = load(None).unwrap_err().to_string();
        assert!(err.contains("session.tls_ca_file") && err.contains("missing.pem"), "{err}");

        jail.set_env("TESSERA__SESSION__TLS_CA_FILE", "ca.pem");
        jail.set_env("TESSERA__SESSION__STORE", "redis://cache.internal:6379");
        let err = load(None).unwrap_err().to_string();
        assert!(err.contains("session.tls_ca_file") && err.contains("rediss://"), "{err}");
        Ok(())
    });
}
