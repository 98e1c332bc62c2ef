//! Shared steps of the token, userinfo, introspection, revocation and logout tests: a
//! citizen signed in through the real authorization endpoint, raw token-endpoint requests
//! (the negative cases need full control over the form and the headers), and JWT reading.

use super::browser::{Browser, location_params};
use super::rp::Rp;
use crate::fixtures::{REDIRECT_URI, TestClient};
use crate::helpers::TestApp;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, Nonce, PkceCodeChallenge};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;
use std::str::FromStr;
use std::sync::Arc;

/// A random value for `state` and `nonce`.
pub fn random() -> String {
    tessera_crypto::random_token().unwrap()
}

/// A browser whose cookie jar the test can read (to replay the SSO cookie).
pub fn browser_with_jar(base: &str) -> (Browser, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    (Browser { http, base: base.to_owned() }, jar)
}

/// The `Cookie` header the jar would send to Tessera.
pub fn cookies(jar: &Jar, base: &str) -> String {
    let url = url::Url::parse(base).unwrap();
    jar.cookies(&url).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// One authorization request and the secrets the department keeps for it.
#[derive(Debug, Clone)]
pub struct Authz {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: Option<String>,
}

/// An authorization request for `scope` (space-separated, `openid` included by the caller),
/// with an S256 challenge when `pkce`, plus `extra` parameters.
pub fn authz(app: &TestApp, client_id: &str, scope: &str, pkce: bool, extra: &[(&str, &str)]) -> Authz {
    let state = random();
    let nonce = random();
    let mut url = url::Url::parse(&format!("{}/authorize", app.address)).unwrap();
    let mut verifier = None;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", scope)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        if pkce {
            let (challenge, v) = PkceCodeChallenge::new_random_sha256();
            q.append_pair("code_challenge", challenge.as_str()).append_pair("code_challenge_method", "S256");
            verifier = Some(v.secret().clone());
        }
        for (k, v) in extra {
            q.append_pair(k, v);
        }
    }
    Authz { url: url.to_string(), state, nonce, verifier }
}

/// Drives the browser from the authorization request to the redirect back to the
/// department: signs in when asked, allows on the consent page when asked.
pub async fn authorize(browser: &Browser, url: &str, username: &str) -> reqwest::Response {
    let mut res = browser.follow(browser.get(url).await).await;
    if res.status() == StatusCode::OK && res.url().path() == "/signin" {
        res = browser.sign_in(res, username).await;
    }
    if res.status() == StatusCode::OK && res.url().path() == "/consent" {
        res = browser.consent(res, true).await;
    }
    res
}

/// The code of a successful authorization response (state and iss checked).
pub fn code_of(res: &reqwest::Response, authz: &Authz) -> String {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "expected the redirect back to the department");
    let (url, params) = location_params(res);
    assert!(url.as_str().starts_with(REDIRECT_URI), "redirected elsewhere: {url}");
    assert_eq!(params.get("state"), Some(&authz.state), "state: {url}");
    params.get("code").unwrap_or_else(|| panic!("no code in {url}")).clone()
}

/// Signs in (if needed) and returns a fresh code for `authz`.
pub async fn code_for(browser: &Browser, authz: &Authz, username: &str) -> String {
    let res = authorize(browser, &authz.url, username).await;
    code_of(&res, authz)
}

/// `Authorization: Basic` per RFC 6749 §2.3.1: id and secret form-urlencoded, then base64.
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    basic_raw(&format!("{}:{}", enc(id), enc(secret)))
}

/// `Authorization: Basic BASE64(credentials)` with the credentials exactly as given.
pub fn basic_raw(credentials: &str) -> String {
    format!("Basic {}", b64_encode(credentials.as_bytes()))
}

/// The Basic header of a registered client.
pub fn basic_of(client: &TestClient) -> String {
    basic(client.id(), client.secret())
}

