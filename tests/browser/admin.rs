//! The admin pages in real Chromium with a WebDriver virtual authenticator (issue 5): an
//! operator, enrolled with a passkey from an invitation link, registers a department
//! service; until a second operator approves it citizens cannot sign in there. A second
//! operator approves it (in English, then in Chinese); a citizen signs in at the
//! department's portal, finds the share in their dashboard, withdraws it, and is asked
//! for consent again at the next sign-in.
//!
//! One browser plays both operators and the citizen in turn, signing out in between; its
//! virtual authenticator ends up holding both operators' passkeys, so passkey autofill is
//! switched off ([`without_autofill`]) to keep the sign-in page from signing in by itself.
//! Screenshots go to `target/screenshots/admin-*.png`.

use crate::common::{arrive, base_url_of, start_portal_for, text_of, until, without_autofill};
use crate::fixtures::PASSWORD;
use crate::helpers::spawn_app;
use crate::webdriver::{self, Browser, TestResult};
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use std::net::TcpListener;
use tessera_domain::{Clock, SystemClock};

const DEPARTMENT_EN: &str = "Lands Department";
const DEPARTMENT_ZH: &str = "地政總署";
const SERVICE: &str = "Land search";

async fn fill(c: &Client, css: &str, value: &str) -> TestResult {
    let field = c.find(Locator::Css(css)).await?;
    field.clear().await?;
    field.send_keys(value).await
}

async fn click(c: &Client, css: &str) -> TestResult {
    c.find(Locator::Css(css)).await?.click().await
}

async fn is_checked(c: &Client, css: &str) -> Result<bool, CmdError> {
    c.find(Locator::Css(css)).await?.is_selected().await
}

/// The current value of a form control (a `<select>` has no `value` attribute).
async fn value_of(c: &Client, css: &str) -> Result<String, CmdError> {
    let value = c.execute("return document.querySelector(arguments[0]).value;", vec![css.into()]).await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

async fn scroll_to(c: &Client, css: &str) -> TestResult {
    c.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'start'});", vec![css.into()]).await?;
    Ok(())
}

/// Clicks the language switch and waits for the same page in `lang`.
async fn switch_language(c: &Client, lang: &str) -> TestResult {
    let before = c.current_url().await?.to_string();
    click(c, "a.lang-switch").await?;
    until(c, &format!("document.documentElement.lang === '{lang}'")).await?;
    assert_eq!(c.current_url().await?.as_str(), before, "the switch returns to the same page");
    Ok(())
}

/// An invitation link, as `tessera admin invite` makes it.
async fn invite(db: &tessera_store::Db, username: &str, name: &str) -> String {
    tessera_passkey::enrolment::invite(db, username, name, None, SystemClock.now()).await.unwrap().token
}

/// Opens an operator's enrolment link and creates the operator's passkey with the virtual
/// authenticator; ends on the admin overview.
async fn enrol(c: &Client, tessera: &str, token: &str, username: &str) -> TestResult {
    c.goto(&format!("{tessera}/enrol?token={token}")).await?;
    assert_eq!(text_of(c, "h1").await?, "Become a Tessera operator");
    let intro = text_of(c, "p.lead").await?;
    assert!(intro.contains(username), "{intro}");
    click(c, "#enrol-start").await?;
    arrive(c, &format!("{tessera}/signup/passkey?ceremony=")).await?;
    until(c, "document.querySelector('[data-passkey]').dataset.ready === 'true'").await?;
    click(c, "#passkey-create").await?;
    arrive(c, &format!("{tessera}/admin")).await?;
    assert_eq!(text_of(c, "h1").await?, "Tessera administration");
    assert_eq!(text_of(c, "p.signed-in-as").await?, format!("Operator: {username}"));
    Ok(())
}

/// Signs out of Tessera from the account page.
async fn sign_out(c: &Client, tessera: &str) -> TestResult {
    c.goto(&format!("{tessera}/account")).await?;
    click(c, "#signout").await?;
    until(c, "document.querySelector('h1') && document.querySelector('h1').textContent.includes('signed out')").await?;
    assert!(!c.get_all_cookies().await?.iter().any(|cookie| cookie.name() == "tessera_sid"), "no session cookie");
    Ok(())
}

