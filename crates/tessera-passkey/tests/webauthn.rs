//! Passkey registration, sign-in and management against a software authenticator, on a real
//! SQLite file and the in-memory session store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::{Value, json};
use tessera_domain::{
    AuditEvent, AuditKind, Citizen, CitizenId, CitizenStatus, Outcome, PasskeyId, PasskeyRecord, PasswordCredential,
    Profile, UnixTime, Username,
};
use tessera_passkey::{
    ACR_PASSKEY, Ceremony, PasskeyError, PasskeyService, SignInOutcome, SignInThrottle, SignedIn, ThrottleError,
    ThrottlePolicy,
};
use tessera_session::{AnySessionStore, MemoryStore, SessionStore};
use tessera_store::audit::{self, AuditFilter};
use tessera_store::{Db, DbOptions, citizens, credentials, passkeys};
use tessera_testkit::softkey::{CounterMode, SoftKeyError, SoftPasskey, UserHandle};
use url::Url;

/// 2027-01-15T00:00:00Z.
const NOW: UnixTime = UnixTime::from_secs(1_799_971_200);
const ORIGIN: &str = "http://localhost:8080";
const IP: &str = "203.0.113.7";

struct Setup {
    svc: PasskeyService,
    db: Db,
    store: MemoryStore,
    throttle: SignInThrottle,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    setup_on(&url, dir).await
}

/// Every database the test run has: the SQLite file, and PostgreSQL when provisioned.
async fn setups() -> Vec<Setup> {
    let mut all = vec![setup().await];
    if let Some(url) = tessera_testkit::fresh_postgres_database() {
        all.push(setup_on(&url, tempfile::tempdir().unwrap()).await);
    }
    all
}

async fn setup_on(url: &str, dir: tempfile::TempDir) -> Setup {
    let db = Db::connect(url, &DbOptions { max_connections: 8, ..DbOptions::default() }).unwrap();
    db.migrate().await.unwrap();
    let store = MemoryStore::new();
    let any = AnySessionStore::from(store.clone());
    let throttle = SignInThrottle::new(any.clone(), ThrottlePolicy::default());
    let svc =
        PasskeyService::new(db.clone(), any, throttle.clone(), "localhost", &Url::parse(ORIGIN).unwrap(), "Tessera")
            .unwrap();
    Setup { svc, db, store, throttle, _dir: dir }
}

impl Setup {
    async fn citizen(&self, username: &str) -> Citizen {
        let citizen = Citizen::new(Username::parse(username).unwrap(), NOW);
        let stored = citizen.clone();
        self.db.run(move |c| citizens::insert(c, &stored, &Profile::new("CHAN, Tai Man"))).await.unwrap();
        citizen
    }

