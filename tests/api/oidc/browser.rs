//! A browser stand-in for the protocol tests: keeps cookies, never follows redirects,
//! and fills in Tessera's plain HTML forms (CSRF token included) the way a person would.

use crate::fixtures::PASSWORD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use tessera_testkit::softkey::SoftPasskey;
use url::Url;

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

/// The value of `<input ... name="NAME" ... value="VALUE">` in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let v = tag.find("value=\"")? + 7;
    let len = tag[v..].find('"')?;
    Some(tag[v..v + len].replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'"))
}

/// Undoes tera's HTML escaping of an attribute value or text.
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The (unescaped) value of the first attribute `name` in a page.
pub fn attribute(html: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let at = html.find(&needle)? + needle.len();
    let len = html[at..].find('"')?;
    Some(unescape(&html[at..at + len]))
}

/// The query parameters of a redirect's `Location`.
pub fn location_params(res: &reqwest::Response) -> (Url, HashMap<String, String>) {
    let location = res.headers()["location"].to_str().unwrap();
    let url = Url::parse(location).unwrap();
    let params = url.query_pairs().into_owned().collect();
    (url, params)
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
        Browser { http, base: base.to_owned() }
    }

    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") { path_or_url.to_owned() } else { format!("{}{path_or_url}", self.base) }
    }

    pub async fn get(&self, path_or_url: &str) -> reqwest::Response {
        self.http.get(self.url(path_or_url)).send().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url(path)).form(form).send().await.unwrap()
    }

    /// Follows Tessera-internal 303s until the browser leaves Tessera (a redirect to
    /// another origin) or lands on a page; returns that last response.
    pub async fn follow(&self, mut res: reqwest::Response) -> reqwest::Response {
        for _ in 0..10 {
            if !res.status().is_redirection() {
                return res;
            }
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            if location.starts_with("http") && !location.starts_with(&self.base) {
                return res;
            }
            res = self.get(&location).await;
        }
        panic!("too many redirects");
    }

    /// On a sign-in page: submits the form with this username and the test password.
    pub async fn sign_in(&self, page: reqwest::Response, username: &str) -> reqwest::Response {
        assert_eq!(page.status(), StatusCode::OK, "expected the sign-in page");
        let html = page.text().await.unwrap();
        assert!(html.contains("name=\"password\""), "not the sign-in page: {html}");
        let csrf = hidden(&html, "csrf").expect("csrf field");
        let authz = hidden(&html, "authz").unwrap_or_default();
        let res = self
            .post_form("/signin", &[("csrf", &csrf), ("authz", &authz), ("username", username), ("password", PASSWORD)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in refused");
        self.follow(res).await
    }

    /// On a consent page: allows (keeping the pre-selected claims) or denies.
    pub async fn consent(&self, page: reqwest::Response, allow: bool) -> reqwest::Response {
        self.consent_with(page, allow, None).await
    }

    /// On a consent page: allows with exactly these optional claims (None: as pre-selected).
    pub async fn consent_with(
        &self,
        page: reqwest::Response,
        allow: bool,
        claims: Option<&[&str]>,
    ) -> reqwest::Response {
        assert_eq!(page.status(), StatusCode::OK, "expected the consent page");
        let html = page.text().await.unwrap();
        assert!(html.contains("name=\"decision\""), "not the consent page: {html}");
        let csrf = hidden(&html, "csrf").unwrap();
        let authz = hidden(&html, "authz").unwrap();
        let mut form = vec![("csrf", csrf.as_str()), ("authz", authz.as_str())];
        form.push(("decision", if allow { "allow" } else { "deny" }));
        let preselected: Vec<String> = checked_claims(&html);
        let chosen: Vec<&str> = match claims {
            Some(list) => list.to_vec(),
            None => preselected.iter().map(String::as_str).collect(),
        };
        for claim in &chosen {
            form.push(("claim", claim));
        }
        let res = self.post_form("/consent", &form).await;
        self.follow(res).await
    }
}

/// The optional claims pre-selected on a consent page.
fn checked_claims(html: &str) -> Vec<String> {
    html.split('<')
        .filter(|tag| tag.starts_with("input") && tag.contains("name=\"claim\"") && tag.contains("checked"))
        .filter_map(|tag| {
            let v = tag.find("value=\"")? + 7;
            let len = tag[v..].find('"')?;
            Some(tag[v..v + len].to_owned())
        })
        .collect()
}

// ---- Passkeys, as static/passkey.js drives them -------------------------------------------

/// POSTs JSON to a passkey endpoint the way `static/passkey.js` does (CSRF header).
pub async fn post_json(browser: &Browser, path: &str, csrf: &str, body: Value) -> (StatusCode, Value) {
    let res = browser
        .http
        .post(browser.url(path))
        .header("x-csrf-token", csrf)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Signs `username` in by password outside any flow and adds a passkey on the account page.
pub async fn add_passkey(browser: &Browser, username: &str) -> SoftPasskey {
    let page = browser.get("/signin?next=%2Faccount").await.text().await.unwrap();
    let csrf = hidden(&page, "csrf").unwrap();
    let res = browser
        .post_form("/signin", &[("csrf", &csrf), ("next", "/account"), ("username", username), ("password", PASSWORD)])
        .await;
    assert_eq!(res.headers()["location"], "/account");
    let account = browser.get("/account").await.text().await.unwrap();
    let csrf = hidden(&account, "csrf").unwrap();
    let (status, start) = post_json(browser, "/passkey/register/start", &csrf, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let mut key = SoftPasskey::new();
    let credential = key.create(&start["options"], &browser.base);
    let body = json!({ "ceremony": start["ceremony"], "credential": credential, "name": "Phone" });
    let (status, done) = post_json(browser, "/passkey/register/finish", &csrf, body).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    key
}

/// On a sign-in page of a flow: signs in with `key` as the script would (for the
/// username the page names, if any) and follows the redirect it answers.
pub async fn passkey_sign_in(browser: &Browser, page: &str, key: &SoftPasskey) -> reqwest::Response {
    let csrf = hidden(page, "csrf").unwrap();
    let authz = hidden(page, "authz").expect("a pending request on the page");
    let start_body = match hidden(page, "username") {
        Some(username) => json!({ "username": username }),
        None => json!({}),
    };
    let (status, start) = post_json(browser, "/passkey/signin/start", &csrf, start_body).await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let credential = key.get(&start["options"], &browser.base);
    let body = json!({ "ceremony": start["ceremony"], "credential": credential, "authz": authz });
    let (status, done) = post_json(browser, "/passkey/signin/finish", &csrf, body).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    browser.follow(browser.get(done["redirect"].as_str().unwrap()).await).await
}
