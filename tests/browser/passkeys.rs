//! Passkeys in real Chromium with a WebDriver virtual authenticator: a citizen who has a
//! password adds a passkey on the account page, renames it, signs in to a department
//! portal with it (the button, then browser autofill) without typing anything, and removes
//! it; an authenticator that refuses user verification gives a clear message and no session;
//! a portal that asks for passkey assurance steps a password session up.
//!
//! The virtual authenticator is added to the tab before the first navigation (it belongs
//! to that tab). Screenshots go to `target/screenshots/passkeys-*.png`.

use crate::common::{arrive, start_portal, start_portal_with, text_of, until, without_autofill};
use crate::fixtures::PASSWORD;
use crate::helpers::spawn_app;
use crate::webdriver::{self, Browser, TestResult};
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use serde_json::json;

const PASSKEY_ACR: &str = "urn:tessera:acr:passkey";
const PASSWORD_ACR: &str = "urn:tessera:acr:password";

async fn fill(c: &Client, css: &str, value: &str) -> TestResult {
    let field = c.find(Locator::Css(css)).await?;
    field.clear().await?;
    field.send_keys(value).await
}

async fn click(c: &Client, css: &str) -> TestResult {
    c.find(Locator::Css(css)).await?.click().await
}

/// The names of the cookies the browser holds for the current page (HttpOnly ones included).
async fn cookie_names(c: &Client) -> Result<Vec<String>, CmdError> {
    Ok(c.get_all_cookies().await?.iter().map(|cookie| cookie.name().to_owned()).collect())
}

/// Opens the account page, which sends a visitor to sign in first, and signs in there
/// with the password.
async fn sign_in_with_password(c: &Client, tessera: &str, username: &str) -> TestResult {
    c.goto(&format!("{tessera}/account")).await?;
    arrive(c, &format!("{tessera}/signin?next=%2Faccount")).await?;
    fill(c, "#username", username).await?;
    fill(c, "#password", PASSWORD).await?;
    click(c, "form[action=\"/signin\"] button[type=submit]").await?;
    arrive(c, &format!("{tessera}/account")).await?;
    Ok(())
}

/// On the account page: adds a passkey named `name` with the virtual authenticator.
async fn add_passkey(c: &Client, tessera: &str, name: &str) -> TestResult {
    until(c, "document.querySelector('[data-passkey]').dataset.ready === 'true'").await?;
    fill(c, "#passkey-name", name).await?;
    click(c, "#passkey-add-button").await?;
    arrive(c, &format!("{tessera}/account?done=added")).await?;
    Ok(())
}

/// Signs out of Tessera from the account page.
async fn sign_out(c: &Client, tessera: &str) -> TestResult {
    c.goto(&format!("{tessera}/account")).await?;
    click(c, "#signout").await?;
    until(c, "document.querySelector('h1') && document.querySelector('h1').textContent.includes('signed out')").await?;
    assert!(!cookie_names(c).await?.contains(&"tessera_sid".to_owned()), "the session cookie is gone");
    Ok(())
}

