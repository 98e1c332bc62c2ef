//! Signing in with a passkey: discoverable (usernameless button, browser autofill) or
//! username-first.
//!
//! Every ceremony uses webauthn-rs's discoverable state; a username-first ceremony only differs
//! in the options it sends (`allowCredentials` = that citizen's passkeys, no `mediation`) and
//! in recording which citizen it is for. Either way the response's credential is looked up
//! among the passkeys of one citizen only (the one the ceremony or the `userHandle` names)
//! and verified against that single credential: by [`super::assertion`] with ring for an
//! ES256 key, by webauthn-rs for any other.
//!
//! ## No user enumeration in username-first options
//! A username with no account (or an account without passkeys) gets `allowCredentials` made
//! by webauthn-rs's fake credential generator: plausible ids and counts, stable per username,
//! derived with an HMAC key that lives in the session store (shared by every node). So the
//! options look alike whether or not the account exists; the ceremony then fails like any
//! other. (The registration of a credential id that is already taken does tell, see
//! [`PasskeyError::DuplicateCredential`]; registration needs a signed-in account.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::Connection as _;
use serde::Deserialize as _;
use serde_json::{Value, json};
use tessera_crypto::random_bytes;
use tessera_domain::{
    AuditEvent, AuditKind, CitizenId, CitizenStatus, CredentialId, Outcome, PasskeyId, PasskeyRecord, UnixTime,
    Username,
};
use tessera_session::{MAX_TTL, SessionStore};
use tessera_store::{audit, citizens, passkeys};
use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs::prelude::{Credential, DiscoverableAuthentication, Passkey, PublicKeyCredential, Uuid, Webauthn};

use super::assertion::{self, Refusal, RelyingParty};
use super::registration::refusal_reason;
use super::{
    Ceremony, Expected, PasskeyError, PasskeyFacts, PasskeyService, Step, b64url, id_prefix, parse_passkey,
    passkey_json,
};
use crate::signin::{ACR_PASSKEY, SignInOutcome, SignedIn};
use crate::throttle::ThrottleError;

/// RFC 8176 `amr` of a sign-in with a device-bound passkey: proof of possession of a
/// hardware-secured key (`hwk`) and a user presence test (`user`; the authenticator also
/// verified the user, as the ceremony requires).
pub const AMR_DEVICE_BOUND_PASSKEY: [&str; 2] = ["hwk", "user"];

/// RFC 8176 `amr` of a sign-in with a synced passkey (backup eligible, WebAuthn §6.1.3): its
/// private key can leave the device for the provider's sync fabric, so it is a
/// software-secured key (`swk`), not a hardware-secured one, plus a user presence test.
pub const AMR_SYNCED_PASSKEY: [&str; 2] = ["swk", "user"];

/// The session-store key of the HMAC key for fake `allowCredentials`.
const DECOY_KEY: &str = "webauthn:decoy-key";

/// One failed attempt, to count, audit and log.
struct Failure<'a> {
    account_key: &'a str,
    ip: &'a str,
    reason: &'static str,
    error: PasskeyError,
    /// Only when the signature verified (the attempt provably involved this citizen's key).
    actor: Option<CitizenId>,
    passkey_id: Option<PasskeyId>,
    /// The first bytes of the credential id, for the log.
    credential: Option<String>,
}