/// A raw form POST to a Tessera path, with an optional `Authorization` header.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    authorization: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.http.post(format!("{}{path}", app.address)).form(form);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

/// A token request authenticated with `client_secret_basic`.
pub async fn token_basic(app: &TestApp, client: &TestClient, form: &[(&str, &str)]) -> reqwest::Response {
    post_form(app, "/token", Some(&basic_of(client)), form).await
}

/// Redeems a code as `client` (basic authentication) with `verifier`.
pub async fn redeem(app: &TestApp, client: &TestClient, code: &str, verifier: Option<&str>) -> reqwest::Response {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT_URI)];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    token_basic(app, client, &form).await
}

/// Refreshes as `client` (basic authentication), optionally with a `scope`.
pub async fn refresh(
    app: &TestApp,
    client: &TestClient,
    refresh_token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    token_basic(app, client, &form).await
}

/// A successful token-endpoint answer: 200, JSON, `Cache-Control: no-store`; the body.
pub async fn token_ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "token request refused: {text}");
    assert_no_store(&headers);
    assert_json(&headers);
    serde_json::from_str(&text).unwrap()
}

/// An OAuth error answer (RFC 6749 §5.2): this status, JSON with this `error`, never cached.
pub async fn oauth_error(res: reqwest::Response, status: StatusCode, error: &str) -> Value {
    let got = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "expected {status} {error}, got {got}: {text}");
    assert_json(&headers);
    assert_no_store(&headers);
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert_eq!(body["error"], error, "{text}");
    if status == StatusCode::UNAUTHORIZED {
        assert!(headers.contains_key("www-authenticate"), "a 401 needs WWW-Authenticate: {headers:?}");
    }
    body
}

pub fn assert_no_store(headers: &reqwest::header::HeaderMap) {
    let cache = headers.get("cache-control").map(|v| v.to_str().unwrap().to_ascii_lowercase()).unwrap_or_default();
    assert!(cache.split(',').any(|d| d.trim() == "no-store"), "Cache-Control must be no-store, was {cache:?}");
}

pub fn assert_json(headers: &reqwest::header::HeaderMap) {
    let ct = headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(ct.starts_with("application/json"), "Content-Type must be application/json, was {ct:?}");
}

/// Tokens of a citizen signed in through the authorization endpoint.
pub struct SignedIn {
    pub browser: Browser,
    pub jar: Arc<Jar>,
    pub authz: Authz,
    /// The token response body.
    pub response: Value,
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: Option<String>,
}

impl SignedIn {
    pub fn refresh_token(&self) -> &str {
        self.refresh_token.as_deref().expect("a refresh token")
    }
}

/// A fresh browser signs `username` (already registered) in for `client` with `openid`
/// plus `scopes`, and the client redeems the code: the tokens, checked for the basics.
pub async fn signed_in_tokens(app: &TestApp, client: &TestClient, username: &str, scopes: &[&str]) -> SignedIn {
    let (browser, jar) = browser_with_jar(&app.address);
    signed_in_tokens_in(app, browser, jar, client, username, scopes).await
}

/// As [`signed_in_tokens`], in a browser that may already hold a session.
pub async fn signed_in_tokens_in(
    app: &TestApp,
    browser: Browser,
    jar: Arc<Jar>,
    client: &TestClient,
    username: &str,
    scopes: &[&str],
) -> SignedIn {
    let scope = std::iter::once("openid").chain(scopes.iter().copied()).collect::<Vec<_>>().join(" ");
    let authz = authz(app, client.id(), &scope, true, &[]);
    let code = code_for(&browser, &authz, username).await;
    let response = token_ok(redeem(app, client, &code, authz.verifier.as_deref()).await).await;
    let access_token = response["access_token"].as_str().expect("access_token").to_owned();
    let id_token = response["id_token"].as_str().expect("id_token").to_owned();
    let refresh_token = response["refresh_token"].as_str().map(str::to_owned);
    SignedIn { browser, jar, authz, response, access_token, id_token, refresh_token }
}

