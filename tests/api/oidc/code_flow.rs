//! The basic code flow end to end (CONFORMANCE §1, oidcc-server).

use super::browser::{Browser, location_params};
use super::rp::Rp;
use crate::fixtures::REDIRECT_URI;
use crate::helpers::spawn_app;
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{OAuth2TokenResponse, TokenResponse};

#[tokio::test]
async fn a_department_signs_a_citizen_in_with_the_code_flow() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen("chan.taiman").await;
    let rp = Rp::discover(&app.address, &client).await;
    let browser = Browser::new(&app.address);

    let request = rp.request(&["profile", "email"]);
    let page = browser.follow(browser.get(request.url.as_str()).await).await;
    let page = browser.sign_in(page, "chan.taiman").await;
    let back = browser.consent(page, true).await;

    let (url, params) = location_params(&back);
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    assert_eq!(params["state"], *request.state.secret(), "state echoed byte-exact");
    assert_eq!(params["iss"], app.address, "RFC 9207 iss");
    let code = &params["code"];
    assert!(code.len() >= 22, "code has at least 128 bits");

    let tokens = rp.exchange(code, request.verifier.unwrap()).await.unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&rp.client.id_token_verifier(), &request.nonce).expect("a valid ID token");
    assert_eq!(claims.issuer().as_str(), app.address);
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.auth_context_ref().map(|a| a.as_str()), Some("urn:tessera:acr:password"));
    assert!(tokens.refresh_token().is_some());

    let userinfo: CoreUserInfoClaims = rp
        .client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&rp.http)
        .await
        .expect("userinfo");
    assert_eq!(userinfo.subject(), claims.subject());
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("taiman.chan@example.hk"));
    assert_eq!(userinfo.name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("CHAN, Tai Man"));
}