/// A citizen who has a password adds a passkey and renames it (a), signs out and signs in
/// to a department portal with the passkey button and nothing typed (b), then removes the
/// passkey (e).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_adds_a_passkey_signs_in_with_it_at_a_portal_and_removes_it() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    app.citizen("chan.taiman").await;
    let portal = start_portal(&app, "Transport Department", "運輸署").await;
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            let authenticator = webdriver::add_authenticator(&c, true).await?;
            without_autofill(&c).await?;

            // (a) Password sign-in, then the account page: no passkey yet.
            sign_in_with_password(&c, &tessera, "chan.taiman").await?;
            assert_eq!(text_of(&c, "h1").await?, "Your account");
            assert!(text_of(&c, "body").await?.contains("You have no passkeys yet."));
            webdriver::screenshot(&c, "passkeys-a-01-account-empty").await?;

            add_passkey(&c, &tessera, "My phone").await?;
            let page = text_of(&c, "body").await?;
            assert!(page.contains("Your new passkey is ready."), "{page}");
            assert_eq!(text_of(&c, ".passkey-name").await?, "My phone");
            assert!(page.contains("Not used yet"), "{page}");
            webdriver::screenshot(&c, "passkeys-a-02-added").await?;
            let held = webdriver::credentials(&c, &authenticator).await?;
            assert_eq!(held.len(), 1, "{held:?}");
            assert_eq!(held[0]["rpId"], "localhost");
            assert_eq!(held[0]["isResidentCredential"], true);

            fill(&c, "form.passkey-rename input[name=name]", "Work phone").await?;
            click(&c, "form.passkey-rename button[type=submit]").await?;
            arrive(&c, &format!("{tessera}/account?done=renamed")).await?;
            assert_eq!(text_of(&c, ".passkey-name").await?, "Work phone");
            assert!(text_of(&c, "body").await?.contains("The passkey has been renamed."));
            webdriver::screenshot(&c, "passkeys-a-03-renamed").await?;
            c.execute("document.querySelector('.passkey-remove').scrollIntoView({block: 'end'});", vec![]).await?;
            webdriver::screenshot(&c, "passkeys-a-04-passkey-forms").await?;
            c.execute("document.querySelector('#signout').scrollIntoView({block: 'end'});", vec![]).await?;
            webdriver::screenshot(&c, "passkeys-a-05-add-and-sign-out").await?;

            // (b) Signed out, the portal sends the citizen to Tessera: one tap on the
            // passkey button, nothing typed.
            sign_out(&c, &tessera).await?;
            c.goto(&format!("{portal}/")).await?;
            click(&c, "a[href=\"/login\"]").await?;
            arrive(&c, &format!("{tessera}/signin?authz=")).await?;
            until(&c, "document.querySelector('[data-passkey]').dataset.ready === 'true'").await?;
            assert_eq!(text_of(&c, "#passkey-signin").await?, "Sign in with a passkey");
            assert_eq!(
                c.find(Locator::Css("#username")).await?.attr("autocomplete").await?.as_deref(),
                Some("username webauthn")
            );
            webdriver::screenshot(&c, "passkeys-b-01-signin").await?;
            click(&c, "#passkey-signin").await?;
            arrive(&c, &format!("{tessera}/consent")).await?;
            webdriver::screenshot(&c, "passkeys-b-02-consent").await?;
            click(&c, "button[name=decision][value=allow]").await?;
            arrive(&c, &format!("{portal}/me")).await?;
            let page = c.source().await?;
            assert!(page.contains(PASSKEY_ACR), "the portal shows the passkey acr: {page}");
            assert!(page.contains("CHAN, Tai Man"), "{page}");
            webdriver::screenshot(&c, "passkeys-b-03-portal").await?;

            // (e) The account page shows the passkey as used; removing it (a recent sign-in)
            // leaves the password.
            c.goto(&format!("{tessera}/account")).await?;
            let page = text_of(&c, "body").await?;
            assert!(!page.contains("Not used yet"), "last use recorded: {page}");
            click(&c, "form.passkey-remove button[type=submit]").await?;
            arrive(&c, &format!("{tessera}/account?done=removed")).await?;
            let page = text_of(&c, "body").await?;
            assert!(page.contains("The passkey has been removed."), "{page}");
            assert!(page.contains("You have no passkeys yet."), "{page}");
            webdriver::screenshot(&c, "passkeys-e-01-removed").await?;
            Ok(())
        })
        .await;
}

