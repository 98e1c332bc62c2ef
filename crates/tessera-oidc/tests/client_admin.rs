//! Maker-checker on a real SQLite file and, when provisioned, a real PostgreSQL: the rules
//! that must hold even when two operators act at the same moment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_domain::{
    ChangeStatus, Citizen, CitizenId, Profile, Role, SubjectType, TokenEndpointAuthMethod, UnixTime, Username,
};
use tessera_oidc::client_admin::{self, AdminError, ClientEdit};
use tessera_oidc::clients::NewClient;
use tessera_store::{Db, DbOptions, citizens, clients};

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

async fn databases() -> Vec<(Db, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut all = vec![(sqlite, Some(dir))];
    if let Some(url) = tessera_testkit::fresh_postgres_database() {
        all.push((url, None));
    }
    let mut out = Vec::new();
    for (url, dir) in all {
        let db = Db::connect(&url, &DbOptions { max_connections: 8, ..DbOptions::default() }).unwrap();
        db.migrate().await.unwrap();
        out.push((db, dir));
    }
    out
}

async fn operator(db: &Db, name: &str) -> CitizenId {
    let mut citizen = Citizen::new(Username::parse(name).unwrap(), NOW);
    citizen.roles.push(Role::Operator);
    let id = citizen.id;
    db.run(move |c| citizens::insert(c, &citizen, &Profile::new("Ops"))).await.unwrap();
    id
}

fn new_client(id: &str) -> NewClient {
    NewClient {
        client_id: Some(id.into()),
        department_en: "Transport Department".into(),
        department_zh: "運輸署".into(),
        name: "Licensing".into(),
        name_zh: String::new(),
        redirect_uris: vec!["https://td.example.gov.hk/cb".into()],
        post_logout_redirect_uris: vec![],
        allowed_scopes: vec!["openid".into(), "profile".into()],
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        subject_type: SubjectType::Pairwise,
        sector_identifier: None,
        require_pkce: true,
        id_token_alg: "RS256".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_is_decided_once_by_someone_other_than_its_maker() {
    for (db, _dir) in databases().await {
        let maker = operator(&db, "ops.maker").await;
        let checkers = [operator(&db, "ops.one").await, operator(&db, "ops.two").await];
        for round in 0..6 {
            let created =
                client_admin::create_client(&db, new_client(&format!("td-{round}")), maker, true, NOW).await.unwrap();
            let change = created.pending.unwrap();
            assert!(!created.client.enabled);
            assert!(matches!(
                client_admin::decide_change(&db, change, maker, true, NOW).await,
                Err(AdminError::OwnChange)
            ));
            // Two checkers at the same moment: one approves, one rejects; exactly one wins.
            let (a, b) = tokio::join!(
                client_admin::decide_change(&db, change, checkers[0], true, NOW),
                client_admin::decide_change(&db, change, checkers[1], false, NOW),
            );
            assert!(a.is_ok() ^ b.is_ok(), "round {round}: one decision ({:?}, {:?})", a.is_ok(), b.is_ok());
            let id = created.client.id.clone();
            let stored = db.run(move |c| clients::by_id(c, &id)).await.unwrap().unwrap();
            let approved = a.as_ref().is_ok_and(|c| c.status == ChangeStatus::Approved);
            assert_eq!(stored.enabled, approved, "round {round}: enabled only when the approval won");
        }
    }
}

#[tokio::test]
async fn gated_settings_wait_and_one_change_at_a_time() {
    for (db, _dir) in databases().await {
        let maker = operator(&db, "ops.maker").await;
        let checker = operator(&db, "ops.checker").await;
        let created = client_admin::create_client(&db, new_client("td"), maker, true, NOW).await.unwrap();
        client_admin::decide_change(&db, created.pending.unwrap(), checker, true, NOW).await.unwrap();
        let edit = ClientEdit {
            department_en: "Transport Department".into(),
            department_zh: "運輸署".into(),
            name: "Licensing portal".into(),
            name_zh: String::new(),
            redirect_uris: vec!["https://td.example.gov.hk/cb".into(), "https://td.example.gov.hk/cb2".into()],
            post_logout_redirect_uris: vec![],
            allowed_scopes: vec!["openid".into(), "profile".into(), "email".into()],
            require_pkce: true,
            id_token_alg: "ES256".into(),
        };
        let outcome = client_admin::edit_client(&db, &created.client.id, edit.clone(), maker, true, NOW).await.unwrap();
        assert_eq!(outcome.applied, vec!["name", "id_token_alg"]);
        let change = outcome.pending.expect("the redirect URIs and scopes wait");
        let id = created.client.id.clone();
        let stored = db.run(move |c| clients::by_id(c, &id)).await.unwrap().unwrap();
        assert_eq!((stored.name.as_str(), stored.id_token_alg.as_str()), ("Licensing portal", "ES256"));
        assert_eq!(stored.redirect_uris.len(), 1);
        assert!(!stored.allowed_scopes.contains(&"email".to_owned()));
        let again = client_admin::edit_client(&db, &created.client.id, edit, maker, true, NOW).await;
        assert!(matches!(again, Err(AdminError::ChangePending)), "{again:?}");

        client_admin::decide_change(&db, change, checker, true, NOW).await.unwrap();
        let id = created.client.id.clone();
        let stored = db.run(move |c| clients::by_id(c, &id)).await.unwrap().unwrap();
        assert_eq!(stored.redirect_uris.len(), 2);
        assert!(stored.allowed_scopes.contains(&"email".to_owned()));
        assert_eq!(stored.secret_digest, created.client.secret_digest, "the secret is untouched");
    }
}
