//! Several nodes on one PostgreSQL and one Redis: a citizen may land on any node at any
//! step, and single-use things stay single-use across all of them.

use crate::fixtures::REDIRECT_URI;
use crate::helpers::spawn_cluster;
use crate::oidc::browser::{Browser, location_params};
use reqwest::StatusCode;

fn authorize_url(node: &str, client_id: &str) -> String {
    let challenge = tessera_oidc::pkce::s256("cluster-test-verifier-cluster-test-verifier-0123");
    format!(
        "{node}/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20email&state=st&nonce=n&code_challenge={challenge}&code_challenge_method=S256",
        url::form_urlencoded::byte_serialize(REDIRECT_URI.as_bytes()).collect::<String>()
    )
}

async fn redeem(node: &str, client: &crate::fixtures::TestClient, code: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{node}/token"))
        .basic_auth(client.id(), Some(client.secret()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", "cluster-test-verifier-cluster-test-verifier-0123"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_flow_moves_between_nodes_and_a_code_is_single_use_across_them() {
    let Some(nodes) = spawn_cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let client = a.department_client().await;
    a.citizen("node.hopper").await;

    // The authorization request arrives at node A; the sign-in form is posted to node B
    // (browsers share cookies between ports of one host, like nodes behind one name).
    let browser_a = Browser::new(&a.address);
    let browser_b = Browser { http: browser_a.http.clone(), base: b.address.clone() };
    let res = browser_a.get(&authorize_url(&a.address, client.id())).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let signin_path = res.headers()["location"].to_str().unwrap().to_owned();
    let page = browser_b.get(&signin_path).await;
    let page = browser_b.sign_in(page, "node.hopper").await;
    let back = browser_a.consent(page, true).await;
    let (_, params) = location_params(&back);
    let first_code = params["code"].clone();

    // Silent SSO on node B with the session made on node B... and on node A.
    let res = browser_a.get(&authorize_url(&a.address, client.id())).await;
    let (_, params) = location_params(&res);
    let code = params.get("code").expect("node A knows the session made through node B").clone();

    // Redeemed on A, replayed on B: refused, and what A issued is revoked everywhere.
    let tokens: serde_json::Value = redeem(&a.address, &client, &code).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let userinfo = |node: String, token: String| async move {
        reqwest::Client::new().get(format!("{node}/userinfo")).bearer_auth(token).send().await.unwrap().status()
    };
    assert_eq!(userinfo(b.address.clone(), access.clone()).await, StatusCode::OK, "node B accepts A's token");
    let replay = redeem(&b.address, &client, &code).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(userinfo(a.address.clone(), access.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo(b.address.clone(), access).await, StatusCode::UNAUTHORIZED);

    // The first code is still good once, on either node.
    assert_eq!(redeem(&b.address, &client, &first_code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_on_two_nodes_have_one_winner() {
    let Some(nodes) = spawn_cluster(2).await else { return };
    let (a, b) = (&nodes[0], &nodes[1]);
    let client = a.department_client().await;
    a.citizen("race.runner").await;
    let browser = Browser::new(&a.address);
    let page = browser.follow(browser.get(&authorize_url(&a.address, client.id())).await).await;
    let page = browser.sign_in(page, "race.runner").await;
    let back = browser.consent(page, true).await;
    let (_, params) = location_params(&back);
    let code = params["code"].clone();
    let (first, second) = tokio::join!(redeem(&a.address, &client, &code), redeem(&b.address, &client, &code));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
}