/// GET /userinfo with `Authorization: Bearer`.
pub async fn userinfo(app: &TestApp, access_token: &str) -> reqwest::Response {
    app.http.get(format!("{}/userinfo", app.address)).bearer_auth(access_token).send().await.unwrap()
}

/// The status /userinfo answers an access token with.
pub async fn userinfo_status(app: &TestApp, access_token: &str) -> StatusCode {
    userinfo(app, access_token).await.status()
}

/// The claims of a userinfo answer that must be 200 JSON.
pub async fn userinfo_ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "userinfo refused: {text}");
    assert_json(&headers);
    serde_json::from_str(&text).unwrap()
}

/// The header and the payload of a compact JWS, decoded without verification.
pub fn jwt_parts(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {jwt}");
    let header = serde_json::from_slice(&b64url_decode(parts[0])).unwrap();
    let payload = serde_json::from_slice(&b64url_decode(parts[1])).unwrap();
    (header, payload)
}

/// The JWKS as served.
pub async fn jwks(app: &TestApp) -> Value {
    let res = app.get("/jwks").await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Verifies a JWS signature with the key of its `kid` in `jwks`, independently of Tessera
/// (the `openidconnect` crate's JWK code).
pub fn verify_with_jwks(jwt: &str, jwks: &Value, alg: CoreJwsSigningAlgorithm) -> bool {
    let (header, _) = jwt_parts(jwt);
    let set: CoreJsonWebKeySet = serde_json::from_value(jwks.clone()).unwrap();
    let Some(kid) = header["kid"].as_str() else { return false };
    let Some(key) = set.keys().iter().find(|k| k.key_id().map(|id| id.as_str()) == Some(kid)) else { return false };
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    key.verify_signature(&alg, input.as_bytes(), &b64url_decode(signature)).is_ok()
}

/// The claims of an ID token verified by the relying-party library from discovery, with
/// `alg` the only algorithm allowed and, when given, the nonce checked.
pub async fn verify_id_token(
    app: &TestApp,
    client: &TestClient,
    id_token: &str,
    alg: CoreJwsSigningAlgorithm,
    nonce: Option<&str>,
) -> Result<CoreIdTokenClaims, String> {
    let rp = Rp::discover(&app.address, client).await;
    let verifier = rp.client.id_token_verifier().set_allowed_algs(vec![alg]);
    let token = CoreIdToken::from_str(id_token).map_err(|e| format!("{e:?}"))?;
    let claims = match nonce {
        Some(n) => token.claims(&verifier, &Nonce::new(n.to_owned())),
        None => token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    };
    claims.cloned().map_err(|e| format!("{e:?}"))
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Standard base64 with padding (RFC 4648 §4), for Basic credentials.
pub fn b64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// base64url without padding (RFC 4648 §5), as in JWS.
pub fn b64url_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {text}"),
        };
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn base64_helpers_follow_rfc_4648() {
    assert_eq!(b64_encode(b"f"), "Zg==");
    assert_eq!(b64_encode(b"fo"), "Zm8=");
    assert_eq!(b64_encode(b"foo"), "Zm9v");
    assert_eq!(b64_encode(b"foob"), "Zm9vYg==");
    assert_eq!(b64_encode(&[0xfb, 0xff]), "+/8=");
    assert_eq!(b64url_decode("Zm9vYmE"), b"fooba");
    assert_eq!(b64url_decode("-_8"), vec![0xfb, 0xff]);
}

/// A space-separated scope as a set (its order carries no meaning, RFC 6749 §3.3).
pub fn scopes(value: &Value) -> std::collections::BTreeSet<String> {
    value.as_str().unwrap_or_else(|| panic!("not a scope string: {value}")).split(' ').map(str::to_owned).collect()
}

/// The set of these scope names.
pub fn scope_set(names: &[&str]) -> std::collections::BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}