    async fn register(&self, citizen: &Citizen, key: &mut SoftPasskey) -> PasskeyRecord {
        let ceremony = self.svc.start_registration(citizen, "Chan Tai Man", NOW).await.unwrap();
        let response = key.create(&ceremony.options, ORIGIN);
        self.svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW).await.unwrap()
    }

    async fn sign_in(
        &self,
        username: Option<&str>,
        key: &SoftPasskey,
        now: UnixTime,
    ) -> Result<SignInOutcome, PasskeyError> {
        let ceremony = self.svc.start_authentication(username, now).await.unwrap();
        let response = key.get(&ceremony.options, ORIGIN);
        self.svc.finish_authentication(&ceremony.id, &response, IP, now).await
    }

    async fn record(&self, id: PasskeyId, citizen_id: CitizenId) -> Option<PasskeyRecord> {
        let all = self.db.run(move |c| passkeys::list_for_citizen(c, citizen_id)).await.unwrap();
        all.into_iter().find(|p| p.id == id)
    }

    async fn events(&self, kind: AuditKind) -> Vec<AuditEvent> {
        let filter = AuditFilter { kind: Some(kind), ..AuditFilter::default() };
        self.db.run(move |c| audit::list(c, &filter)).await.unwrap()
    }

    async fn set_password(&self, citizen_id: CitizenId) {
        let credential = PasswordCredential {
            citizen_id,
            phc: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA".into(),
            created_at: NOW,
            updated_at: NOW,
        };
        self.db.run(move |c| credentials::set_password(c, &credential)).await.unwrap();
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn signed_in(citizen_id: CitizenId, amr: &[&str]) -> SignInOutcome {
    SignInOutcome::SignedIn(SignedIn {
        citizen_id,
        amr: amr.iter().map(|m| (*m).to_owned()).collect(),
        acr: ACR_PASSKEY.into(),
    })
}

fn detail(event: &AuditEvent) -> Value {
    serde_json::from_str(&event.detail).unwrap()
}

#[track_caller]
fn assert_err(result: Result<impl std::fmt::Debug, PasskeyError>, expected: &str) {
    match result {
        Err(e) => assert_eq!(format!("{e:?}"), expected, "{e}"),
        Ok(v) => panic!("expected {expected}, got Ok({v:?})"),
    }
}

#[tokio::test]
async fn registration_options_require_a_discoverable_verified_key_for_this_citizen() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let ceremony = s.svc.start_registration(&citizen, "  ", NOW).await.unwrap();
    assert_eq!(ceremony.id.len(), 43);
    let pk = &ceremony.options["publicKey"];
    assert_eq!(
        pk["authenticatorSelection"],
        json!({"residentKey": "required", "requireResidentKey": true, "userVerification": "required"})
    );
    assert_eq!(pk["rp"], json!({"id": "localhost", "name": "Tessera"}));
    assert_eq!(pk["user"]["id"], b64(citizen.id.as_uuid().as_bytes()));
    assert_eq!(pk["user"]["name"], "chan.taiman");
    assert_eq!(pk["user"]["displayName"], "chan.taiman");
    assert_eq!(pk["excludeCredentials"], json!([]));
    assert_eq!(pk["timeout"], 300_000);
    assert!(pk["pubKeyCredParams"].as_array().unwrap().iter().any(|p| p["alg"] == -7));
    assert!(pk["challenge"].as_str().unwrap().len() >= 43);
    // The state lives in the session store under webauthn:<id>.
    assert!(s.store.get(&format!("webauthn:{}", ceremony.id)).await.unwrap().is_some());
}

#[tokio::test]
async fn register_then_sign_in_usernameless_and_username_first() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let record = s.register(&citizen, &mut key).await;
    assert_eq!(record.citizen_id, citizen.id);
    assert_eq!(record.credential_id.as_bytes(), key.credential_id());
    assert_eq!(record.name, "Passkey 2027-01-15");
    assert_eq!((record.sign_count, record.backup_eligible, record.backup_state), (0, false, false));
    assert_eq!(record.transports, ["hybrid", "internal"]);
    assert_eq!((record.created_at, record.last_used_at), (NOW, None));
    assert_eq!(s.record(record.id, citizen.id).await.unwrap(), record);
    let registered = s.events(AuditKind::PASSKEY_REGISTERED).await;
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].actor.as_deref(), Some(citizen.id.to_string().as_str()));
    assert_eq!(detail(&registered[0])["passkey_id"], record.id.to_string());

    // Usernameless / autofill: no allowCredentials, conditional mediation.
    let later = NOW.plus_secs(60);
    let ceremony = s.svc.start_authentication(None, later).await.unwrap();
    assert_eq!(ceremony.options["mediation"], "conditional");
    assert_eq!(ceremony.options["publicKey"]["allowCredentials"], json!([]));
    assert_eq!(ceremony.options["publicKey"]["userVerification"], "required");
    assert_eq!(ceremony.options["publicKey"]["rpId"], "localhost");
    let response = key.get(&ceremony.options, ORIGIN);
    let outcome = s.svc.finish_authentication(&ceremony.id, &response, IP, later).await.unwrap();
    assert_eq!(outcome, signed_in(citizen.id, &["hwk", "user"]));
    let used = s.record(record.id, citizen.id).await.unwrap();
    assert_eq!((used.sign_count, used.last_used_at), (1, Some(later)));

    // Username-first: that citizen's passkeys, the modal dialog.
    let ceremony = s.svc.start_authentication(Some(" Chan.TaiMan "), later).await.unwrap();
    assert!(ceremony.options.get("mediation").is_none());
    assert_eq!(
        ceremony.options["publicKey"]["allowCredentials"],
        json!([{"type": "public-key", "id": key.credential_id_b64(), "transports": ["hybrid", "internal"]}])
    );
    let response = key.get(&ceremony.options, ORIGIN);
    let outcome = s.svc.finish_authentication(&ceremony.id, &response, IP, later.plus_secs(1)).await.unwrap();
    assert_eq!(outcome, signed_in(citizen.id, &["hwk", "user"]));
    assert_eq!(s.record(record.id, citizen.id).await.unwrap().sign_count, 2);

    let signins = s.events(AuditKind::SIGNIN_PASSKEY).await;
    assert_eq!(signins.len(), 2);
    assert!(signins.iter().all(|e| e.outcome == Outcome::Success && e.ip.as_deref() == Some(IP)));
    assert_eq!(detail(&signins[0])["mode"], "username");
    assert_eq!(detail(&signins[1])["mode"], "discoverable");
    // No ceremony state is left behind.
    assert_eq!(s.store.stored_entries(), 1, "only the decoy key remains");
}

