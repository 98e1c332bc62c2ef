//! Scenario builders: department clients and citizens registered through the same
//! services the command line and the pages use, on the test server's own database.

use crate::helpers::TestApp;
use tessera_crypto::{PasswordHasher, Purpose};
use tessera_domain::{Citizen, Client, Clock, SubjectType, SystemClock, TokenEndpointAuthMethod};
use tessera_oidc::clients::{NewClient, register};
use tessera_passkey::{PasswordService, SignupForm, SignupService};
use tessera_store::Db;

/// The redirect URI of the test department (never dereferenced: the tests read `Location`).
pub const REDIRECT_URI: &str = "https://portal.transport.example.gov.hk/callback";
pub const POST_LOGOUT_URI: &str = "https://portal.transport.example.gov.hk/";
pub const PASSWORD: &str = "correct horse battery staple";

/// A registered client and its secret.
pub struct TestClient {
    pub client: Client,
    pub secret: Option<String>,
}

impl TestClient {
    pub fn id(&self) -> &str {
        self.client.id.as_str()
    }
    pub fn secret(&self) -> &str {
        self.secret.as_deref().unwrap_or_default()
    }
}

/// A confidential department client (client_secret_basic, PKCE required, pairwise, RS256).
pub fn department() -> NewClient {
    NewClient {
        client_id: None,
        department_en: "Transport Department".into(),
        department_zh: "運輸署".into(),
        name: "Driving licence renewal".into(),
        name_zh: "續領駕駛執照".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        post_logout_redirect_uris: vec![POST_LOGOUT_URI.into()],
        allowed_scopes: ["openid", "profile", "email", "phone", "address", "offline_access", "hk_identity"]
            .map(String::from)
            .to_vec(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        subject_type: SubjectType::Pairwise,
        sector_identifier: None,
        require_pkce: true,
        id_token_alg: "RS256".into(),
    }
}

impl TestApp {
    pub async fn db(&self) -> Db {
        tessera_server::startup::connect_database(&self.settings).await.unwrap()
    }

    pub async fn client_with(&self, adjust: impl FnOnce(&mut NewClient)) -> TestClient {
        let mut new = department();
        adjust(&mut new);
        let (client, secret) = register(&self.db().await, new, SystemClock.now()).await.unwrap();
        TestClient { client, secret }
    }

    pub async fn department_client(&self) -> TestClient {
        self.client_with(|_| {}).await
    }

    /// [`TestApp::citizen`], unless a citizen with that username exists already.
    pub async fn citizen_if_absent(&self, username: &str) {
        let name = tessera_domain::Username::parse(username).unwrap();
        let db = self.db().await;
        if db.run(move |c| tessera_store::citizens::by_username(c, &name)).await.unwrap().is_none() {
            self.citizen(username).await;
        }
    }

    /// A citizen with a full profile and the password [`PASSWORD`].
    pub async fn citizen(&self, username: &str) -> Citizen {
        let master = tessera_server::keyfile::load_master_key(&self.settings.master_key).unwrap();
        let db = self.db().await;
        let passwords = PasswordService::new(db.clone(), PasswordHasher::new(1).unwrap());
        let signup = SignupService::new(db, passwords, master.cipher(Purpose::PersonalData).unwrap());
        let form = SignupForm {
            username: username.into(),
            password: Some(PASSWORD.into()),
            password_confirm: Some(PASSWORD.into()),
            name_en: "CHAN, Tai Man".into(),
            name_zh: Some("陳大文".into()),
            birthdate: Some("1980-02-29".into()),
            gender: Some("male".into()),
            email: Some("taiman.chan@example.hk".into()),
            phone: Some("91234567".into()),
            residential_address: Some("Flat A, 1/F, 1 Queen's Road Central, Hong Kong".into()),
            postal_address: None,
            hkid: Some("A123456(3)".into()),
        };
        signup.register(form, SystemClock.now()).await.unwrap()
    }
}
