//! A minimal stand-in OpenID provider, enough to drive the portal through every flow without
//! Tessera: discovery, an authorization endpoint that signs the citizen in at once, a token
//! endpoint checking client_secret_basic and PKCE, userinfo, JWKS and end_session.
//!
//! ID tokens are EdDSA-signed with one of two throwaway test keys; `rotate_keys` switches to
//! the second key (and the JWKS to its public half) to exercise the portal's JWKS reload.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{Duration, Utc};
use openidconnect::core::{
    CoreEdDsaPrivateSigningKey, CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, AuthenticationContextClass, AuthenticationMethodReference, IdToken,
    IdTokenClaims, IssuerUrl, JsonWebKeyId, Nonce, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const CLIENT_ID: &str = "transport-portal";
pub const CLIENT_SECRET: &str = "s3cret:with/odd&chars";
pub const SUBJECT: &str = "pairwise-subject-42";

/// Throwaway Ed25519 keys, generated for this test only.
const KEY_A: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINtMU79hjRUKsnKAKzS8VAld4avud2i1jDP59N2o/rc7\n-----END PRIVATE KEY-----\n";
const KEY_B: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIM09AMBpxi/uLjeWF3yO9rUWGbg8Oaw3Y5JYZ5yVpKQT\n-----END PRIVATE KEY-----\n";

#[derive(Clone, Debug, Deserialize, Serialize)]
struct SessionClaims {
    sid: String,
}
impl AdditionalClaims for SessionClaims {}

type MockIdToken = IdToken<SessionClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

struct Grant {
    nonce: String,
    challenge: String,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, Grant>,
    refresh_tokens: HashMap<String, ()>,
    access_tokens: HashMap<String, ()>,
    counter: u32,
    rotated: bool,
    /// The query of the last end_session request.
    end_session_query: Option<String>,
}

pub struct MockProvider {
    pub issuer: String,
    /// The portal's redirect URI, set before the first authorization request.
    pub redirect_uri: Mutex<String>,
    keys: [CoreEdDsaPrivateSigningKey; 2],
    inner: Mutex<Inner>,
}

impl MockProvider {
    /// Starts the provider on a free loopback port.
    pub fn start() -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let key = |pem: &str, kid: &str| {
            CoreEdDsaPrivateSigningKey::from_ed25519_pem(pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
        };
        let provider = Arc::new(Self {
            issuer,
            redirect_uri: Mutex::new(String::new()),
            keys: [key(KEY_A, "key-a"), key(KEY_B, "key-b")],
            inner: Mutex::new(Inner::default()),
        });
        let data = web::Data::from(provider.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/.well-known/openid-configuration", web::get().to(discovery))
                .route("/jwks", web::get().to(jwks))
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
                .route("/end_session", web::get().to(end_session))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        provider
    }

    /// From now on, sign with the second key and publish only it.
    pub fn rotate_keys(&self) {
        self.inner.lock().unwrap().rotated = true;
    }

    pub fn end_session_query(&self) -> Option<String> {
        self.inner.lock().unwrap().end_session_query.clone()
    }

    fn signing_key(&self) -> &CoreEdDsaPrivateSigningKey {
        &self.keys[usize::from(self.inner.lock().unwrap().rotated)]
    }

    fn next(&self, prefix: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.counter += 1;
        format!("{prefix}-{}", inner.counter)
    }

    fn id_token(&self, nonce: Option<&str>, access_token: &AccessToken) -> String {
        let now = Utc::now();
        let claims = IdTokenClaims::new(
            IssuerUrl::new(self.issuer.clone()).unwrap(),
            vec![Audience::new(CLIENT_ID.into())],
            now + Duration::minutes(5),
            now,
            StandardClaims::new(SubjectIdentifier::new(SUBJECT.into())),
            SessionClaims { sid: "tessera-session-7".into() },
        )
        .set_nonce(nonce.map(|n| Nonce::new(n.into())))
        .set_auth_time(Some(now - Duration::seconds(3)))
        .set_auth_context_ref(Some(AuthenticationContextClass::new("urn:tessera:loa:2".into())))
        .set_auth_method_refs(Some(vec![AuthenticationMethodReference::new("hwk".into())]));
        MockIdToken::new(claims, self.signing_key(), CoreJwsSigningAlgorithm::EdDsa, Some(access_token), None)
            .unwrap()
            .to_string()
    }

    fn tokens(&self, nonce: Option<&str>) -> serde_json::Value {
        let access_token = self.next("access");
        let refresh_token = self.next("refresh");
        let id_token = self.id_token(nonce, &AccessToken::new(access_token.clone()));
        let mut inner = self.inner.lock().unwrap();
        inner.access_tokens.insert(access_token.clone(), ());
        inner.refresh_tokens.insert(refresh_token.clone(), ());
        json!({
            "access_token": access_token, "token_type": "Bearer", "expires_in": 600,
            "refresh_token": refresh_token, "id_token": id_token, "scope": "openid profile email",
        })
    }
}

fn query(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

fn oauth_error(code: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": code }))
}

async fn discovery(op: web::Data<MockProvider>) -> HttpResponse {
    let base = &op.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "end_session_endpoint": format!("{base}/end_session"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

async fn jwks(op: web::Data<MockProvider>) -> HttpResponse {
    HttpResponse::Ok().json(CoreJsonWebKeySet::new(vec![op.signing_key().as_verification_key()]))
}

/// Signs the citizen in at once and redirects back with a code, `state` and `iss`.
async fn authorize(op: web::Data<MockProvider>, req: HttpRequest) -> HttpResponse {
    let q = query(&req);
    let expected_redirect = op.redirect_uri.lock().unwrap().clone();
    let scopes: Vec<&str> = q.get("scope").map(|s| s.split(' ').collect()).unwrap_or_default();
    let well_formed = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("redirect_uri") == Some(&expected_redirect)
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && scopes.first() == Some(&"openid")
        && scopes.contains(&"profile");
    let (Some(state), Some(nonce), Some(challenge), true) =
        (q.get("state"), q.get("nonce"), q.get("code_challenge"), well_formed)
    else {
        return oauth_error("invalid_request");
    };
    let code = op.next("code");
    op.inner.lock().unwrap().codes.insert(code.clone(), Grant { nonce: nonce.clone(), challenge: challenge.clone() });
    let mut location = url::Url::parse(&expected_redirect).unwrap();
    location.query_pairs_mut().append_pair("code", &code).append_pair("state", state).append_pair("iss", &op.issuer);
    HttpResponse::Found().insert_header(("Location", location.as_str())).finish()
}

async fn token(
    op: web::Data<MockProvider>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let expected = format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(CLIENT_ID), encode(CLIENT_SECRET))));
    if req.headers().get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return HttpResponse::Unauthorized().json(json!({ "error": "invalid_client" }));
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let grant = form.get("code").and_then(|code| op.inner.lock().unwrap().codes.remove(code));
            let (Some(grant), Some(verifier)) = (grant, form.get("code_verifier")) else {
                return oauth_error("invalid_grant");
            };
            let computed = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.clone()));
            if computed.as_str() != grant.challenge {
                return oauth_error("invalid_grant");
            }
            HttpResponse::Ok().json(op.tokens(Some(&grant.nonce)))
        }
        Some("refresh_token") => {
            let known = form.get("refresh_token").and_then(|rt| op.inner.lock().unwrap().refresh_tokens.remove(rt));
            match known {
                Some(()) => HttpResponse::Ok().json(op.tokens(None)),
                None => oauth_error("invalid_grant"),
            }
        }
        _ => oauth_error("unsupported_grant_type"),
    }
}

async fn userinfo(op: web::Data<MockProvider>, req: HttpRequest) -> HttpResponse {
    let bearer =
        req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|token| op.inner.lock().unwrap().access_tokens.contains_key(token)) {
        return HttpResponse::Unauthorized().finish();
    }
    HttpResponse::Ok().json(json!({
        "sub": SUBJECT,
        "name": "CHAN, Tai Man",
        "name#zh-Hant-HK": "陳大文",
        "email": "tai.man@example.hk",
        "email_verified": true,
    }))
}

async fn end_session(op: web::Data<MockProvider>, req: HttpRequest) -> HttpResponse {
    op.inner.lock().unwrap().end_session_query = Some(req.query_string().to_owned());
    HttpResponse::Ok().body("signed out of the mock provider")
}