impl PasskeyService {
    /// Starts a sign-in. `username: None` is discoverable: the usernameless button and browser
    /// autofill (the options carry `mediation: "conditional"`, which the script passes only
    /// for autofill). `Some(name)` is username-first: `allowCredentials` lists that citizen's
    /// passkeys, and a name with no account (or no passkey) gets an answer of the same shape
    /// (see the module docs), never an error.
    ///
    /// # Errors
    /// [`PasskeyError::Store`], [`PasskeyError::Session`], [`PasskeyError::Internal`].
    pub async fn start_authentication(&self, username: Option<&str>, now: UnixTime) -> Result<Ceremony, PasskeyError> {
        let (rcr, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| PasskeyError::Internal(format!("webauthn-rs cannot start a sign-in: {e}")))?;
        let challenge = b64url(&rcr.public_key.challenge);
        let mut options = serde_json::to_value(&rcr)
            .map_err(|e| PasskeyError::Internal(format!("sign-in options do not serialise: {e}")))?;
        let expected = match username {
            None => Expected::Anyone,
            Some(typed) => {
                // The same account key as a password attempt with this name.
                let account_key = typed.trim().to_lowercase();
                let found = match Username::parse(typed) {
                    Ok(name) => {
                        self.db
                            .run(move |conn| {
                                let Some(citizen) = citizens::by_username(conn, &name)? else { return Ok(None) };
                                let keys = passkeys::list_for_citizen(conn, citizen.id)?;
                                Ok(Some((citizen.id, keys)))
                            })
                            .await?
                    }
                    Err(_) => None,
                };
                // Derived every time, so that known and unknown names take the same work.
                let decoys = self.decoy_allow_list(&account_key).await?;
                let (allow, expected) = match found {
                    Some((citizen_id, keys)) if !keys.is_empty() => (
                        keys.iter().map(|k| allow_entry(k.credential_id.as_bytes(), &k.transports)).collect(),
                        Expected::Citizen { citizen_id, account_key },
                    ),
                    Some((citizen_id, _)) => (decoys, Expected::Citizen { citizen_id, account_key }),
                    None => (decoys, Expected::Nobody { account_key }),
                };
                make_username_first(&mut options, allow)?;
                expected
            }
        };
        let mode = mode(&expected);
        let id = self.put_ceremony(Step::Authentication { expected, state, challenge: Some(challenge) }, now).await?;
        tracing::debug!(mode, "passkey sign-in started");
        Ok(Ceremony { id, options })
    }