#[tokio::test]
async fn a_name_can_be_given_and_is_checked_before_the_ceremony_is_used() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let ceremony = s.svc.start_registration(&citizen, "Chan Tai Man", NOW).await.unwrap();
    let response = key.create(&ceremony.options, ORIGIN);
    let too_long = "x".repeat(65);
    assert_err(
        s.svc.finish_registration(&ceremony.id, citizen.id, &response, Some(&too_long), NOW).await,
        "InvalidName",
    );
    let record =
        s.svc.finish_registration(&ceremony.id, citizen.id, &response, Some("  My iPhone "), NOW).await.unwrap();
    assert_eq!(record.name, "My iPhone");
}

#[tokio::test]
async fn synced_passkeys_report_a_software_key_and_their_backup_flags_are_kept() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    key.behaviour.backup_eligible = true;
    key.behaviour.counter = CounterMode::Fixed(0);
    let record = s.register(&citizen, &mut key).await;
    assert_eq!((record.backup_eligible, record.backup_state), (true, false));

    key.behaviour.backup_state = true;
    let outcome = s.sign_in(None, &key, NOW).await.unwrap();
    assert_eq!(outcome, signed_in(citizen.id, &["swk", "user"]));
    let used = s.record(record.id, citizen.id).await.unwrap();
    assert_eq!((used.backup_eligible, used.backup_state, used.sign_count), (true, true, 0));
    // A counter that stays at zero is no regression.
    assert_eq!(s.sign_in(None, &key, NOW).await.unwrap(), outcome);
}

#[tokio::test]
async fn wrong_origin_rp_id_or_missing_user_verification_are_invalid_at_sign_in() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let record = s.register(&citizen, &mut key).await;

    // A minute apart, so that the throttle lets every attempt through.
    let at = |minutes: i64| NOW.plus_secs(60 * minutes);
    key.behaviour.origin = Some("http://evil.example:8080".into());
    assert_err(s.sign_in(None, &key, at(1)).await, "Invalid");
    key.behaviour.origin = Some("http://localhost:8081".into());
    assert_err(s.sign_in(Some("chan.taiman"), &key, at(2)).await, "Invalid");
    key.behaviour.origin = None;
    key.behaviour.rp_id = Some("evil.example".into());
    assert_err(s.sign_in(None, &key, at(3)).await, "Invalid");
    key.behaviour.rp_id = None;
    key.behaviour.user_verified = false;
    assert_err(s.sign_in(None, &key, at(4)).await, "Invalid");
    key.behaviour.user_verified = true;
    key.behaviour.user_present = false;
    assert_err(s.sign_in(None, &key, at(5)).await, "Invalid");

    let failures = s.events(AuditKind::SIGNIN_PASSKEY).await;
    let reasons: Vec<Value> = failures.iter().rev().map(|e| detail(e)["reason"].clone()).collect();
    assert_eq!(reasons, ["wrong_origin", "wrong_origin", "wrong_rp_id", "user_not_verified", "user_not_present"]);
    assert!(failures.iter().all(|e| e.outcome == Outcome::Failure && e.actor.is_none()));
    assert_eq!(detail(&failures[0])["passkey_id"], record.id.to_string());
    // Nothing was saved from the failed attempts.
    assert_eq!(s.record(record.id, citizen.id).await.unwrap(), record);
}

