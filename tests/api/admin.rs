//! The operators' admin page (issue 5): who may enter (every route, enumerated from the
//! route table itself), maker-checker for department clients through the real OIDC flow,
//! the audit log, signing keys, and operators' enrolment with a passkey.

use crate::fixtures::{PASSWORD, REDIRECT_URI, TestClient};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::oidc::browser::{Browser, attribute, hidden, post_json, unescape};
use crate::oidc::flows::{authz, basic_of, code_for, post_form, redeem, token_ok};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_domain::{AuditKind, ClientId, Clock, SystemClock};
use tessera_store::audit::{self, AuditFilter};
use tessera_testkit::softkey::SoftPasskey;

const OTHER_URI: &str = "https://portal2.transport.example.gov.hk/callback";

/// The text of the element with this id (its first text run).
fn text_by_id(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find('<')?;
    Some(unescape(html[start..end].trim()))
}

/// An operator invited (as `tessera admin invite` does) who enrols in a fresh browser:
/// the invitation page, the account, the passkey, and a passkey session on `/admin`.
async fn operator(app: &TestApp, username: &str) -> (Browser, SoftPasskey) {
    let db = app.db().await;
    let invitation =
        tessera_passkey::enrolment::invite(&db, username, "CHAN, Ops", None, SystemClock.now()).await.unwrap();
    let browser = Browser::new(&app.address);
    let key = enrol(&browser, &invitation.token).await;
    (browser, key)
}

