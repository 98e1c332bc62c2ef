#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use tessera_store::DbOptions;
use tessera_store::audit::AuditFilter;

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

fn new_client() -> NewClient {
    NewClient {
        client_id: Some("td-licensing".to_owned()),
        department_en: "Transport Department".to_owned(),
        department_zh: "運輸署".to_owned(),
        name: "Driving licence renewal".to_owned(),
        name_zh: String::new(),
        redirect_uris: vec!["https://licensing.td.gov.hk/oidc/cb".to_owned()],
        post_logout_redirect_uris: vec!["https://licensing.td.gov.hk/".to_owned()],
        allowed_scopes: vec!["profile".to_owned(), "openid".to_owned(), "email".to_owned()],
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        subject_type: SubjectType::Pairwise,
        sector_identifier: None,
        require_pkce: true,
        id_token_alg: "RS256".to_owned(),
    }
}

fn problems(new: NewClient) -> Vec<ClientProblem> {
    validate_new_client(new, NOW).unwrap_err()
}

#[test]
fn a_confidential_client_gets_a_secret_and_only_its_digest_is_kept() {
    let (client, secret) = validate_new_client(new_client(), NOW).unwrap();
    let secret = secret.unwrap();
    assert_eq!(secret.len(), 43, "256 bits as base64url");
    assert_eq!(client.secret_digest, Some(token_digest(&secret)));
    assert_eq!(client.id.as_str(), "td-licensing");
    assert_eq!(client.allowed_scopes, ["email", "openid", "profile"], "sorted");
    assert_eq!(client.sector_identifier, "licensing.td.gov.hk", "default sector: the redirect host");
    assert!(client.enabled);
    assert_eq!((client.created_at, client.updated_at), (NOW, NOW));
    assert_eq!(client.redirect_uris, ["https://licensing.td.gov.hk/oidc/cb"]);
    assert_eq!(client.post_logout_redirect_uris, ["https://licensing.td.gov.hk/"]);
    let (again, second) = validate_new_client(new_client(), NOW).unwrap();
    assert_ne!(second.unwrap(), secret, "every registration gets a fresh secret");
    assert_ne!(again.secret_digest, client.secret_digest);
}

#[test]
fn a_public_client_has_no_secret_and_must_require_pkce() {
    let mut new = new_client();
    new.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    let (client, secret) = validate_new_client(new.clone(), NOW).unwrap();
    assert_eq!((secret, client.secret_digest), (None, None));
    new.require_pkce = false;
    assert_eq!(problems(new), [ClientProblem::PublicClientWithoutPkce]);
}

#[test]
fn a_confidential_client_may_be_registered_without_pkce() {
    let mut new = new_client();
    new.require_pkce = false;
    assert!(!validate_new_client(new, NOW).unwrap().0.require_pkce);
}

#[test]
fn generated_client_ids_are_22_url_safe_characters() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let mut new = new_client();
        new.client_id = None;
        let id = validate_new_client(new, NOW).unwrap().0.id;
        assert_eq!(id.as_str().len(), 22);
        assert!(id.as_str().starts_with(|c: char| c.is_ascii_alphanumeric()), "{id}");
        assert!(seen.insert(id));
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let new = NewClient {
        client_id: Some("bad id!".to_owned()),
        department_en: "  ".to_owned(),
        department_zh: "部".repeat(MAX_NAME_CHARS + 1),
        name: "tab\there".to_owned(),
        name_zh: String::new(),
        redirect_uris: vec!["http://rp.example/cb".to_owned(), "https://rp.example/cb#x".to_owned()],
        post_logout_redirect_uris: vec!["https://*.example/".to_owned()],
        allowed_scopes: vec!["profile".to_owned(), "admin".to_owned()],
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
        subject_type: SubjectType::Public,
        sector_identifier: None,
        require_pkce: true,
        id_token_alg: "HS256".to_owned(),
    };
    let found = problems(new);
    assert!(matches!(found[0], ClientProblem::ClientId(_)));
    assert_eq!(
        found[1..],
        [
            ClientProblem::EmptyName { field: "department_en" },
            ClientProblem::NameTooLong { field: "department_zh" },
            ClientProblem::NameControlCharacter { field: "name" },
            ClientProblem::RedirectUri { index: 0, error: RedirectUriError::InsecureHttp },
            ClientProblem::RedirectUri { index: 1, error: RedirectUriError::Fragment },
            ClientProblem::PostLogoutRedirectUri { index: 0, error: RedirectUriError::Wildcard },
            ClientProblem::UnsupportedScope("admin".to_owned()),
            ClientProblem::MissingOpenid,
            ClientProblem::IdTokenAlg,
        ]
    );
    let message = RegisterError::Invalid(found).to_string();
    assert!(message.contains("redirect URI 1: redirect URI may not contain a fragment"), "{message}");
}