#[tokio::test]
async fn wrong_origin_rp_id_or_missing_user_verification_are_invalid_at_registration() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    for spoil in [
        |k: &mut SoftPasskey| k.behaviour.origin = Some("https://evil.example".into()),
        |k: &mut SoftPasskey| k.behaviour.rp_id = Some("evil.example".into()),
        |k: &mut SoftPasskey| k.behaviour.user_verified = false,
        |k: &mut SoftPasskey| k.behaviour.cred_props_rk = Some(false),
    ] {
        let mut key = SoftPasskey::new();
        spoil(&mut key);
        let ceremony = s.svc.start_registration(&citizen, "", NOW).await.unwrap();
        let response = key.create(&ceremony.options, ORIGIN);
        assert_err(s.svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW).await, "Invalid");
    }
    assert!(s.svc.list(citizen.id).await.unwrap().is_empty());
    assert!(s.events(AuditKind::PASSKEY_REGISTERED).await.is_empty());
}

#[tokio::test]
async fn a_replayed_response_finds_its_ceremony_gone() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();

    let ceremony = s.svc.start_registration(&citizen, "", NOW).await.unwrap();
    let response = key.create(&ceremony.options, ORIGIN);
    s.svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW).await.unwrap();
    assert_err(s.svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW).await, "Expired");

    let ceremony = s.svc.start_authentication(None, NOW).await.unwrap();
    let response = key.get(&ceremony.options, ORIGIN);
    s.svc.finish_authentication(&ceremony.id, &response, IP, NOW).await.unwrap();
    assert_err(s.svc.finish_authentication(&ceremony.id, &response, IP, NOW).await, "Expired");

    // Ids that cannot name a ceremony, and a ceremony of the other kind.
    assert_err(s.svc.finish_authentication("nope", &response, IP, NOW).await, "Expired");
    let registration = s.svc.start_registration(&citizen, "", NOW).await.unwrap();
    assert_err(s.svc.finish_authentication(&registration.id, &response, IP, NOW).await, "Expired");
    let sign_in = s.svc.start_authentication(None, NOW).await.unwrap();
    assert_err(s.svc.finish_registration(&sign_in.id, citizen.id, &response, None, NOW).await, "Expired");
}

#[tokio::test]
async fn a_ceremony_older_than_five_minutes_is_expired_by_the_clock() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let ceremony = s.svc.start_registration(&citizen, "", NOW).await.unwrap();
    let response = key.create(&ceremony.options, ORIGIN);
    assert_err(
        s.svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW.plus_secs(301)).await,
        "Expired",
    );

    let mut key = SoftPasskey::new();
    let ceremony = s.svc.start_registration(&citizen, "", NOW).await.unwrap();
    let response = key.create(&ceremony.options, ORIGIN);
    s.svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW.plus_secs(300)).await.unwrap();

    let ceremony = s.svc.start_authentication(None, NOW).await.unwrap();
    let response = key.get(&ceremony.options, ORIGIN);
    assert_err(s.svc.finish_authentication(&ceremony.id, &response, IP, NOW.plus_secs(301)).await, "Expired");
}

#[tokio::test]
async fn a_ceremony_expires_in_the_store_whatever_the_callers_clock_says() {
    let s = setup().await;
    let svc = s.svc.clone().with_ceremony_ttl(Duration::from_millis(300));
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let ceremony = svc.start_registration(&citizen, "", NOW).await.unwrap();
    let response = key.create(&ceremony.options, ORIGIN);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_err(svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW).await, "Expired");

    s.register(&citizen, &mut key).await;
    let ceremony = svc.start_authentication(None, NOW).await.unwrap();
    let response = key.get(&ceremony.options, ORIGIN);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_err(svc.finish_authentication(&ceremony.id, &response, IP, NOW).await, "Expired");
}