async fn enrol(browser: &Browser, token: &str) -> SoftPasskey {
    let page = browser.get(&format!("/enrol?token={token}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let res = browser.post_form("/enrol", &[("csrf", &csrf), ("token", token)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "enrolment starts");
    let page = browser.get(res.headers()["location"].to_str().unwrap()).await.text().await.unwrap();
    let options: Value = serde_json::from_str(&attribute(&page, "data-options").unwrap()).unwrap();
    let mut key = SoftPasskey::new();
    let credential = key.create(&options, &browser.base);
    let body = json!({ "ceremony": attribute(&page, "data-ceremony"), "credential": credential });
    let (status, done) = post_json(browser, "/signup/passkey/finish", &csrf, body).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["redirect"], "/admin", "an operator lands on the admin page");
    key
}

/// The id of the first change on the approvals page.
fn change_id(page: &str) -> String {
    page.split("<section class=\"share\" id=\"change-")
        .nth(1)
        .expect("a pending change")
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

async fn csrf_of(browser: &Browser, path: &str) -> String {
    let page = browser.get(path).await;
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    hidden(&page.text().await.unwrap(), "csrf").unwrap()
}

/// A department client registered on the admin page: its id and secret (shown once).
async fn register_client(browser: &Browser, name: &str) -> (String, String) {
    let csrf = csrf_of(browser, "/admin/clients/new").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("department_en", "Transport Department"),
        ("department_zh", "運輸署"),
        ("name", name),
        ("redirect_uris", REDIRECT_URI),
        ("post_logout_redirect_uris", ""),
        ("scope", "openid"),
        ("scope", "profile"),
        ("token_endpoint_auth_method", "client_secret_basic"),
        ("subject_type", "pairwise"),
        ("sector_identifier", ""),
        ("require_pkce", "1"),
        ("id_token_alg", "RS256"),
    ];
    let res = browser.post_form("/admin/clients", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "post, redirect, get: a reload registers nothing twice");
    let shown = res.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.get(&shown).await.text().await.unwrap();
    // Shown once: the same page again no longer has it.
    let again = browser.get(&shown).await.text().await.unwrap();
    assert!(again.contains("id=\"client-secret-gone\"") && !again.contains("id=\"client-secret\""), "{again}");
    let id = text_by_id(&page, "created-client-id").expect("the client id");
    let secret = text_by_id(&page, "client-secret").expect("the secret, shown once");
    (id, secret)
}

async fn test_client(app: &TestApp, id: &str, secret: &str) -> TestClient {
    let id = ClientId::parse(id).unwrap();
    let client = app.db().await.run(move |c| tessera_store::clients::by_id(c, &id)).await.unwrap().unwrap();
    TestClient { client, secret: Some(secret.to_owned()) }
}

/// A citizen signs in to the client through the whole flow and redeems the code.
async fn sign_in_works(app: &TestApp, client: &TestClient) -> bool {
    app.citizen_if_absent("chan.taiman").await;
    let browser = Browser::new(&app.address);
    let flow = authz(app, client.id(), "openid profile", true, &[]);
    let first = browser.follow(browser.get(&flow.url).await).await;
    if first.status() != StatusCode::OK || first.url().path() != "/signin" {
        return false;
    }
    let code = code_for(&browser, &flow, "chan.taiman").await;
    redeem(app, client, &code, flow.verifier.as_deref()).await.status() == StatusCode::OK
}

async fn events(app: &TestApp, kind: AuditKind) -> Vec<tessera_domain::AuditEvent> {
    let filter = AuditFilter { kind: Some(kind), ..AuditFilter::default() };
    app.db().await.run(move |c| audit::list(c, &filter)).await.unwrap()
}

fn route_url(path: &str) -> String {
    format!("/admin{}", path.replace("{id}", "not-there"))
}

#[tokio::test]
async fn every_admin_route_refuses_visitors_citizens_and_stale_operators_and_every_form_needs_csrf() {
    let routes = tessera_web::routes::admin::ROUTES;
    assert!(routes.len() >= 15, "the route table lists the admin routes: {routes:?}");

    // Long enough for the fresh operator below, short enough to go stale in the test.
    let app = spawn_app_with(|raw| raw.admin.recent_sign_in_secs = 3).await;
    let visitor = Browser::new(&app.address);
    app.citizen("chan.taiman").await;
    let citizen = Browser::new(&app.address);
    let page = citizen.get("/signin").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    citizen.post_form("/signin", &[("csrf", &csrf), ("username", "chan.taiman"), ("password", PASSWORD)]).await;
    let (stale, _) = operator(&app, "ops.stale").await;
    let (fresh, _) = operator(&app, "ops.fresh").await;
    let fresh_csrf = csrf_of(&fresh, "/admin/keys").await;

    for (method, path) in routes {
        let url = route_url(path);
        let send = |b: &Browser, csrf: &str| {
            let request = if *method == "get" {
                b.http.get(b.url(&url))
            } else {
                b.http.post(b.url(&url)).form(&[("csrf", csrf)])
            };
            request.send()
        };
        let res = send(&visitor, "").await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{method} {url}: a visitor");
        assert_eq!(res.headers()["location"], "/signin?next=%2Fadmin", "{method} {url}");
        let res = send(&citizen, &csrf).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {url}: a citizen who is not an operator");
        if *method == "post" {
            let res = send(&fresh, "forged").await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {url}: a wrong CSRF token");
            let res = fresh.http.post(fresh.url(&url)).form(&[("name", "x")]).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {url}: no CSRF token");
        } else {
            let res = send(&fresh, &fresh_csrf).await.unwrap();
            assert!(
                [StatusCode::OK, StatusCode::NOT_FOUND].contains(&res.status()),
                "{method} {url}: an operator gets the page ({})",
                res.status()
            );
        }
    }
    // The operator whose passkey sign-in is older than the window is stepped up.
    tokio::time::sleep(std::time::Duration::from_millis(4_200)).await;
    for (method, path) in routes {
        let url = route_url(path);
        let res =
            if *method == "get" { stale.get(&url).await } else { stale.post_form(&url, &[("csrf", "any")]).await };
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{method} {url}: a stale session");
        assert_eq!(res.headers()["location"], "/signin?next=%2Fadmin&reauth=1", "{method} {url}");
    }
    // The step-up page takes a passkey only.
    let page = stale.get("/signin?next=%2Fadmin&reauth=1").await.text().await.unwrap();
    assert!(page.contains("id=\"signin-stepup\"") && !page.contains("name=\"password\""), "{page}");
}

#[tokio::test]
async fn a_client_registered_by_one_operator_works_only_after_another_approves_it() {
    let app = spawn_app().await;
    let (a, _) = operator(&app, "ops.maker").await;
    let (b, _) = operator(&app, "ops.checker").await;
    let (id, secret) = register_client(&a, "Driving licence renewal").await;
    let client = test_client(&app, &id, &secret).await;
    assert!(!client.client.enabled, "waiting for approval");
    assert!(!sign_in_works(&app, &client).await, "not usable before approval");
    let res = post_form(&app, "/token", Some(&basic_of(&client)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "nor at the token endpoint");

    // The maker cannot approve their own change, nor enable the client around it.
    let approvals = a.get("/admin/approvals").await.text().await.unwrap();
    let change = change_id(&approvals);
    let csrf = csrf_of(&a, "/admin/keys").await;
    let res = a.post_form(&format!("/admin/approvals/{change}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("You cannot approve or reject your own change"));
    let res = a.post_form(&format!("/admin/clients/{id}/enable"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(!sign_in_works(&app, &client).await);

    // The checker approves: citizens can sign in.
    let csrf = csrf_of(&b, "/admin/keys").await;
    let res = b.post_form(&format!("/admin/approvals/{change}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(res.headers()["location"], "/admin/approvals?done=approved");
    assert!(sign_in_works(&app, &client).await, "usable once approved");
    // Deciding again is refused.
    let res = b.post_form(&format!("/admin/approvals/{change}/reject"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // New redirect URIs wait for approval too; a name change does not.
    let csrf = csrf_of(&a, &format!("/admin/clients/{id}")).await;
    let edit = |uris: &'static str, name: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("department_en", "Transport Department".to_owned()),
            ("department_zh", "運輸署".to_owned()),
            ("name", name.to_owned()),
            ("redirect_uris", uris.to_owned()),
            ("post_logout_redirect_uris", String::new()),
            ("scope", "openid".to_owned()),
            ("scope", "profile".to_owned()),
            ("require_pkce", "1".to_owned()),
            ("id_token_alg", "RS256".to_owned()),
        ]
    };
    let form = edit(OTHER_URI, "Licensing");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = a.post_form(&format!("/admin/clients/{id}"), &form).await;
    assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/admin/clients/{id}?done=proposed"));
    let client = test_client(&app, &id, &secret).await;
    assert_eq!(client.client.name, "Licensing", "the name applies at once");
    assert_eq!(client.client.redirect_uris, vec![REDIRECT_URI.to_owned()], "the redirect URI waits");
    let page = a.get(&format!("/admin/clients/{id}")).await.text().await.unwrap();
    assert!(
        page.contains("id=\"client-change\"") && unescape(&page).contains(OTHER_URI),
        "the pending change is shown"
    );
    assert!(!page.contains("name=\"client_id\""), "the client id is fixed after registration");
    // A second change while one waits is refused.
    let res = a.post_form(&format!("/admin/clients/{id}"), &form).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);

    let approvals = b.get("/admin/approvals").await.text().await.unwrap();
    let change = change_id(&approvals);
    let csrf = csrf_of(&b, "/admin/keys").await;
    b.post_form(&format!("/admin/approvals/{change}/approve"), &[("csrf", &csrf)]).await;
    let client = test_client(&app, &id, &secret).await;
    assert_eq!(client.client.redirect_uris, vec![OTHER_URI.to_owned()]);

    // Invalid settings are refused with a message in the operator's language.
    let bad = edit("http://portal.example.gov.hk/cb#frag", "Licensing");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let csrf_ok = csrf_of(&a, &format!("/admin/clients/{id}")).await;
    let bad: Vec<(&str, &str)> =
        bad.into_iter().map(|(k, v)| if k == "csrf" { (k, csrf_ok.as_str()) } else { (k, v) }).collect();
    let res = a.post_form(&format!("/admin/clients/{id}?ui_locales=zh-HK"), &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("重新導向 URI 1：不可使用片段"), "the problem, in Chinese");

    // Disable stops it at once; the audit log names both operators and never a secret.
    let csrf = csrf_of(&a, &format!("/admin/clients/{id}")).await;
    a.post_form(&format!("/admin/clients/{id}/disable"), &[("csrf", &csrf)]).await;
    let res = post_form(&app, "/token", Some(&basic_of(&client)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let log = a.get(&format!("/admin/audit?client={id}")).await.text().await.unwrap();
    for kind in ["client.created", "client.enabled", "client.updated", "client.disabled"] {
        assert!(log.contains(&format!("data-kind=\"{kind}\"")), "{kind} in the audit log");
    }
    assert!(log.contains("ops.maker") && log.contains("ops.checker"), "actors by name");
    assert!(!log.contains(&secret), "never the secret");
    let created = events(&app, AuditKind::CLIENT_CREATED).await;
    assert!(!created[0].detail.contains(&secret));
}

#[tokio::test]
async fn with_maker_checker_off_a_single_operator_registers_a_working_client_and_rotates_its_secret() {
    let app = spawn_app_with(|raw| raw.admin.maker_checker = false).await;
    let (ops, _) = operator(&app, "ops.solo").await;
    let (id, secret) = register_client(&ops, "Public housing").await;
    let client = test_client(&app, &id, &secret).await;
    assert!(client.client.enabled);
    assert!(sign_in_works(&app, &client).await);

    let csrf = csrf_of(&ops, &format!("/admin/clients/{id}")).await;
    let res = ops.post_form(&format!("/admin/clients/{id}/secret"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let shown = res.headers()["location"].to_str().unwrap().to_owned();
    // Another operator cannot open the page with the new secret.
    let (other, _) = operator(&app, "ops.other").await;
    assert!(!other.get(&shown).await.text().await.unwrap().contains("id=\"client-secret\""));
    let page = ops.get(&shown).await.text().await.unwrap();
    let new_secret = text_by_id(&page, "client-secret").unwrap();
    assert_ne!(new_secret, secret);
    let old = post_form(&app, "/token", Some(&basic_of(&client)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "the old secret stops working");
    let renewed = test_client(&app, &id, &new_secret).await;
    token_ok(post_form(&app, "/token", Some(&basic_of(&renewed)), &[("grant_type", "client_credentials")]).await).await;
    assert_eq!(events(&app, AuditKind::CLIENT_SECRET_ROTATED).await.len(), 1);
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_and_keys_rotate_from_the_admin_page() {
    let app = spawn_app().await;
    let (ops, _) = operator(&app, "ops.audit").await;
    let db = app.db().await;
    let now = SystemClock.now();
    for i in 0..60 {
        let event = tessera_domain::AuditEvent {
            client_id: Some("td".into()),
            ..tessera_domain::AuditEvent::new(AuditKind::TOKEN_REUSE_DETECTED, now.plus_secs(i))
        };
        db.run(move |c| audit::append(c, &event)).await.unwrap();
    }
    let page = ops.get("/admin/audit?kind=token.reuse_detected").await.text().await.unwrap();
    assert_eq!(page.matches("data-kind=\"token.reuse_detected\"").count(), 50, "a page of 50");
    assert!(!page.contains("data-kind=\"operator.invited\""), "filtered by type");
    let next = page.split("id=\"audit-older\"").next().unwrap().rsplit("href=\"").next().unwrap();
    let next = unescape(next.split('"').next().unwrap());
    let page = ops.get(&next).await.text().await.unwrap();
    assert_eq!(page.matches("data-kind=\"token.reuse_detected\"").count(), 10);
    let page = ops.get("/admin/audit?actor=cli").await.text().await.unwrap();
    assert!(page.contains("data-kind=\"operator.invited\""), "{page}");
    let page = ops.get("/admin/audit?since=not-a-date").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Give dates as year-month-day."));

    let jwks_before: Value = app.get("/jwks").await.json().await.unwrap();
    let csrf = csrf_of(&ops, "/admin/keys").await;
    let res = ops.post_form("/admin/keys/rotate", &[("csrf", &csrf)]).await;
    assert_eq!(res.headers()["location"], "/admin/keys?done=rotated");
    let jwks_after: Value = app.get("/jwks").await.json().await.unwrap();
    assert!(jwks_after["keys"].as_array().unwrap().len() > jwks_before["keys"].as_array().unwrap().len());
    let rotated = events(&app, AuditKind::KEY_ROTATED).await;
    assert_eq!(rotated.len(), 1);
    assert!(rotated[0].actor.is_some());
}

#[tokio::test]
async fn operators_invite_operators_with_a_link_that_works_once() {
    let app = spawn_app().await;
    let (ops, _) = operator(&app, "ops.first").await;
    let csrf = csrf_of(&ops, "/admin/operators").await;
    let res = ops
        .post_form("/admin/operators/invite", &[("csrf", &csrf), ("username", "ops.second"), ("name_en", "WONG, Ops")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let link = text_by_id(&page, "invitation-link").expect("the link, shown once");
    let token = link.split("token=").nth(1).unwrap().to_owned();

    let second = Browser::new(&app.address);
    enrol(&second, &token).await;
    assert_eq!(second.get("/admin").await.status(), StatusCode::OK, "the new operator is in");
    // Used: the link is refused now, in another browser too.
    let third = Browser::new(&app.address);
    let res = third.get(&format!("/enrol?token={token}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A taken username cannot be invited.
    let res = ops
        .post_form("/admin/operators/invite", &[("csrf", &csrf), ("username", "ops.second"), ("name_en", "X")])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let invited = events(&app, AuditKind::OPERATOR_INVITED).await;
    assert_eq!(invited.len(), 2);
    assert!(invited.iter().all(|e| !e.detail.contains(&token)), "never the token");
}

/// A multipart/form-data body of `fields` (name, filename, bytes), as a browser sends it.
fn multipart(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----tessera-test-boundary-7d1c";
    let mut body = Vec::new();
    for (name, filename, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: image/png\r\n\r\n")
                    .as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload_logo(browser: &Browser, id: &str, csrf: &str, logo: &[u8]) -> reqwest::Response {
    let (content_type, body) = multipart(&[("csrf", None, csrf.as_bytes()), ("logo", Some("logo.png"), logo)]);
    let url = browser.url(&format!("/admin/clients/{id}/logo"));
    browser.http.post(url).header("content-type", content_type).body(body).send().await.unwrap()
}

#[tokio::test]
async fn a_logo_is_a_small_png_or_jpeg_kept_by_tessera_and_shown_to_citizens() {
    let app = spawn_app_with(|raw| raw.admin.maker_checker = false).await;
    let (ops, _) = operator(&app, "ops.logo").await;
    let (id, _) = register_client(&ops, "Library cards").await;
    let csrf = csrf_of(&ops, &format!("/admin/clients/{id}")).await;
    let png: Vec<u8> = [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], &[7u8; 100][..]].concat();

    // Refused: an SVG (it can carry script), a file over 64 KiB, a forged token.
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    let res = upload_logo(&ops, &id, &csrf, svg).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("PNG or JPEG"));
    let big: Vec<u8> = [&png[..8], &vec![0u8; 70 * 1024][..]].concat();
    assert_eq!(upload_logo(&ops, &id, &csrf, &big).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(upload_logo(&ops, &id, "forged", &png).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/clients/{id}/logo")).await.status(), StatusCode::NOT_FOUND);

    let res = upload_logo(&ops, &id, &csrf, &png).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let served = app.get(&format!("/clients/{id}/logo")).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), png.as_slice());

    // The sign-in page of that department shows it (from Tessera itself).
    let browser = Browser::new(&app.address);
    let flow = authz(&app, &id, "openid profile", true, &[]);
    let page = browser.follow(browser.get(&flow.url).await).await.text().await.unwrap();
    assert!(unescape(&page).contains(&format!("src=\"/clients/{id}/logo\"")), "{page}");

    let res = ops.post_form(&format!("/admin/clients/{id}/logo/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/clients/{id}/logo")).await.status(), StatusCode::NOT_FOUND);
    let updates = events(&app, AuditKind::CLIENT_UPDATED).await;
    assert!(
        updates.iter().any(|e| e.detail.contains("sha256")) && updates.iter().any(|e| e.detail.contains("removed"))
    );
}