/// (c) Browser autofill: the sign-in page asks for a passkey with conditional mediation
/// as soon as it loads; Chromium offers it in the username field's suggestions, and its
/// virtual authenticator, holding a discoverable credential, answers at once by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autofill_signs_in_with_the_passkey_of_this_device() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    app.citizen("lee.siuming").await;
    let portal = start_portal(&app, "Housing Department", "房屋署").await;
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            webdriver::add_authenticator(&c, true).await?;
            sign_in_with_password(&c, &tessera, "lee.siuming").await?;
            add_passkey(&c, &tessera, "Laptop").await?;
            sign_out(&c, &tessera).await?;

            // The portal sends the citizen to Tessera's sign-in page, which asks for a passkey
            // with conditional mediation on load. A person would pick it from the username
            // field's suggestions; Chromium's virtual authenticator answers by itself, so the
            // page signs in and goes on to the consent page without a click or a key press.
            c.goto(&format!("{portal}/")).await?;
            click(&c, "a[href=\"/login\"]").await?;
            arrive(&c, &format!("{tessera}/consent")).await?;
            webdriver::screenshot(&c, "passkeys-c-01-autofill-consent").await?;
            click(&c, "button[name=decision][value=allow]").await?;
            arrive(&c, &format!("{portal}/me")).await?;
            let page = c.source().await?;
            assert!(page.contains(PASSKEY_ACR), "{page}");
            webdriver::screenshot(&c, "passkeys-c-02-portal").await?;
            Ok(())
        })
        .await;
}

/// (d) The authenticator refuses user verification: a clear message in the page's
/// language, no session cookie, and the password form still there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_user_verification_gives_a_clear_message_and_no_session() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    app.citizen("wong.kaming").await;
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            let authenticator = webdriver::add_authenticator(&c, true).await?;
            without_autofill(&c).await?;
            sign_in_with_password(&c, &tessera, "wong.kaming").await?;

            // Adding a passkey while the fingerprint is not recognised: a message, no passkey.
            webdriver::set_user_verified(&c, &authenticator, false).await?;
            until(&c, "document.querySelector('[data-passkey]').dataset.ready === 'true'").await?;
            c.execute("document.querySelector('[data-passkey]').dataset.timeout = '2000';", vec![]).await?;
            click(&c, "#passkey-add-button").await?;
            let message = until(&c, "!document.querySelector('#passkey-error').hidden && document.querySelector('#passkey-error').textContent").await?;
            assert!(message.as_str().unwrap_or_default().starts_with("The passkey was not used"), "{message}");
            assert!(webdriver::credentials(&c, &authenticator).await?.is_empty());
            assert!(text_of(&c, "body").await?.contains("You have no passkeys yet."));
            webdriver::screenshot(&c, "passkeys-d-00-add-uv-refused").await?;

            webdriver::set_user_verified(&c, &authenticator, true).await?;
            add_passkey(&c, &tessera, "Phone").await?;
            sign_out(&c, &tessera).await?;

            // The JSON endpoints refuse a request without the CSRF header, and adding a
            // passkey without a session.
            c.goto(&format!("{tessera}/signin")).await?;
            let answers = c
                .execute_async(
                    "const done = arguments[0];
                     const token = document.querySelector('input[name=csrf]').value;
                     const call = (path, headers) => fetch(path, {method: 'POST', credentials: 'same-origin',
                         headers: Object.assign({'Content-Type': 'application/json'}, headers), body: '{}'})
                         .then(async r => [r.status, (await r.json()).error]);
                     Promise.all([
                         call('/passkey/signin/start', {}),
                         call('/passkey/signin/start', {'X-CSRF-Token': 'x'.repeat(43)}),
                         call('/passkey/register/start', {'X-CSRF-Token': token}),
                         call('/passkey/signin/finish', {'X-CSRF-Token': token}),
                     ]).then(done);",
                    vec![],
                )
                .await?;
            assert_eq!(
                answers,
                json!([[403, "form_expired"], [403, "form_expired"], [401, "signin_required"], [400, "invalid"]])
            );

            webdriver::set_user_verified(&c, &authenticator, false).await?;
            for (query, expected) in [
                ("", "The passkey was not used"),
                ("?ui_locales=zh-HK", "未有使用通行密鑰"),
            ] {
                c.goto(&format!("{tessera}/signin{query}")).await?;
                until(&c, "document.querySelector('[data-passkey]').dataset.ready === 'true'").await?;
                // Failures resolve only at the WebAuthn timeout: keep it short here.
                c.execute("document.querySelector('[data-passkey]').dataset.timeout = '2000';", vec![]).await?;
                click(&c, "#passkey-signin").await?;
                let message = until(
                    &c,
                    "!document.querySelector('#passkey-error').hidden && document.querySelector('#passkey-error').textContent",
                )
                .await?;
                let message = message.as_str().unwrap_or_default().to_owned();
                assert!(message.starts_with(expected), "{message}");
                assert_eq!(
                    c.find(Locator::Css("#passkey-error")).await?.attr("data-code").await?.as_deref(),
                    Some("cancelled")
                );
                assert!(c.current_url().await?.as_str().starts_with(&format!("{tessera}/signin")));
                assert!(!cookie_names(&c).await?.contains(&"tessera_sid".to_owned()), "no session");
                // The button can be used again, and the password form is still there.
                assert!(c.find(Locator::Css("#passkey-signin")).await?.is_enabled().await?);
                assert!(c.find(Locator::Css("form[action=\"/signin\"] #password")).await?.is_displayed().await?);
                webdriver::screenshot(&c, if query.is_empty() { "passkeys-d-01-uv-refused" } else { "passkeys-d-02-uv-refused-zh" })
                    .await?;
            }
            Ok(())
        })
        .await;
}