#[tokio::test]
async fn a_registration_finished_for_another_citizen_is_refused() {
    let s = setup().await;
    let alice = s.citizen("alice").await;
    let bob = s.citizen("bob.wong").await;
    let mut key = SoftPasskey::new();
    let ceremony = s.svc.start_registration(&alice, "", NOW).await.unwrap();
    let response = key.create(&ceremony.options, ORIGIN);
    assert_err(s.svc.finish_registration(&ceremony.id, bob.id, &response, None, NOW).await, "NotYours");
    assert!(s.svc.list(alice.id).await.unwrap().is_empty());
    assert!(s.svc.list(bob.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_credential_id_is_registered_once_across_all_citizens() {
    let s = setup().await;
    let alice = s.citizen("alice").await;
    let bob = s.citizen("bob.wong").await;
    let mut key = SoftPasskey::new();
    s.register(&alice, &mut key).await;

    // The same authenticator credential offered to another account.
    let ceremony = s.svc.start_registration(&bob, "", NOW).await.unwrap();
    let response = key.create(&ceremony.options, ORIGIN);
    assert_err(s.svc.finish_registration(&ceremony.id, bob.id, &response, None, NOW).await, "DuplicateCredential");
    assert!(s.svc.list(bob.id).await.unwrap().is_empty());

    // A second key pair claiming the same credential id.
    let mut twin = SoftPasskey::new().with_credential_id(key.credential_id().to_vec());
    let ceremony = s.svc.start_registration(&bob, "", NOW).await.unwrap();
    let response = twin.create(&ceremony.options, ORIGIN);
    assert_err(s.svc.finish_registration(&ceremony.id, bob.id, &response, None, NOW).await, "DuplicateCredential");

    // The same citizen again: the browser refuses (excludeCredentials), and so do we.
    let ceremony = s.svc.start_registration(&alice, "", NOW).await.unwrap();
    assert_eq!(key.try_create(&ceremony.options, ORIGIN).unwrap_err(), SoftKeyError::Excluded);
    key.behaviour.honour_exclude_credentials = false;
    let response = key.create(&ceremony.options, ORIGIN);
    assert_err(s.svc.finish_registration(&ceremony.id, alice.id, &response, None, NOW).await, "DuplicateCredential");
    assert_eq!(s.svc.list(alice.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn credential_ids_are_at_most_1023_bytes() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut long = SoftPasskey::new().with_credential_id(vec![7; 1024]);
    let ceremony = s.svc.start_registration(&citizen, "", NOW).await.unwrap();
    let response = long.create(&ceremony.options, ORIGIN);
    assert_err(s.svc.finish_registration(&ceremony.id, citizen.id, &response, None, NOW).await, "Invalid");

    let mut longest = SoftPasskey::new().with_credential_id(vec![8; 1023]);
    let record = s.register(&citizen, &mut longest).await;
    assert_eq!(record.credential_id.as_bytes().len(), 1023);
    assert!(matches!(s.sign_in(None, &longest, NOW).await.unwrap(), SignInOutcome::SignedIn(_)));
}

#[tokio::test]
async fn exclude_credentials_lists_the_citizens_passkeys() {
    let s = setup().await;
    let alice = s.citizen("alice").await;
    let bob = s.citizen("bob.wong").await;
    let (mut k1, mut k2, mut k3) = (SoftPasskey::new(), SoftPasskey::new(), SoftPasskey::new());
    s.register(&alice, &mut k1).await;
    s.register(&alice, &mut k2).await;
    s.register(&bob, &mut k3).await;
    let ceremony = s.svc.start_registration(&alice, "", NOW).await.unwrap();
    let mut excluded: Vec<String> = ceremony.options["publicKey"]["excludeCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["type"], "public-key");
            c["id"].as_str().unwrap().to_owned()
        })
        .collect();
    excluded.sort();
    let mut expected = vec![k1.credential_id_b64(), k2.credential_id_b64()];
    expected.sort();
    assert_eq!(excluded, expected);
}

#[tokio::test]
async fn a_credential_is_accepted_only_for_the_citizen_who_owns_it() {
    let s = setup().await;
    let alice = s.citizen("alice").await;
    let bob = s.citizen("bob.wong").await;
    let mut alices = SoftPasskey::new();
    let mut bobs = SoftPasskey::new();
    s.register(&alice, &mut alices).await;
    s.register(&bob, &mut bobs).await;

    // Alice's credential, presented with Bob's userHandle (discoverable).
    alices.behaviour.user_handle = UserHandle::Other(bob.id.as_uuid().as_bytes().to_vec());
    assert_err(s.sign_in(None, &alices, NOW).await, "NotYours");

    // Alice's credential answering a username-first ceremony for Bob, with either handle.
    alices.behaviour.honour_allow_credentials = false;
    assert_err(s.sign_in(Some("bob.wong"), &alices, NOW).await, "NotYours");
    alices.behaviour.user_handle = UserHandle::Registered;
    assert_err(s.sign_in(Some("bob.wong"), &alices, NOW).await, "NotYours");

    // A userHandle naming nobody, or no userHandle at all, in a discoverable sign-in.
    alices.behaviour.user_handle = UserHandle::Other(CitizenId::generate().as_uuid().as_bytes().to_vec());
    assert_err(s.sign_in(None, &alices, NOW).await, "Invalid");
    alices.behaviour.user_handle = UserHandle::Other(b"not a uuid".to_vec());
    assert_err(s.sign_in(None, &alices, NOW).await, "Invalid");
    alices.behaviour.user_handle = UserHandle::Omit;
    assert_err(s.sign_in(None, &alices, NOW).await, "Invalid");
    // Username-first does not need the userHandle.
    alices.behaviour.honour_allow_credentials = true;
    assert_eq!(s.sign_in(Some("alice"), &alices, NOW).await.unwrap(), signed_in(alice.id, &["hwk", "user"]));

    let reasons: Vec<Value> =
        s.events(AuditKind::SIGNIN_PASSKEY).await.iter().rev().map(|e| detail(e)["reason"].clone()).collect();
    assert_eq!(
        reasons[..6],
        [
            "credential_not_theirs",
            "credential_not_theirs",
            "user_handle_mismatch",
            "unknown_user_handle",
            "bad_user_handle",
            "no_user_handle"
        ]
    );
}

#[tokio::test]
async fn a_counter_regression_is_refused_audited_and_not_saved() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let record = s.register(&citizen, &mut key).await;
    s.sign_in(None, &key, NOW).await.unwrap();
    s.sign_in(Some("chan.taiman"), &key, NOW).await.unwrap();
    assert_eq!(s.record(record.id, citizen.id).await.unwrap().sign_count, 2);

    key.behaviour.counter = CounterMode::Backwards;
    assert_err(s.sign_in(None, &key, NOW.plus_secs(5)).await, "CounterRegression");
    // The same value again is a regression too.
    key.behaviour.counter = CounterMode::Fixed(2);
    assert_err(s.sign_in(Some("chan.taiman"), &key, NOW.plus_secs(6)).await, "CounterRegression");
    let kept = s.record(record.id, citizen.id).await.unwrap();
    assert_eq!((kept.sign_count, kept.last_used_at), (2, Some(NOW)));

    let events = s.events(AuditKind::SIGNIN_PASSKEY).await;
    let regression = &events[0];
    assert_eq!(regression.outcome, Outcome::Failure);
    assert_eq!(regression.actor.as_deref(), Some(citizen.id.to_string().as_str()));
    assert_eq!(detail(regression), json!({"reason": "counter_regression", "passkey_id": record.id.to_string()}));

    // Moving forward again works.
    key.behaviour.counter = CounterMode::Increment;
    key.set_counter(10);
    assert!(matches!(s.sign_in(None, &key, NOW.plus_secs(7)).await.unwrap(), SignInOutcome::SignedIn(_)));
    assert_eq!(s.record(record.id, citizen.id).await.unwrap().sign_count, 11);
}

#[tokio::test]
async fn failures_count_towards_the_sign_in_throttle_shared_with_passwords() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    s.register(&citizen, &mut key).await;

    key.behaviour.origin = Some("https://evil.example".into());
    for _ in 0..3 {
        assert_err(s.sign_in(None, &key, NOW).await, "Invalid");
    }
    // Three failures are free; the fourth attempt waits, even with a good response, in either mode.
    key.behaviour.origin = None;
    assert_err(s.sign_in(None, &key, NOW).await, "Throttled(1s)");
    assert_err(s.sign_in(Some("chan.taiman"), &key, NOW).await, "Throttled(1s)");
    // The password form sees the same count (its account key is the username).
    assert!(matches!(s.throttle.check("chan.taiman", "198.51.100.1", NOW).await, Err(ThrottleError::Throttled(_))));

    // After the delay, the good response signs in and clears the account's failures.
    let later = NOW.plus_secs(1);
    assert!(matches!(s.sign_in(None, &key, later).await.unwrap(), SignInOutcome::SignedIn(_)));
    s.throttle.check("chan.taiman", "198.51.100.1", later).await.unwrap();

    // Unknown usernames are counted under their own name.
    for _ in 0..3 {
        let ceremony = s.svc.start_authentication(Some("nobody.here"), later).await.unwrap();
        let response = json!({"id": "AA", "rawId": "AA", "type": "public-key", "response": {
            "clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA", "userHandle": null}});
        assert_err(s.svc.finish_authentication(&ceremony.id, &response, "192.0.2.1", later).await, "Invalid");
    }
    let ceremony = s.svc.start_authentication(Some("nobody.here"), later).await.unwrap();
    assert_err(s.svc.finish_authentication(&ceremony.id, &json!({}), "192.0.2.1", later).await, "Throttled(1s)");
    assert!(matches!(s.throttle.check("nobody.here", "192.0.2.99", later).await, Err(ThrottleError::Throttled(_))));
}

#[tokio::test]
async fn an_unknown_username_gets_options_of_the_same_shape() {
    let s = setup().await;
    let known = s.citizen("chan.taiman").await;
    s.citizen("lee.siuming").await; // an account without a passkey
    let mut key = SoftPasskey::new();
    s.register(&known, &mut key).await;

    let shape = |c: &Ceremony| {
        let pk = c.options["publicKey"].as_object().unwrap();
        let mut keys: Vec<&String> = pk.keys().collect();
        keys.sort();
        let entries: Vec<Vec<String>> = pk["allowCredentials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["type"], "public-key");
                assert!(!e["id"].as_str().unwrap().is_empty());
                e.as_object().unwrap().keys().cloned().collect()
            })
            .collect();
        (keys.into_iter().cloned().collect::<Vec<_>>(), c.options.get("mediation").cloned(), entries)
    };
    let real = s.svc.start_authentication(Some("chan.taiman"), NOW).await.unwrap();
    let (real_keys, real_mediation, _) = shape(&real);
    let mut some_decoy_has_entries = false;
    for name in ["nobody.here", "lee.siuming", "a", "ab", "wong.kar.wai", "x123", "no_such_user", "Not A Name!"] {
        let first = s.svc.start_authentication(Some(name), NOW).await.unwrap();
        let (keys, mediation, entries) = shape(&first);
        assert_eq!((&keys, &mediation), (&real_keys, &real_mediation), "{name}");
        assert!(entries.iter().all(|e| e.iter().all(|k| ["id", "transports", "type"].contains(&k.as_str()))));
        some_decoy_has_entries |= !entries.is_empty();
        // Stable: the same name gets the same credential ids every time.
        let again = s.svc.start_authentication(Some(name), NOW).await.unwrap();
        assert_eq!(first.options["publicKey"]["allowCredentials"], again.options["publicKey"]["allowCredentials"]);
        assert_ne!(first.options["publicKey"]["challenge"], again.options["publicKey"]["challenge"]);
    }
    assert!(some_decoy_has_entries);

    // Whatever comes back for a name with no account is refused like a bad response.
    key.behaviour.honour_allow_credentials = false;
    assert_err(s.sign_in(Some("nobody.here"), &key, NOW).await, "Invalid");
}

#[tokio::test]
async fn rename_changes_only_the_citizens_own_passkey() {
    let s = setup().await;
    let alice = s.citizen("alice").await;
    let bob = s.citizen("bob.wong").await;
    let record = s.register(&alice, &mut SoftPasskey::new()).await;

    s.svc.rename(alice.id, record.id, "  YubiKey 5C ", NOW).await.unwrap();
    assert_eq!(s.svc.list(alice.id).await.unwrap()[0].name, "YubiKey 5C");
    assert_err(s.svc.rename(alice.id, record.id, " ", NOW).await, "InvalidName");
    assert_err(s.svc.rename(alice.id, record.id, &"長".repeat(65), NOW).await, "InvalidName");
    assert_err(s.svc.rename(bob.id, record.id, "Mine now", NOW).await, "NotYours");
    assert_err(s.svc.rename(alice.id, PasskeyId::generate(), "Ghost", NOW).await, "NotYours");
    assert_eq!(s.svc.list(alice.id).await.unwrap()[0].name, "YubiKey 5C");

    let renamed = s.events(AuditKind::PASSKEY_RENAMED).await;
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0].actor.as_deref(), Some(alice.id.to_string().as_str()));
    assert_eq!(detail(&renamed[0]), json!({"passkey_id": record.id.to_string()}));
}

