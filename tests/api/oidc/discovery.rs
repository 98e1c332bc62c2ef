//! OpenID Provider metadata (Config OP, OIDC Discovery 1.0 §3) and the JWKS: distinct
//! kids, no private material, and keys that outlive a rotation.

use super::flows::{jwks, jwt_parts, signed_in_tokens, verify_id_token, verify_with_jwks};
use crate::helpers::{TestApp, spawn_app};
use openidconnect::core::CoreJwsSigningAlgorithm;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use tessera_domain::{Clock, SystemClock};

async fn metadata(app: &TestApp) -> Value {
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    res.json().await.unwrap()
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap_or_else(|| panic!("not an array: {value}")).iter().map(|v| v.as_str().unwrap()).collect()
}

fn kids(jwks: &Value) -> BTreeSet<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_discovery_issuer_is_exactly_the_base_url() {
    let app = spawn_app().await;
    let doc = metadata(&app).await;
    assert_eq!(doc["issuer"], app.address.as_str(), "no trailing slash, nothing added");
    assert!(!app.address.ends_with('/'));
}

#[tokio::test]
async fn every_discovered_endpoint_is_under_the_issuer_and_answers() {
    let app = spawn_app().await;
    let doc = metadata(&app).await;
    let prefix = format!("{}/", app.address);
    for name in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "introspection_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
    ] {
        let url = doc[name].as_str().unwrap_or_else(|| panic!("{name} missing: {doc}"));
        assert!(url.starts_with(&prefix), "{name} = {url} is not under {prefix}");
        let path = &url[prefix.len() - 1..];
        let res = if ["token_endpoint", "introspection_endpoint", "revocation_endpoint"].contains(&name) {
            super::flows::post_form(&app, path, None, &[("token", "x")]).await
        } else {
            app.get(path).await
        };
        assert_ne!(res.status(), StatusCode::NOT_FOUND, "{name} = {url} does not exist");
    }
}

#[tokio::test]
async fn discovery_publishes_what_the_config_op_profile_requires() {
    let app = spawn_app().await;
    let doc = metadata(&app).await;
    assert!(strings(&doc["id_token_signing_alg_values_supported"]).contains(&"RS256"), "{doc}");
    let subjects = strings(&doc["subject_types_supported"]);
    assert!(!subjects.is_empty() && subjects.iter().all(|s| ["public", "pairwise"].contains(s)), "{subjects:?}");
    assert_eq!(strings(&doc["response_types_supported"]), ["code"], "code flow only");
    let scopes = strings(&doc["scopes_supported"]);
    for scope in ["openid", "profile", "email", "phone", "address"] {
        assert!(scopes.contains(&scope), "scopes_supported lacks {scope}: {scopes:?}");
    }
    let claims = strings(&doc["claims_supported"]);
    for claim in ["sub", "iss", "name", "email", "phone_number", "address"] {
        assert!(claims.contains(&claim), "claims_supported lacks {claim}: {claims:?}");
    }
    assert_eq!(strings(&doc["code_challenge_methods_supported"]), ["S256"]);
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["request_parameter_supported"], false);
    let methods = strings(&doc["token_endpoint_auth_methods_supported"]);
    assert!(methods.contains(&"client_secret_basic") && methods.contains(&"client_secret_post"), "{methods:?}");
    if doc.get("grant_types_supported").is_some() {
        let grants = strings(&doc["grant_types_supported"]);
        assert!(grants.contains(&"authorization_code"), "{grants:?}");
        assert!(!grants.contains(&"password") && !grants.contains(&"implicit"), "{grants:?}");
    }
}

#[tokio::test]
async fn the_jwks_has_distinct_kids_and_no_private_or_symmetric_material() {
    let app = spawn_app().await;
    let doc = jwks(&app).await;
    let keys = doc["keys"].as_array().expect("keys");
    assert!(keys.iter().any(|k| k["kty"] == "RSA"), "an RSA key for RS256: {doc}");
    let mut seen = BTreeSet::new();
    for key in keys {
        let kid = key["kid"].as_str().unwrap_or_else(|| panic!("a key without kid: {key}"));
        assert!(seen.insert(kid.to_owned()), "kid {kid} appears twice");
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(key.get(private).is_none(), "{private} published in {key}");
        }
        assert_ne!(key["kty"], "oct", "no symmetric keys: {key}");
    }
}

#[tokio::test]
async fn an_id_token_signed_before_a_key_rotation_verifies_with_the_jwks_after_it() {
    let app = spawn_app().await;
    let client = app.department_client().await;
    app.citizen("chan.taiman").await;
    let tokens = signed_in_tokens(&app, &client, "chan.taiman", &[]).await;
    let (header, _) = jwt_parts(&tokens.id_token);
    let old_kid = header["kid"].as_str().unwrap().to_owned();
    let before = kids(&jwks(&app).await);
    assert!(before.contains(&old_kid));

    // `tessera keys rotate`.
    let master = tessera_server::keyfile::load_master_key(&app.settings.master_key).unwrap();
    let keys = tessera_oidc::KeyManager::new(app.db().await, &master).unwrap();
    let rotations = keys.rotate(SystemClock.now()).await.unwrap();
    let rs256 = rotations.iter().find(|r| r.alg.as_str() == "RS256").expect("RS256 rotated");
    assert_ne!(rs256.active, old_kid, "another key signs from now on");

    let after_doc = jwks(&app).await;
    let after = kids(&after_doc);
    assert!(after.contains(&rs256.active) && after.contains(&rs256.next), "the new keys are published: {after:?}");
    assert!(!before.contains(&rs256.next), "the new next key is new");
    assert!(after.contains(&old_kid), "the retired key stays published: {after:?}");
    assert!(verify_with_jwks(&tokens.id_token, &after_doc, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256));
    verify_id_token(
        &app,
        &client,
        &tokens.id_token,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&tokens.authz.nonce),
    )
    .await
    .expect("an RP discovering the JWKS after the rotation still verifies the old ID token");
}