/// (f) Step-up: a citizen signed in with a password uses one portal, then a portal that
/// asks for passkey assurance (`acr_values`) gets a page asking for a passkey, not a code;
/// one tap, and that portal sees the passkey `acr`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_asking_for_passkey_assurance_steps_up_a_password_session() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    app.citizen("ho.kawai").await;
    let transport = start_portal(&app, "Transport Department", "運輸署").await;
    let tax =
        start_portal_with(&app, "Inland Revenue Department", "稅務局", &[("PORTAL_ACR_VALUES", PASSKEY_ACR)]).await;
    let tessera = app.address.clone();
    browser
        .run(|c| async move {
            webdriver::add_authenticator(&c, true).await?;
            without_autofill(&c).await?;
            sign_in_with_password(&c, &tessera, "ho.kawai").await?;
            add_passkey(&c, &tessera, "Phone").await?;

            // The password session is enough for the first portal.
            c.goto(&format!("{transport}/")).await?;
            click(&c, "a[href=\"/login\"]").await?;
            arrive(&c, &format!("{tessera}/consent")).await?;
            click(&c, "button[name=decision][value=allow]").await?;
            arrive(&c, &format!("{transport}/me")).await?;
            assert!(c.source().await?.contains(PASSWORD_ACR));

            // The tax portal asks for a passkey: the sign-in page says so, with no password form.
            c.goto(&format!("{tax}/")).await?;
            click(&c, "a[href=\"/login\"]").await?;
            arrive(&c, &format!("{tessera}/signin?authz=")).await?;
            until(&c, "document.querySelector('[data-passkey]').dataset.ready === 'true'").await?;
            let notice = text_of(&c, "#signin-stepup").await?;
            assert!(notice.contains("Inland Revenue Department") && notice.contains("passkey"), "{notice}");
            assert!(notice.contains("ho.kawai"), "{notice}");
            assert!(c.find(Locator::Css("#password")).await.is_err(), "no password form on a step-up page");
            webdriver::screenshot(&c, "passkeys-f-01-step-up").await?;
            click(&c, "#passkey-signin").await?;
            arrive(&c, &format!("{tessera}/consent")).await?;
            click(&c, "button[name=decision][value=allow]").await?;
            arrive(&c, &format!("{tax}/me")).await?;
            let page = c.source().await?;
            assert!(page.contains(PASSKEY_ACR), "the tax portal sees the passkey acr: {page}");
            webdriver::screenshot(&c, "passkeys-f-02-portal").await?;
            Ok(())
        })
        .await;
}