#[tokio::test]
async fn remove_refuses_the_last_credential() {
    let s = setup().await;
    let alice = s.citizen("alice").await;
    let bob = s.citizen("bob.wong").await;
    let first = s.register(&alice, &mut SoftPasskey::new()).await;

    assert_err(s.svc.remove(alice.id, first.id, NOW).await, "LastCredential");
    assert_eq!(s.svc.list(alice.id).await.unwrap().len(), 1);

    let second = s.register(&alice, &mut SoftPasskey::new()).await;
    assert_err(s.svc.remove(bob.id, first.id, NOW).await, "NotYours");
    s.svc.remove(alice.id, first.id, NOW).await.unwrap();
    assert_eq!(s.svc.list(alice.id).await.unwrap(), std::slice::from_ref(&second));
    assert_err(s.svc.remove(alice.id, first.id, NOW).await, "NotYours");
    assert_err(s.svc.remove(alice.id, second.id, NOW).await, "LastCredential");

    // With a password left, the last passkey may go.
    s.set_password(alice.id).await;
    s.svc.remove(alice.id, second.id, NOW).await.unwrap();
    assert!(s.svc.list(alice.id).await.unwrap().is_empty());

    let removed = s.events(AuditKind::PASSKEY_REMOVED).await;
    assert_eq!(removed.len(), 2);
    assert_eq!(detail(&removed[0])["passkey_id"], second.id.to_string());
    assert_eq!(detail(&removed[1])["passkey_id"], first.id.to_string());
}