    /// Finishes a sign-in with the browser's `response` (the `PublicKeyCredential` JSON); `ip`
    /// is the client address, for the throttle and the audit trail.
    ///
    /// Returns [`SignInOutcome::SignedIn`] (with `acr` [`ACR_PASSKEY`] and `amr`
    /// [`AMR_DEVICE_BOUND_PASSKEY`] or [`AMR_SYNCED_PASSKEY`]), or [`SignInOutcome::Refused`]
    /// when the passkey verified but the account is disabled. Never
    /// [`SignInOutcome::Throttled`]: throttling is [`PasskeyError::Throttled`].
    ///
    /// # Errors
    /// - [`PasskeyError::Expired`]: no such ceremony, already finished (a replay), or too old;
    /// - [`PasskeyError::Throttled`]: too many failures for this account or address (429);
    /// - [`PasskeyError::Invalid`]: malformed, no or unknown `userHandle` in a discoverable
    ///   sign-in, a username with no account, or the response did not verify;
    /// - [`PasskeyError::NotYours`]: the credential is not one of the named citizen's passkeys;
    /// - [`PasskeyError::CounterRegression`]: the signature counter did not increase (audited;
    ///   the stored counter is kept);
    /// - [`PasskeyError::Store`], [`PasskeyError::Session`] (503), [`PasskeyError::Internal`].
    ///
    /// Invalid, NotYours and CounterRegression count as failures for the throttle.
    pub async fn finish_authentication(
        &self,
        ceremony_id: &str,
        response: &Value,
        ip: &str,
        now: UnixTime,
    ) -> Result<SignInOutcome, PasskeyError> {
        let (expected, state, challenge) = match self.take_ceremony(ceremony_id, now).await? {
            Step::Authentication { expected, state, challenge } => (expected, state, challenge),
            Step::Registration { .. } => return Err(PasskeyError::Expired),
        };
        let credential = PublicKeyCredential::deserialize(response).ok();
        // Absent, or present and (perhaps) a citizen id.
        let handle: Option<Option<CitizenId>> = credential
            .as_ref()
            .and_then(PublicKeyCredential::get_user_unique_id)
            .map(|bytes| Uuid::from_slice(bytes).ok().map(CitizenId::from_uuid));
        let credential_prefix = credential.as_ref().map(|c| id_prefix(c.get_credential_id()));
        let unidentified = format!("webauthn:unidentified:{}", ip.trim());

        // Whom the attempt names: the ceremony's citizen, or the `userHandle`'s.
        let (target, mut account_key) = match (&expected, handle) {
            (Expected::Nobody { account_key }, _) => {
                (Err(("unknown_username", PasskeyError::Invalid)), account_key.clone())
            }
            (Expected::Citizen { account_key, .. }, _) if credential.is_none() => {
                (Err(("malformed", PasskeyError::Invalid)), account_key.clone())
            }
            (Expected::Citizen { citizen_id, account_key }, Some(named)) if named != Some(*citizen_id) => {
                (Err(("user_handle_mismatch", PasskeyError::NotYours)), account_key.clone())
            }
            (Expected::Citizen { citizen_id, account_key }, _) => (Ok(*citizen_id), account_key.clone()),
            (Expected::Anyone, _) if credential.is_none() => (Err(("malformed", PasskeyError::Invalid)), unidentified),
            (Expected::Anyone, Some(Some(citizen_id))) => (Ok(citizen_id), unidentified),
            (Expected::Anyone, Some(None)) => (Err(("bad_user_handle", PasskeyError::Invalid)), unidentified),
            (Expected::Anyone, None) => (Err(("no_user_handle", PasskeyError::Invalid)), unidentified),
        };

        // Only a passkey of the named citizen is loaded: the one with this credential id.
        let credential_id = credential.as_ref().and_then(|c| CredentialId::new(c.get_credential_id().to_vec()).ok());
        let loaded = match target {
            Ok(citizen_id) => {
                let found = self
                    .db
                    .run(move |conn| {
                        let Some(citizen) = citizens::by_id(conn, citizen_id)? else { return Ok(None) };
                        let key = match credential_id {
                            Some(id) => passkeys::by_credential_id(conn, &id)?.filter(|k| k.citizen_id == citizen_id),
                            None => None,
                        };
                        Ok(Some((citizen, key)))
                    })
                    .await?;
                match found {
                    Some((citizen, keys)) => {
                        if matches!(expected, Expected::Anyone) {
                            // Counted against the same account as password attempts.
                            account_key = citizen.username.as_str().to_owned();
                        }
                        Ok((citizen, keys))
                    }
                    None => {
                        account_key = format!("webauthn:user:{citizen_id}");
                        Err(("unknown_user_handle", PasskeyError::Invalid))
                    }
                }
            }
            Err(refusal) => Err(refusal),
        };

        match self.throttle.check(&account_key, ip, now).await {
            Ok(()) => {}
            Err(ThrottleError::Throttled(t)) => {
                tracing::info!(reason = t.reason.as_str(), "passkey sign-in throttled");
                return Err(PasskeyError::Throttled(t.retry_after));
            }
            Err(ThrottleError::Unavailable(e)) => return Err(e.into()),
        }

        let fail = |reason: &'static str, error: PasskeyError| Failure {
            account_key: &account_key,
            ip,
            reason,
            error,
            actor: None,
            passkey_id: None,
            credential: credential_prefix.clone(),
        };
        let (citizen, key) = match loaded {
            Ok(found) => found,
            Err((reason, error)) => return Err(self.record_failure(fail(reason, error), now).await),
        };
        let Some(credential) = credential else {
            return Err(self.record_failure(fail("malformed", PasskeyError::Invalid), now).await);
        };
        let Some(record) = key else {
            return Err(self.record_failure(fail("credential_not_theirs", PasskeyError::NotYours), now).await);
        };
        let passkey = parse_passkey(&record.passkey_json)?;
        let (passkey, facts) =
            match check_assertion(&self.webauthn, &self.rp, &credential, state, challenge.as_deref(), passkey) {
                Ok(checked) => checked,
                Err(reason) if reason == Refusal::CounterRegression.reason() => {
                    // The signature verified: the attempt provably used this citizen's key.
                    let failure = Failure {
                        actor: Some(citizen.id),
                        passkey_id: Some(record.id),
                        ..fail("counter_regression", PasskeyError::CounterRegression)
                    };
                    return Err(self.record_failure(failure, now).await);
                }
                Err(reason) => {
                    let failure = Failure { passkey_id: Some(record.id), ..fail(reason, PasskeyError::Invalid) };
                    return Err(self.record_failure(failure, now).await);
                }
            };