#[test]
fn names_are_trimmed_and_limited_in_characters() {
    let mut new = new_client();
    new.name = format!("  {}  ", "名".repeat(MAX_NAME_CHARS));
    assert_eq!(validate_new_client(new, NOW).unwrap().0.name, "名".repeat(MAX_NAME_CHARS));
}

#[test]
fn at_least_one_redirect_uri() {
    let mut new = new_client();
    new.redirect_uris.clear();
    assert_eq!(problems(new), [ClientProblem::NoRedirectUri]);
}

#[test]
fn duplicate_uris_and_scopes_are_merged() {
    let mut new = new_client();
    new.redirect_uris.push(new.redirect_uris[0].clone());
    new.allowed_scopes.push("openid".to_owned());
    let client = validate_new_client(new, NOW).unwrap().0;
    assert_eq!(client.redirect_uris.len(), 1);
    assert_eq!(client.allowed_scopes, ["email", "openid", "profile"]);
}

#[test]
fn every_supported_algorithm_is_accepted() {
    for alg in ["RS256", "ES256", "EdDSA"] {
        let mut new = new_client();
        new.id_token_alg = alg.to_owned();
        assert_eq!(validate_new_client(new, NOW).unwrap().0.id_token_alg, alg);
    }
    for alg in ["rs256", "none", "HS256", "PS256", ""] {
        let mut new = new_client();
        new.id_token_alg = alg.to_owned();
        assert_eq!(problems(new), [ClientProblem::IdTokenAlg], "{alg:?}");
    }
}

#[test]
fn pairwise_sector_rules() {
    let mut several_hosts = new_client();
    several_hosts.redirect_uris.push("https://apply.td.gov.hk/cb".to_owned());
    assert_eq!(problems(several_hosts.clone()), [ClientProblem::SectorRequired]);

    let mut named = several_hosts.clone();
    named.sector_identifier = Some("td.gov.hk".to_owned());
    assert_eq!(validate_new_client(named, NOW).unwrap().0.sector_identifier, "td.gov.hk");

    let mut public = several_hosts;
    public.subject_type = SubjectType::Public;
    assert_eq!(validate_new_client(public, NOW).unwrap().0.sector_identifier, "");

    for bad in ["", "has space", &"s".repeat(MAX_SECTOR_LEN + 1), "tab\t"] {
        let mut new = new_client();
        new.sector_identifier = Some(bad.to_owned());
        assert_eq!(problems(new), [ClientProblem::InvalidSector], "{bad:?}");
    }
}

async fn db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("c.db").display()), &DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}

#[tokio::test]
async fn register_stores_the_client_and_audits_without_the_secret() {
    let (db, _dir) = db().await;
    let (client, secret) = register_by(&db, new_client(), "operator:alice", NOW).await.unwrap();
    let secret = secret.unwrap();
    let id = client.id.clone();
    let (stored, events) = db
        .run(move |conn| Ok((clients::by_id(conn, &id)?, audit::list(conn, &AuditFilter::default())?)))
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), Some(&client));
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.kind, AuditKind::CLIENT_CREATED);
    assert_eq!(event.actor.as_deref(), Some("operator:alice"));
    assert_eq!(event.client_id.as_deref(), Some("td-licensing"));
    assert_eq!(event.at, NOW);
    assert!(!event.detail.contains(&secret), "the secret is never audited");
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap();
    assert_eq!(detail["token_endpoint_auth_method"], "client_secret_basic");
    assert!(detail.get("secret_digest").is_none());
}

#[tokio::test]
async fn register_refuses_a_duplicate_id_and_invalid_input() {
    let (db, _dir) = db().await;
    register(&db, new_client(), NOW).await.unwrap();
    let err = register(&db, new_client(), NOW).await.unwrap_err();
    assert!(matches!(&err, RegisterError::Duplicate(id) if id.as_str() == "td-licensing"), "{err:?}");
    assert_eq!(err.to_string(), "a client with id td-licensing is already registered");

    let mut bad = new_client();
    bad.client_id = Some("another".to_owned());
    bad.allowed_scopes = vec!["profile".to_owned()];
    let err = register(&db, bad, NOW).await.unwrap_err();
    assert!(matches!(&err, RegisterError::Invalid(p) if p == &[ClientProblem::MissingOpenid]), "{err:?}");

    let events = db.run(|conn| audit::list(conn, &AuditFilter::default())).await.unwrap();
    assert_eq!(events.len(), 1, "only the successful registration is audited");
    assert_eq!(events[0].actor, None);
}