/// Two removals of one citizen's last two credentials at the same instant (two passkeys,
/// or a passkey and the password): exactly one succeeds, on SQLite and PostgreSQL, so an
/// account is never left without a way to sign in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_removals_never_leave_an_account_without_a_credential() {
    let hasher = tessera_crypto::PasswordHasher::new(1).unwrap();
    for s in setups().await {
        let passwords = tessera_passkey::PasswordService::new(s.db.clone(), hasher.clone());
        for round in 0..8 {
            let citizen = s.citizen(&format!("race.{round}")).await;
            let first = s.register(&citizen, &mut SoftPasskey::new()).await;
            let (a, b) = if round % 2 == 0 {
                let second = s.register(&citizen, &mut SoftPasskey::new()).await;
                let (x, y) =
                    tokio::join!(s.svc.remove(citizen.id, first.id, NOW), s.svc.remove(citizen.id, second.id, NOW));
                (x.is_ok(), y.is_ok())
            } else {
                s.set_password(citizen.id).await;
                let (x, y) =
                    tokio::join!(s.svc.remove(citizen.id, first.id, NOW), passwords.remove_password(citizen.id, NOW));
                (x.is_ok(), y.is_ok())
            };
            assert!(a ^ b, "round {round}: exactly one removal succeeds ({a}, {b})");
            let id = citizen.id;
            let left = s.svc.list(id).await.unwrap().len()
                + usize::from(s.db.run(move |c| credentials::password_for(c, id)).await.unwrap().is_some());
            assert_eq!(left, 1, "round {round}");
        }
    }
}