/// Operator A registers a department service, operator B approves it, a citizen signs in
/// there, sees the share on the dashboard and withdraws it; English and Chinese pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_registers_a_service_a_second_approves_it_and_a_citizen_shares_then_withdraws() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    let db = app.db().await;
    let maker = invite(&db, "ops.maker", "LEE, Maker").await;
    let checker = invite(&db, "ops.checker", "WONG, Checker").await;
    app.citizen("chan.taiman").await;
    // The portal's address must be known before the service is registered (its redirect URI).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let portal = base_url_of(&listener);
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            let authenticator = webdriver::add_authenticator(&c, true).await?;
            without_autofill(&c).await?;

            // ---- 1. Operator A enrols and registers the service. -------------------------
            enrol(&c, &tessera, &maker, "ops.maker").await?;
            assert!(c.find(Locator::Css("#admin-waiting")).await.is_err(), "nothing waits for A yet");
            assert_eq!(webdriver::credentials(&c, &authenticator).await?.len(), 1);
            webdriver::screenshot(&c, "admin-a-01-overview").await?;

            click(&c, "a[href=\"/admin/clients\"]").await?;
            arrive(&c, &format!("{tessera}/admin/clients")).await?;
            click(&c, "#admin-client-new").await?;
            arrive(&c, &format!("{tessera}/admin/clients/new")).await?;
            assert_eq!(text_of(&c, "h1").await?, "Register a department service");
            assert!(text_of(&c, "body").await?.contains("A second operator must approve a new service"));
            // The defaults: openid and profile, a confidential pairwise client with PKCE.
            assert!(is_checked(&c, "#scope-openid").await? && is_checked(&c, "#scope-profile").await?);
            for scope in ["email", "phone", "address", "offline_access", "hk_identity"] {
                assert!(!is_checked(&c, &format!("#scope-{scope}")).await?, "{scope} is not pre-checked");
            }
            assert_eq!(value_of(&c, "#token_endpoint_auth_method").await?, "client_secret_basic");
            assert_eq!(value_of(&c, "#subject_type").await?, "pairwise");
            assert!(is_checked(&c, "#require_pkce").await?);
            assert_eq!(value_of(&c, "#id_token_alg").await?, "RS256");

            fill(&c, "#department_en", DEPARTMENT_EN).await?;
            fill(&c, "#department_zh", DEPARTMENT_ZH).await?;
            fill(&c, "#name", SERVICE).await?;
            fill(&c, "#redirect_uris", &format!("{portal}/callback")).await?;
            fill(&c, "#post_logout_redirect_uris", &format!("{portal}/")).await?;
            click(&c, "#scope-email").await?;
            assert!(is_checked(&c, "#scope-email").await?);
            scroll_to(&c, "h1").await?;
            webdriver::screenshot(&c, "admin-a-02-client-form").await?;
            scroll_to(&c, "fieldset.field").await?;
            webdriver::screenshot(&c, "admin-a-03-client-form-scopes").await?;
            click(&c, "#admin-client-create").await?;

            // The result page: the client ID, the secret shown once, and the wait for approval.
            until(&c, "document.querySelector('#created-client-id')").await?;
            assert_eq!(text_of(&c, "h1").await?, "Service registered");
            let client_id = text_of(&c, "#created-client-id").await?;
            let secret = text_of(&c, "#client-secret").await?;
            assert!(!client_id.is_empty() && secret.len() >= 32, "client {client_id:?}, secret of {}", secret.len());
            let awaiting = text_of(&c, "#client-awaiting").await?;
            assert!(awaiting.contains("second operator's approval"), "{awaiting}");
            webdriver::screenshot(&c, "admin-a-04-client-registered").await?;

            // The list shows it waiting; A cannot approve their own change.
            c.goto(&format!("{tessera}/admin/clients")).await?;
            let row = text_of(&c, &format!("#client-{client_id}")).await?;
            assert!(row.contains(DEPARTMENT_EN) && row.contains(SERVICE), "{row}");
            assert!(row.contains("Waiting for approval"), "{row}");
            c.goto(&format!("{tessera}/admin/approvals")).await?;
            let change = c.find(Locator::Css("section.share[id^=\"change-\"]")).await?;
            assert!(change.text().await?.contains(&client_id));
            let own = change.find(Locator::Css("p.note")).await?.text().await?;
            assert_eq!(own, "You proposed this change: another operator must approve it.");
            assert!(change.find(Locator::Css("form[action$=\"/approve\"]")).await.is_err(), "no approve button");
            assert!(change.find(Locator::Css("form[action$=\"/reject\"]")).await.is_err(), "no reject button");

            // The department's portal, configured with what the page showed: until the
            // approval its sign-in ends on Tessera's error page, never back at the portal.
            let portal = start_portal_for(
                &tessera,
                listener,
                &client_id,
                &secret,
                DEPARTMENT_EN,
                DEPARTMENT_ZH,
                &[("PORTAL_SCOPES", "openid profile email")],
            )
            .await;
            c.goto(&format!("{portal}/")).await?;
            click(&c, "a[href=\"/login\"]").await?;
            let url = arrive(&c, &format!("{tessera}/authorize?")).await?;
            assert!(url.contains(&format!("client_id={client_id}")), "{url}");
            until(&c, "document.querySelector('section.error h1')").await?;
            assert_eq!(text_of(&c, "section.error h1").await?, "This sign-in request cannot be used");
            assert!(text_of(&c, "section.error").await?.contains("not registered with Tessera"));
            assert!(c.current_url().await?.as_str().starts_with(&format!("{tessera}/authorize?")), "no redirect");
            webdriver::screenshot(&c, "admin-a-05-portal-before-approval").await?;

            // ---- 2. Operator B enrols and approves it. -----------------------------------
            sign_out(&c, &tessera).await?;
            enrol(&c, &tessera, &checker, "ops.checker").await?;
            assert_eq!(webdriver::credentials(&c, &authenticator).await?.len(), 2);
            let waiting = text_of(&c, "#admin-waiting").await?;
            assert!(waiting.contains("1 change(s) by other operators wait for your approval."), "{waiting}");
            webdriver::screenshot(&c, "admin-b-01-overview-waiting").await?;

            click(&c, "#admin-waiting a[href=\"/admin/approvals\"]").await?;
            arrive(&c, &format!("{tessera}/admin/approvals")).await?;
            assert_eq!(text_of(&c, "h1").await?, "Approvals");
            let change = c.find(Locator::Css("section.share[id^=\"change-\"]")).await?;
            let change_id = change.attr("id").await?.unwrap();
            let section = format!("#{change_id}");
            let heading = text_of(&c, &format!("{section} h2")).await?;
            assert_eq!(heading, format!("New service · {client_id}"));
            let details = text_of(&c, &format!("{section} table")).await?;
            for expected in [&format!("{portal}/callback"), DEPARTMENT_EN, DEPARTMENT_ZH, "email"] {
                assert!(details.contains(expected), "{expected} in {details}");
            }
            assert!(text_of(&c, section.as_str()).await?.contains("Proposed by ops.maker"));
            assert_eq!(text_of(&c, &format!("{section} form[action$=\"/approve\"] button")).await?, "Approve");
            assert_eq!(text_of(&c, &format!("{section} form[action$=\"/reject\"] button")).await?, "Reject");
            scroll_to(&c, &section).await?;
            webdriver::screenshot(&c, "admin-b-02-approvals-en").await?;

            // The same page in Chinese, where B approves.
            switch_language(&c, "zh-HK").await?;
            assert_eq!(text_of(&c, "h1").await?, "審批");
            assert!(text_of(&c, "nav.admin-nav").await?.contains("審批"));
            assert_eq!(text_of(&c, &format!("{section} form[action$=\"/approve\"] button")).await?, "批准");
            assert!(text_of(&c, &format!("{section} h2")).await?.starts_with("新服務"));
            scroll_to(&c, &section).await?;
            webdriver::screenshot(&c, "admin-b-03-approvals-zh").await?;
            click(&c, &format!("{section} form[action$=\"/approve\"] button")).await?;
            arrive(&c, &format!("{tessera}/admin/approvals?done=approved")).await?;
            assert_eq!(text_of(&c, "#admin-notice").await?, "已批准更改，並已生效。");
            assert!(c.find(Locator::Css(&section)).await.is_err(), "the change is decided");
            assert!(c.find(Locator::Css("#approvals-none")).await.is_ok());
            webdriver::screenshot(&c, "admin-b-04-approved-zh").await?;
            switch_language(&c, "en").await?;
            assert_eq!(text_of(&c, "#admin-notice").await?, "The change has been approved and is in effect.");

            // In service now, and the audit log names both operators.
            c.goto(&format!("{tessera}/admin/clients")).await?;
            let row = text_of(&c, &format!("#client-{client_id}")).await?;
            assert!(row.contains("In service"), "{row}");
            c.goto(&format!("{tessera}/admin/audit")).await?;
            let created = text_of(&c, "tr[data-kind=\"client.created\"]").await?;
            assert!(created.contains(&client_id) && created.contains("ops.maker"), "{created}");
            let enabled = text_of(&c, "tr[data-kind=\"client.enabled\"]").await?;
            assert!(enabled.contains(&client_id) && enabled.contains("ops.checker"), "{enabled}");
            assert!(!text_of(&c, "table.audit").await?.contains(&secret), "no secret in the audit log");
            scroll_to(&c, "table.audit").await?;
            webdriver::screenshot(&c, "admin-b-05-audit").await?;

            // ---- 3. A citizen signs in at the portal, then withdraws the share. ---------
            sign_out(&c, &tessera).await?;
            c.goto(&format!("{portal}/")).await?;
            click(&c, "a[href=\"/login\"]").await?;
            arrive(&c, &format!("{tessera}/signin?authz=")).await?;
            fill(&c, "#username", "chan.taiman").await?;
            fill(&c, "#password", PASSWORD).await?;
            click(&c, "form[action=\"/signin\"] button[type=submit]").await?;
            arrive(&c, &format!("{tessera}/consent")).await?;
            assert!(text_of(&c, "body").await?.contains(DEPARTMENT_EN), "the consent page names the department");
            webdriver::screenshot(&c, "admin-c-01-consent").await?;
            click(&c, "button[name=decision][value=allow]").await?;
            arrive(&c, &format!("{portal}/me")).await?;
            let page = c.source().await?;
            assert!(page.contains("CHAN, Tai Man"), "the portal received the name: {page}");
            assert!(page.contains("taiman.chan@example.hk"), "and the email address: {page}");
            webdriver::screenshot(&c, "admin-c-02-portal-me").await?;

            // The dashboard lists the department and what it receives.
            let share = format!("li.share#share-{client_id}");
            c.goto(&format!("{tessera}/account/sharing")).await?;
            assert_eq!(text_of(&c, "h1").await?, "Data sharing");
            let entry = text_of(&c, &share).await?;
            for expected in [
                &format!("{DEPARTMENT_EN} · {SERVICE}"),
                "You share these details now:",
                "Name in English",
                "Email address",
                "First shared",
                "Last received",
            ] {
                assert!(entry.contains(expected), "{expected} in {entry}");
            }
            assert!(!entry.contains("Phone number"), "only the scopes asked for: {entry}");
            click(&c, &format!("{share} details.share-history summary")).await?;
            let receipts = c.find_all(Locator::Css(&format!("{share} details.share-history li"))).await?;
            assert_eq!(receipts.len(), 1, "one consent receipt");
            let downloads = c.find_all(Locator::Css(&format!("{share} details.share-history li a[download]"))).await?;
            assert_eq!(downloads.len(), 1, "its JSON download");
            let withdraw = format!("{share} form[action$=\"/withdraw\"] button");
            assert_eq!(text_of(&c, &withdraw).await?, format!("Stop sharing with {DEPARTMENT_EN} · {SERVICE}"));
            scroll_to(&c, &share).await?;
            webdriver::screenshot(&c, "admin-c-03-sharing-en").await?;

            switch_language(&c, "zh-HK").await?;
            assert_eq!(text_of(&c, "h1").await?, "資料分享");
            let entry = text_of(&c, &share).await?;
            assert!(entry.contains(&format!("{DEPARTMENT_ZH} · {SERVICE}")), "{entry}");
            assert!(entry.contains("你現正分享以下資料："), "{entry}");
            assert_eq!(text_of(&c, &withdraw).await?, format!("停止與{DEPARTMENT_ZH} · {SERVICE}分享"));
            scroll_to(&c, &share).await?;
            webdriver::screenshot(&c, "admin-c-04-sharing-zh").await?;
            switch_language(&c, "en").await?;

            click(&c, &withdraw).await?;
            arrive(&c, &format!("{tessera}/account/sharing?done=withdrawn")).await?;
            let notice = text_of(&c, "#sharing-notice").await?;
            assert!(notice.starts_with("You no longer share your details with that department."), "{notice}");
            let entry = text_of(&c, &share).await?;
            assert!(entry.contains("You no longer share details with this department."), "{entry}");
            assert!(c.find(Locator::Css(&format!("li.share.share-ended#share-{client_id}"))).await.is_ok());
            assert!(c.find(Locator::Css(&withdraw)).await.is_err(), "nothing left to withdraw");
            webdriver::screenshot(&c, "admin-c-05-withdrawn").await?;

            // The Tessera session is still live: the portal's next sign-in goes straight to
            // the consent page (no sign-in page), which asks again.
            c.goto(&format!("{portal}/login")).await?;
            arrive(&c, &format!("{tessera}/consent")).await?;
            assert!(text_of(&c, "body").await?.contains(DEPARTMENT_EN));
            assert!(c.find(Locator::Css("button[name=decision][value=allow]")).await.is_ok());
            webdriver::screenshot(&c, "admin-c-06-consent-again").await?;
            click(&c, "button[name=decision][value=allow]").await?;
            arrive(&c, &format!("{portal}/me")).await?;
            assert!(c.source().await?.contains("CHAN, Tai Man"));
            c.goto(&format!("{tessera}/account/sharing")).await?;
            assert!(text_of(&c, &share).await?.contains("You share these details now:"));
            Ok(())
        })
        .await;
}