        if citizen.status != CitizenStatus::Active {
            let event = AuditEvent {
                outcome: Outcome::Failure,
                actor: Some(citizen.id.to_string()),
                ip: Some(ip.to_owned()),
                detail: json!({"reason": "disabled", "passkey_id": record.id.to_string()}).to_string(),
                ..AuditEvent::new(AuditKind::SIGNIN_PASSKEY, now)
            };
            self.audit(event).await?;
            tracing::info!(citizen_id = %citizen.id, reason = "disabled", "passkey sign-in refused");
            return Ok(SignInOutcome::Refused);
        }

        let updated = PasskeyRecord {
            passkey_json: passkey_json(&passkey)?,
            sign_count: facts.counter,
            backup_eligible: facts.backup_eligible,
            backup_state: facts.backup_state,
            last_used_at: Some(now),
            ..record
        };
        let amr = if updated.backup_eligible { AMR_SYNCED_PASSKEY } else { AMR_DEVICE_BOUND_PASSKEY };
        let event = AuditEvent {
            actor: Some(citizen.id.to_string()),
            ip: Some(ip.to_owned()),
            detail: json!({
                "passkey_id": updated.id.to_string(),
                "mode": mode(&expected),
                "backup_state": updated.backup_state,
            })
            .to_string(),
            ..AuditEvent::new(AuditKind::SIGNIN_PASSKEY, now)
        };
        let (passkey_id, sign_count) = (updated.id, updated.sign_count);
        self.db
            .run(move |conn| {
                conn.transaction(|conn| {
                    passkeys::update_after_use(conn, &updated)?;
                    audit::append(conn, &event)
                })
            })
            .await?;
        self.throttle.record_success(&account_key).await?;
        tracing::info!(citizen_id = %citizen.id, passkey_id = %passkey_id, sign_count, "passkey sign-in");
        Ok(SignInOutcome::SignedIn(SignedIn {
            citizen_id: citizen.id,
            amr: amr.iter().map(|&m| m.to_owned()).collect(),
            acr: ACR_PASSKEY.into(),
        }))
    }

    /// Counts a failure for the throttle, appends the audit event, logs it, and returns the
    /// error to report (a store error instead, if counting or auditing failed: fail closed).
    async fn record_failure(&self, failure: Failure<'_>, now: UnixTime) -> PasskeyError {
        let Failure { account_key, ip, reason, error, actor, passkey_id, credential } = failure;
        match self.throttle.record_failure(account_key, ip, now).await {
            Ok(true) => {
                if let Err(e) = crate::signin::audit_lockout(&self.db, account_key, ip, now).await {
                    return e.into();
                }
            }
            Ok(false) => {}
            Err(e) => return e.into(),
        }
        let mut detail = json!({"reason": reason});
        if let Some(id) = passkey_id {
            detail["passkey_id"] = json!(id.to_string());
        }
        let event = AuditEvent {
            outcome: Outcome::Failure,
            actor: actor.map(|a| a.to_string()),
            ip: Some(ip.to_owned()),
            detail: detail.to_string(),
            ..AuditEvent::new(AuditKind::SIGNIN_PASSKEY, now)
        };
        if let Err(e) = self.audit(event).await {
            return e.into();
        }
        let credential = credential.unwrap_or_default();
        match actor {
            Some(citizen_id) => tracing::warn!(citizen_id = %citizen_id, credential, reason, "passkey sign-in refused"),
            None => tracing::info!(credential, reason, "passkey sign-in refused"),
        }
        error
    }

    /// `allowCredentials` entries for a name with no passkeys: webauthn-rs's fake credential
    /// ids for it, with transports that fit each id's kind of authenticator.
    async fn decoy_allow_list(&self, account_key: &str) -> Result<Vec<Value>, PasskeyError> {
        let key = self.decoy_key().await?;
        let ids = WebauthnFakeCredentialGenerator::<FakePasskeyDistribution>::new(&key)
            .and_then(|generator| generator.generate(account_key.as_bytes()))
            .map_err(|e| PasskeyError::Internal(format!("fake credential ids: {e}")))?;
        Ok(ids.iter().map(|id| allow_entry(id, decoy_transports(id.len()))).collect())
    }

    /// The HMAC key of the fake credential ids: created once by whichever node needs it
    /// first, shared through the session store, renewed after [`MAX_TTL`].
    async fn decoy_key(&self) -> Result<Vec<u8>, PasskeyError> {
        let usable = |key: &Vec<u8>| (16..=64).contains(&key.len());
        if let Some(key) = self.store.get(DECOY_KEY).await?.filter(usable) {
            return Ok(key);
        }
        let fresh = random_bytes::<32>().map_err(|e| PasskeyError::Internal(e.to_string()))?;
        if self.store.put_if_absent(DECOY_KEY, &fresh, MAX_TTL).await? {
            return Ok(fresh.to_vec());
        }
        match self.store.get(DECOY_KEY).await?.filter(usable) {
            Some(key) => Ok(key),
            None => {
                // Something unusable sits under our key: replace it.
                self.store.put(DECOY_KEY, &fresh, MAX_TTL).await?;
                Ok(fresh.to_vec())
            }
        }
    }
}

