//! The measured operations, as a browser and a department's back end would do them over
//! real HTTP: client-credentials grants, silent SSO flows, password sign-in flows, passkey
//! sign-in flows (a software authenticator answering the WebAuthn ceremonies), and the
//! passkey ceremony alone, without the OIDC flow around it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use tessera_testkit::softkey::SoftPasskey;
use url::Url;

use crate::html::{Jar, input_value, input_values};
use crate::target::{resolve_localhost, same_origin};

/// The SSO cookie over plain http (over https it carries the `__Host-` prefix).
pub const SSO_COOKIE: &str = "tessera_sid";
/// The CSRF cookie over plain http.
pub const CSRF_COOKIE: &str = "tessera_csrf";

/// The server under load and the client registered on it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server's origin (already checked to be loopback).
    pub base: Url,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub scope: String,
}

/// The header of the CSRF token on the JSON endpoints.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The time each HTTP step of one flow took, in order.
pub type Steps = Vec<(&'static str, Duration)>;

/// The names under which the shared steps of a sign-in flow are reported.
struct FlowSteps {
    authorize: &'static str,
    page: &'static str,
    continue_: &'static str,
    token: &'static str,
}

const PASSWORD_STEPS: FlowSteps = FlowSteps {
    authorize: "signin.authorize",
    page: "signin.page",
    continue_: "signin.continue",
    token: "signin.token",
};

const PASSKEY_STEPS: FlowSteps = FlowSteps {
    authorize: "passkey.authorize",
    page: "passkey.page",
    continue_: "passkey.continue",
    token: "passkey.token",
};

/// A fresh browser on the sign-in page.
struct SigninPage {
    jar: Jar,
    csrf: String,
    authz: String,
}

/// A browser that has been on the sign-in page once: its CSRF cookie, and the token the
/// passkey script sends in the `X-CSRF-Token` header (the same value: double submit).
pub struct CsrfBrowser {
    jar: Jar,
    csrf: String,
}

/// A citizen's registered software passkey.
///
/// The server refuses an assertion whose signature counter is not above the last one it
/// saw; two agents signing with one key could deliver their assertions out of order. The
/// lock is held from signing until the server has answered, so one key's assertions reach
/// the server in order. (With citizens handed out as in the password phase, no two agents
/// share a citizen when the pool is a multiple of the concurrency: the lock is then free.)
pub struct BenchPasskey {
    pub username: String,
    key: tokio::sync::Mutex<SoftPasskey>,
}

impl BenchPasskey {
    pub fn new(username: String, key: SoftPasskey) -> BenchPasskey {
        BenchPasskey { username, key: tokio::sync::Mutex::new(key) }
    }
}

/// One HTTP answer, fully read.
struct Reply {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

/// Where a redirect leads.
enum Next {
    /// Another page of Tessera.
    Internal(Url),
    /// Back to the department with an authorization code.
    Code(String),
}

/// One simulated user agent: its own HTTP connection (keep-alive) to the server.
pub struct Agent {
    http: reqwest::Client,
    target: Target,
}

impl Agent {
    /// A client that never follows redirects by itself, never uses a proxy, and resolves
    /// `localhost` to the loopback address only.
    pub fn new(target: &Target) -> anyhow::Result<Agent> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .user_agent("tessera-load/0.1");
        if let (Some(host), Some(ip), Some(port)) =
            (target.base.host_str(), resolve_localhost(&target.base), target.base.port_or_known_default())
        {
            builder = builder.resolve(host, SocketAddr::new(ip, port));
        }
        Ok(Agent { http: builder.build().context("cannot build the HTTP client")?, target: target.clone() })
    }

    /// (a) `POST /token` with `grant_type=client_credentials`.
    pub async fn client_credentials(&self, steps: &mut Steps) -> anyhow::Result<()> {
        let body = form(&[("grant_type", "client_credentials")]);
        let reply = self.token_request(steps, "cc.token", body).await?;
        let json: serde_json::Value = serde_json::from_str(&reply.body).context("token response is not JSON")?;
        ensure!(is_jws(&json["access_token"]), "no access_token in {}", reply.body);
        Ok(())
    }

    /// (b) A silent SSO flow: `GET /authorize` with the SSO cookie, straight back with a
    /// code, then `POST /token` for it.
    pub async fn silent_sso(&self, sso: &Jar, steps: &mut Steps) -> anyhow::Result<()> {
        let reply = self.get(steps, "sso.authorize", self.authorize_url()?, sso).await?;
        let code = match self.next(&reply)? {
            Next::Code(code) => code,
            Next::Internal(url) => bail!("the SSO session did not pass through: sent to {}", url.path()),
        };
        self.redeem(steps, "sso.token", &code).await
    }

    /// (c) A password sign-in flow from a fresh browser: `GET /authorize` → `GET /signin`
    /// → `POST /signin` → `GET /authorize/continue` → code → `POST /token`. With
    /// `give_consent` the consent page, if shown, is answered "allow" (setup only; during
    /// the measurement a consent page is an error). Returns the browser's cookies, holding
    /// the new SSO session.
    pub async fn password_signin(
        &self,
        username: &str,
        password: &str,
        give_consent: bool,
        steps: &mut Steps,
    ) -> anyhow::Result<Jar> {
        let names = &PASSWORD_STEPS;
        let SigninPage { mut jar, csrf, authz } = self.signin_page(names, steps).await?;
        let body = form(&[("csrf", &csrf), ("authz", &authz), ("username", username), ("password", password)]);
        let reply = self.post(steps, "signin.post", "/signin", body, &jar).await?;
        ensure!(
            reply.status == StatusCode::SEE_OTHER,
            "sign-in answered {} (wrong password or throttled?)",
            reply.status
        );
        reply.set_cookies.iter().for_each(|c| jar.apply(c));
        ensure!(jar.get(SSO_COOKIE).is_some(), "sign-in set no SSO cookie");
        let next = self.next(&reply)?;
        self.continue_to_code(names, next, &jar, give_consent, steps).await?;
        Ok(jar)
    }

    /// (d) A passkey sign-in flow from a fresh browser: `GET /authorize` → `GET /signin` →
    /// `POST /passkey/signin/start` (usernameless) → the software authenticator signs →
    /// `POST /passkey/signin/finish` → `GET /authorize/continue` → code → `POST /token`.
    /// The setup must have given consent and registered `passkey` for its citizen.
    pub async fn passkey_signin(&self, passkey: &BenchPasskey, origin: &str, steps: &mut Steps) -> anyhow::Result<()> {
        let names = &PASSKEY_STEPS;
        let SigninPage { mut jar, csrf, authz } = self.signin_page(names, steps).await?;
        let started = self.post_json(steps, "passkey.start", "/passkey/signin/start", &json!({}), &csrf, &jar).await?;
        let ceremony = started["ceremony"].as_str().context("no ceremony in the sign-in options")?;
        let reply = {
            // Held until the server has checked the signature counter: assertions of one
            // key must arrive in the order they were signed (see `BenchPasskey`).
            let key = passkey.key.lock().await;
            let credential = key
                .try_get(&started["options"], origin)
                .map_err(|e| anyhow!("the software authenticator refused: {e}"))?;
            let body = json!({"ceremony": ceremony, "credential": credential, "authz": authz});
            self.send_json(steps, "passkey.finish", "/passkey/signin/finish", &body, &csrf, &jar).await?
        };
        reply.set_cookies.iter().for_each(|c| jar.apply(c));
        ensure!(jar.get(SSO_COOKIE).is_some(), "the passkey sign-in set no SSO cookie");
        let finished: serde_json::Value =
            serde_json::from_str(&reply.body).context("the passkey sign-in answer is not JSON")?;
        let redirect = finished["redirect"].as_str().context("no redirect in the passkey sign-in answer")?;
        let url = self.target.base.join(redirect).context("the redirect is not a URL")?;
        ensure!(same_origin(&url, &self.target.base), "the passkey sign-in redirected off the server");
        ensure!(url.path() == "/authorize/continue", "the passkey sign-in sent the browser to {}", url.path());
        self.continue_to_code(names, Next::Internal(url), &jar, false, steps).await
    }

    /// Once per agent, not measured: `GET /signin` (no authorization request) in a fresh
    /// browser, keeping only its CSRF cookie and token, for [`passkey_ceremony`](Self::passkey_ceremony).
    pub async fn csrf_browser(&self) -> anyhow::Result<CsrfBrowser> {
        let mut steps = Vec::new();
        let page = self.get(&mut steps, "setup.signin_page", self.url("/signin")?, &Jar::default()).await?;
        ensure!(page.status == StatusCode::OK, "sign-in page answered {}", page.status);
        let mut cookies = Jar::default();
        page.set_cookies.iter().for_each(|c| cookies.apply(c));
        let cookie = cookies.get(CSRF_COOKIE).context("the sign-in page set no CSRF cookie")?;
        let csrf = input_value(&page.body, "csrf").context("no csrf field on the sign-in page")?;
        ensure!(csrf == cookie, "the sign-in page's csrf field is not its CSRF cookie");
        let mut jar = Jar::default();
        jar.apply(&format!("{CSRF_COOKIE}={cookie}"));
        Ok(CsrfBrowser { jar, csrf })
    }

    /// (e) The passkey ceremony alone, without the OIDC flow around it:
    /// `POST /passkey/signin/start` `{}` (usernameless) → the software authenticator signs →
    /// `POST /passkey/signin/finish` `{ceremony, credential}` (no `authz`), which verifies the
    /// assertion, raises the counter and starts an SSO session: `{"redirect": "/account"}`
    /// and the SSO cookie. The browser keeps only its CSRF cookie between ceremonies, so
    /// every ceremony starts a new SSO session, as a first sign-in does.
    pub async fn passkey_ceremony(
        &self,
        browser: &CsrfBrowser,
        passkey: &BenchPasskey,
        origin: &str,
        steps: &mut Steps,
    ) -> anyhow::Result<()> {
        let CsrfBrowser { jar, csrf } = browser;
        let started = self.post_json(steps, "ceremony.start", "/passkey/signin/start", &json!({}), csrf, jar).await?;
        let ceremony = started["ceremony"].as_str().context("no ceremony in the sign-in options")?;
        let reply = {
            // Held until the server has checked the signature counter (see `BenchPasskey`).
            let key = passkey.key.lock().await;
            let credential = key
                .try_get(&started["options"], origin)
                .map_err(|e| anyhow!("the software authenticator refused: {e}"))?;
            let body = json!({"ceremony": ceremony, "credential": credential});
            self.send_json(steps, "ceremony.finish", "/passkey/signin/finish", &body, csrf, jar).await?
        };
        let mut answer = Jar::default();
        reply.set_cookies.iter().for_each(|c| answer.apply(c));
        ensure!(answer.get(SSO_COOKIE).is_some(), "the passkey sign-in set no SSO cookie");
        let finished: serde_json::Value =
            serde_json::from_str(&reply.body).context("the passkey sign-in answer is not JSON")?;
        ensure!(
            finished["redirect"] == json!("/account"),
            "the passkey sign-in without an authorization request answered {}",
            reply.body
        );
        Ok(())
    }

    /// Setup, not measured: registers a new software passkey for the citizen whose browser
    /// cookies (SSO session and CSRF cookie) are in `jar`: `GET /account` →
    /// `POST /passkey/register/start` → the authenticator creates the credential →
    /// `POST /passkey/register/finish`.
    pub async fn register_passkey(&self, jar: &Jar, origin: &str) -> anyhow::Result<SoftPasskey> {
        let mut steps = Vec::new();
        let page = self.get(&mut steps, "setup.account", self.url("/account")?, jar).await?;
        ensure!(page.status == StatusCode::OK, "the account page answered {} (not signed in?)", page.status);
        let csrf = input_value(&page.body, "csrf").context("no csrf field on the account page")?;
        let started = self
            .post_json(&mut steps, "setup.passkey_start", "/passkey/register/start", &json!({}), &csrf, jar)
            .await?;
        let ceremony = started["ceremony"].as_str().context("no ceremony in the registration options")?;
        let mut key = SoftPasskey::try_new().map_err(|e| anyhow!("cannot make a software passkey: {e}"))?;
        let credential = key
            .try_create(&started["options"], origin)
            .map_err(|e| anyhow!("the software authenticator refused to register: {e}"))?;
        let body = json!({"ceremony": ceremony, "credential": credential, "name": "bench"});
        let finished =
            self.post_json(&mut steps, "setup.passkey_finish", "/passkey/register/finish", &body, &csrf, jar).await?;
        ensure!(finished["ok"] == json!(true), "the passkey registration answered {finished}");
        Ok(key)
    }

    /// The issuer's origin, from the discovery document: the origin WebAuthn expects in the
    /// client data (the load may reach the server as `127.0.0.1`, the issuer is `localhost`).
    pub async fn issuer_origin(&self) -> anyhow::Result<String> {
        let mut steps = Vec::new();
        let url = self.url("/.well-known/openid-configuration")?;
        let reply = self.get(&mut steps, "setup.discovery", url, &Jar::default()).await?;
        ensure!(reply.status == StatusCode::OK, "discovery answered {}", reply.status);
        let json: serde_json::Value = serde_json::from_str(&reply.body).context("discovery is not JSON")?;
        let issuer = json["issuer"].as_str().context("no issuer in the discovery document")?;
        let issuer = Url::parse(issuer).context("the issuer is not a URL")?;
        Ok(issuer.origin().ascii_serialization())
    }

    /// A fresh browser's first two steps of a sign-in: `GET /authorize` → 303 to the
    /// sign-in page → `GET /signin`, which sets the CSRF cookie and holds the `csrf` and
    /// `authz` fields.
    async fn signin_page(&self, names: &FlowSteps, steps: &mut Steps) -> anyhow::Result<SigninPage> {
        let mut jar = Jar::default();
        let reply = self.get(steps, names.authorize, self.authorize_url()?, &jar).await?;
        let Next::Internal(signin_url) = self.next(&reply)? else {
            bail!("a fresh browser was given a code without signing in")
        };
        ensure!(signin_url.path() == "/signin", "expected the sign-in page, was sent to {}", signin_url.path());
        let page = self.get(steps, names.page, signin_url, &jar).await?;
        ensure!(page.status == StatusCode::OK, "sign-in page answered {}", page.status);
        page.set_cookies.iter().for_each(|c| jar.apply(c));
        let csrf = input_value(&page.body, "csrf").context("no csrf field on the sign-in page")?;
        let authz = input_value(&page.body, "authz").context("no authz field on the sign-in page")?;
        ensure!(jar.get(CSRF_COOKIE).is_some(), "the sign-in page set no CSRF cookie");
        Ok(SigninPage { jar, csrf, authz })
    }

    /// After a sign-in: follows `next` (`/authorize/continue`, and with `give_consent` the
    /// consent page) to the code, and redeems it.
    async fn continue_to_code(
        &self,
        names: &FlowSteps,
        mut next: Next,
        jar: &Jar,
        give_consent: bool,
        steps: &mut Steps,
    ) -> anyhow::Result<()> {
        // At most: continue → consent page → consent POST → continue → code.
        for _ in 0..4 {
            let reply = match next {
                Next::Code(code) => return self.redeem(steps, names.token, &code).await,
                Next::Internal(url) if url.path() == "/consent" => {
                    ensure!(give_consent, "the consent page was shown: run the setup first");
                    self.consent(steps, url, jar).await?
                }
                Next::Internal(url) => self.get(steps, names.continue_, url, jar).await?,
            };
            next = self.next(&reply)?;
        }
        bail!("the sign-in flow did not end with a code")
    }

    /// Shows the consent page and allows every claim offered.
    async fn consent(&self, steps: &mut Steps, url: Url, jar: &Jar) -> anyhow::Result<Reply> {
        let page = self.get(steps, "setup.consent_page", url, jar).await?;
        ensure!(page.status == StatusCode::OK, "consent page answered {}", page.status);
        let csrf = input_value(&page.body, "csrf").context("no csrf field on the consent page")?;
        let authz = input_value(&page.body, "authz").context("no authz field on the consent page")?;
        let claims = input_values(&page.body, "claim");
        let mut fields = vec![("csrf", csrf.as_str()), ("authz", authz.as_str()), ("decision", "allow")];
        fields.extend(claims.iter().map(|c| ("claim", c.as_str())));
        self.post(steps, "setup.consent_post", "/consent", form(&fields), jar).await
    }

    /// `POST /token` with `grant_type=authorization_code`; checks that tokens came back.
    async fn redeem(&self, steps: &mut Steps, step: &'static str, code: &str) -> anyhow::Result<()> {
        let body =
            form(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", &self.target.redirect_uri)]);
        let reply = self.token_request(steps, step, body).await?;
        let json: serde_json::Value = serde_json::from_str(&reply.body).context("token response is not JSON")?;
        ensure!(is_jws(&json["access_token"]), "no access_token in the token response");
        if self.target.scope.split(' ').any(|s| s == "openid") {
            ensure!(is_jws(&json["id_token"]), "no id_token in the token response");
        }
        Ok(())
    }

    async fn token_request(&self, steps: &mut Steps, step: &'static str, body: String) -> anyhow::Result<Reply> {
        let request = self
            .http
            .post(self.url("/token")?)
            .basic_auth(&self.target.client_id, Some(&self.target.client_secret))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        let reply = self.send(steps, step, request).await?;
        ensure!(reply.status == StatusCode::OK, "/token answered {}: {}", reply.status, reply.body);
        Ok(reply)
    }

    fn authorize_url(&self) -> anyhow::Result<Url> {
        let mut url = self.url("/authorize")?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.target.client_id)
            .append_pair("redirect_uri", &self.target.redirect_uri)
            .append_pair("scope", &self.target.scope)
            .append_pair("state", "s")
            .append_pair("nonce", "n");
        Ok(url)
    }

    fn url(&self, path: &str) -> anyhow::Result<Url> {
        self.target.base.join(path).with_context(|| format!("bad path {path}"))
    }

    /// Where a 303 leads: another page of Tessera, or the redirect URI with a code.
    fn next(&self, reply: &Reply) -> anyhow::Result<Next> {
        ensure!(reply.status == StatusCode::SEE_OTHER, "expected 303, got {}", reply.status);
        let location = reply.location.as_deref().context("a redirect without Location")?;
        let url = self.target.base.join(location).context("Location is not a URL")?;
        if same_origin(&url, &self.target.base) {
            return Ok(Next::Internal(url));
        }
        ensure!(
            url.as_str().starts_with(&self.target.redirect_uri),
            "redirected to an unexpected place: {}",
            url.origin().ascii_serialization()
        );
        let mut code = None;
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                "code" => code = Some(value.into_owned()),
                "error" => return Err(anyhow!("the authorization ended with error={value}")),
                _ => {}
            }
        }
        code.map(Next::Code).context("the redirect URI carries no code")
    }

    async fn get(&self, steps: &mut Steps, step: &'static str, url: Url, jar: &Jar) -> anyhow::Result<Reply> {
        let mut request = self.http.get(url);
        if let Some(cookies) = jar.header() {
            request = request.header(COOKIE, cookies);
        }
        self.send(steps, step, request).await
    }

    async fn post(
        &self,
        steps: &mut Steps,
        step: &'static str,
        path: &str,
        body: String,
        jar: &Jar,
    ) -> anyhow::Result<Reply> {
        let mut request =
            self.http.post(self.url(path)?).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body);
        if let Some(cookies) = jar.header() {
            request = request.header(COOKIE, cookies);
        }
        self.send(steps, step, request).await
    }

    /// A `fetch` of Tessera's passkey script: a JSON body with the CSRF token in the
    /// `X-CSRF-Token` header. Returns the answer, which must be 200.
    async fn send_json(
        &self,
        steps: &mut Steps,
        step: &'static str,
        path: &str,
        body: &serde_json::Value,
        csrf: &str,
        jar: &Jar,
    ) -> anyhow::Result<Reply> {
        let mut request = self
            .http
            .post(self.url(path)?)
            .header(CONTENT_TYPE, "application/json")
            .header(CSRF_HEADER, csrf)
            .body(body.to_string());
        if let Some(cookies) = jar.header() {
            request = request.header(COOKIE, cookies);
        }
        let reply = self.send(steps, step, request).await?;
        ensure!(reply.status == StatusCode::OK, "{path} answered {}: {}", reply.status, reply.body);
        Ok(reply)
    }

    /// [`send_json`](Self::send_json), and the answer parsed as JSON.
    async fn post_json(
        &self,
        steps: &mut Steps,
        step: &'static str,
        path: &str,
        body: &serde_json::Value,
        csrf: &str,
        jar: &Jar,
    ) -> anyhow::Result<serde_json::Value> {
        let reply = self.send_json(steps, step, path, body, csrf, jar).await?;
        serde_json::from_str(&reply.body).with_context(|| format!("{path} did not answer JSON"))
    }

    /// Sends, reads the whole body, and records how long that took.
    async fn send(
        &self,
        steps: &mut Steps,
        step: &'static str,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<Reply> {
        let started = Instant::now();
        let response = request.send().await.with_context(|| format!("{step}: request failed"))?;
        let status = response.status();
        let header = |v: &reqwest::header::HeaderValue| v.to_str().ok().map(str::to_owned);
        let location = response.headers().get(LOCATION).and_then(header);
        let set_cookies = response.headers().get_all(SET_COOKIE).iter().filter_map(header).collect();
        let body = response.text().await.with_context(|| format!("{step}: reading the body failed"))?;
        steps.push((step, started.elapsed()));
        Ok(Reply { status, location, set_cookies, body })
    }
}

/// `application/x-www-form-urlencoded` of these fields.
fn form(fields: &[(&str, &str)]) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        out.append_pair(name, value);
    }
    out.finish()
}

/// A compact JWS: three base64url parts.
fn is_jws(value: &serde_json::Value) -> bool {
    value.as_str().is_some_and(|s| s.split('.').count() == 3 && s.len() > 40)
}