#[tokio::test]
async fn a_removed_passkey_no_longer_signs_in() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let record = s.register(&citizen, &mut key).await;
    s.set_password(citizen.id).await;
    s.svc.remove(citizen.id, record.id, NOW).await.unwrap();
    assert_err(s.sign_in(None, &key, NOW).await, "NotYours");
}

#[tokio::test]
async fn a_disabled_citizen_cannot_sign_in() {
    let s = setup().await;
    let citizen = s.citizen("chan.taiman").await;
    let mut key = SoftPasskey::new();
    let record = s.register(&citizen, &mut key).await;
    let id = citizen.id;
    s.db.run(move |c| citizens::set_status(c, id, CitizenStatus::Disabled, NOW)).await.unwrap();

    assert_eq!(s.sign_in(None, &key, NOW).await.unwrap(), SignInOutcome::Refused);
    assert_eq!(s.sign_in(Some("chan.taiman"), &key, NOW).await.unwrap(), SignInOutcome::Refused);
    assert_eq!(s.record(record.id, citizen.id).await.unwrap().last_used_at, None);
    let events = s.events(AuditKind::SIGNIN_PASSKEY).await;
    assert!(events.iter().all(|e| e.outcome == Outcome::Failure && detail(e)["reason"] == "disabled"));
    assert_eq!(events.len(), 2);
}