/// Verifies the assertion `credential` against the stored `passkey`: with ring for ES256
/// keys (see [`super::assertion`]), with webauthn-rs for any other key or for a ceremony
/// stored without its challenge. Returns the passkey with its new counter and backup
/// flags, or the refusal reason (`counter_regression` only after the signature verified).
fn check_assertion(
    webauthn: &Webauthn,
    rp: &RelyingParty,
    credential: &PublicKeyCredential,
    state: DiscoverableAuthentication,
    challenge: Option<&str>,
    passkey: Passkey,
) -> Result<(Passkey, PasskeyFacts), &'static str> {
    let mut cred = Credential::from(passkey);
    let challenge = challenge.and_then(|c| URL_SAFE_NO_PAD.decode(c).ok());
    if let Some(verdict) = challenge.and_then(|c| assertion::verify(rp, &c, credential, &cred)) {
        let verified = verdict.map_err(Refusal::reason)?;
        verified.apply_to(&mut cred);
        let facts = PasskeyFacts::of_credential(&cred);
        return Ok((Passkey::from(cred), facts));
    }
    let mut passkey = Passkey::from(cred);
    match webauthn.finish_discoverable_authentication_v2(credential, state, &passkey) {
        Ok(result) => {
            passkey.update_credential(&result);
            let facts = PasskeyFacts::of(&passkey);
            Ok((passkey, facts))
        }
        Err(e) => {
            tracing::debug!(error = %e, "webauthn-rs refused the assertion");
            Err(refusal_reason(&e))
        }
    }
}

/// `username` or `discoverable`, for logs and the audit trail.
fn mode(expected: &Expected) -> &'static str {
    match expected {
        Expected::Anyone => "discoverable",
        Expected::Citizen { .. } | Expected::Nobody { .. } => "username",
    }
}

/// One `allowCredentials` entry, the same shape for real and fake credentials.
fn allow_entry(id: &[u8], transports: &[impl AsRef<str>]) -> Value {
    let mut entry = json!({"type": "public-key", "id": b64url(id)});
    if !transports.is_empty() {
        entry["transports"] = transports.iter().map(|t| Value::from(t.as_ref())).collect();
    }
    entry
}

/// Transports that real authenticators with credential ids of this length report (the
/// lengths are those of webauthn-rs's fake credential distribution).
fn decoy_transports(id_len: usize) -> &'static [&'static str] {
    use webauthn_rs::fake::{
        APPLE_CRED_LEN, BITWARDEN_CRED_LEN, G_PIXEL_CRED_LEN, TPM_CRED_LEN, YUBIKEY_CRED_LEN, YUBIKEY_EDDSA_CRED_LEN,
    };
    match id_len {
        G_PIXEL_CRED_LEN | APPLE_CRED_LEN | BITWARDEN_CRED_LEN => &["hybrid", "internal"],
        TPM_CRED_LEN => &["internal"],
        YUBIKEY_CRED_LEN | YUBIKEY_EDDSA_CRED_LEN => &["nfc", "usb"],
        _ => &[],
    }
}

/// Turns discoverable options into username-first ones: the given `allowCredentials`, and
/// no conditional mediation (the browser shows its modal dialog).
fn make_username_first(options: &mut Value, allow: Vec<Value>) -> Result<(), PasskeyError> {
    let object =
        options.as_object_mut().ok_or_else(|| PasskeyError::Internal("sign-in options are not an object".into()))?;
    object.remove("mediation");
    let public_key = object
        .get_mut("publicKey")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| PasskeyError::Internal("sign-in options have no publicKey".into()))?;
    public_key.insert("allowCredentials".into(), Value::Array(allow));
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn allow_entries_look_alike() {
        let real = allow_entry(&[1, 2, 3], &["hybrid".to_owned(), "internal".to_owned()]);
        let fake = allow_entry(&[1, 2, 3], decoy_transports(APPLE_LEN));
        assert_eq!(real, fake);
        assert_eq!(real, json!({"type": "public-key", "id": "AQID", "transports": ["hybrid", "internal"]}));
        let bare = allow_entry(&[9], &[] as &[&str]);
        assert_eq!(bare, json!({"type": "public-key", "id": "CQ"}));
    }

    const APPLE_LEN: usize = webauthn_rs::fake::APPLE_CRED_LEN;

    #[test]
    fn ring_verifies_when_the_challenge_is_known_and_webauthn_rs_otherwise() {
        use super::super::assertion::tests::{ORIGIN, Rig, rewrite_client_data};
        let rig = Rig::new();
        let mut key = tessera_testkit::softkey::SoftPasskey::new();
        let passkey = rig.register(&mut key);
        let attempt = |challenge_known: bool, cross_origin: bool| {
            let (options, state) = rig.webauthn.start_discoverable_authentication().unwrap();
            let mut response = key.get(&serde_json::to_value(&options).unwrap(), ORIGIN);
            if cross_origin {
                rewrite_client_data(&mut response, "\"crossOrigin\":false", "\"crossOrigin\":true");
            }
            let response: PublicKeyCredential = serde_json::from_value(response).unwrap();
            let challenge = challenge_known.then(|| b64url(&options.public_key.challenge));
            check_assertion(&rig.webauthn, &rig.rp, &response, state, challenge.as_deref(), passkey.clone())
                .map(|(_, facts)| facts.counter)
        };
        assert_eq!(attempt(true, false), Ok(1));
        assert_eq!(attempt(false, false), Ok(2));
        // Only this crate's check names a cross-origin assertion; webauthn-rs ignores the
        // member and refuses the rewritten client data for its signature.
        assert_eq!(attempt(true, true), Err("cross_origin"));
        assert_eq!(attempt(false, true), Err("bad_signature"));
    }
}
