//! Registering a passkey: at sign-up (a passkey-only account) or from the account page.

use diesel::Connection as _;
use serde::Deserialize as _;
use serde_json::{Value, json};
use tessera_domain::{AuditEvent, AuditKind, Citizen, CitizenId, CredentialId, PasskeyId, PasskeyRecord, UnixTime};
use tessera_store::{StoreError, audit, passkeys};
use webauthn_rs::prelude::{RegisterPublicKeyCredential, WebauthnError};

use super::{
    Ceremony, PasskeyError, PasskeyFacts, PasskeyService, Step, default_passkey_name, id_prefix,
    normalise_passkey_name, passkey_json,
};

impl PasskeyService {
    /// Starts registering a passkey for `citizen` (who must exist; a citizen still disabled
    /// during sign-up may register). `display_name` is what the authenticator may show next
    /// to the username (the username when blank). The options require a resident
    /// (discoverable) key and user verification, and exclude the citizen's existing passkeys.
    ///
    /// # Errors
    /// [`PasskeyError::Store`], [`PasskeyError::Session`], [`PasskeyError::Internal`].
    pub async fn start_registration(
        &self,
        citizen: &Citizen,
        display_name: &str,
        now: UnixTime,
    ) -> Result<Ceremony, PasskeyError> {
        let citizen_id = citizen.id;
        let existing = self.db.run(move |conn| passkeys::list_for_citizen(conn, citizen_id)).await?;
        let exclude: Vec<Vec<u8>> = existing.iter().map(|p| p.credential_id.as_bytes().to_vec()).collect();
        let username = citizen.username.as_str();
        let display_name = match display_name.trim() {
            "" => username,
            given => given,
        };
        let (ccr, state) = self
            .webauthn
            .start_passkey_registration(*citizen_id.as_uuid(), username, display_name, Some(exclude))
            .map_err(|e| PasskeyError::Internal(format!("webauthn-rs cannot start a registration: {e}")))?;
        let mut options = serde_json::to_value(&ccr)
            .map_err(|e| PasskeyError::Internal(format!("registration options do not serialise: {e}")))?;
        require_discoverable_and_verified(&mut options)?;
        let id = self.put_ceremony(Step::Registration { citizen_id, state }, now).await?;
        tracing::info!(citizen_id = %citizen_id, excluded = existing.len(), "passkey registration started");
        Ok(Ceremony { id, options })
    }

    /// Finishes the registration started for `citizen_id` with the browser's `response` (the
    /// `RegisterPublicKeyCredential` JSON) and stores the passkey under `name` (trimmed; when
    /// absent or blank, `Passkey YYYY-MM-DD`).
    ///
    /// # Errors
    /// - [`PasskeyError::InvalidName`] (checked first; the ceremony is still usable);
    /// - [`PasskeyError::Expired`]: no such ceremony, already finished, or too old;
    /// - [`PasskeyError::NotYours`]: the ceremony was started for another citizen;
    /// - [`PasskeyError::Invalid`]: the response does not verify, the browser says it made no
    ///   discoverable credential, or the credential id is longer than 1023 bytes;
    /// - [`PasskeyError::DuplicateCredential`]: the credential is already registered (to this
    ///   citizen, or to anyone);
    /// - [`PasskeyError::Store`], [`PasskeyError::Session`], [`PasskeyError::Internal`].
    pub async fn finish_registration(
        &self,
        ceremony_id: &str,
        citizen_id: CitizenId,
        response: &Value,
        name: Option<&str>,
        now: UnixTime,
    ) -> Result<PasskeyRecord, PasskeyError> {
        let name = match name.map(str::trim) {
            None | Some("") => default_passkey_name(now),
            Some(given) => normalise_passkey_name(given)?,
        };
        let (owner, state) = match self.take_ceremony(ceremony_id, now).await? {
            Step::Registration { citizen_id, state } => (citizen_id, state),
            Step::Authentication { .. } => return Err(PasskeyError::Expired),
        };
        if owner != citizen_id {
            tracing::warn!(
                citizen_id = %citizen_id,
                ceremony_citizen_id = %owner,
                "passkey registration refused: the ceremony belongs to another citizen"
            );
            return Err(PasskeyError::NotYours);
        }
        // (serde's message may quote the response, so it is not logged.)
        let reg = RegisterPublicKeyCredential::deserialize(response).map_err(|_| {
            tracing::warn!(citizen_id = %citizen_id, reason = "malformed", "passkey registration refused");
            PasskeyError::Invalid
        })?;
        let passkey = match self.webauthn.finish_passkey_registration(&reg, &state) {
            Ok(passkey) => passkey,
            Err(e) => return Err(self.registration_refused(citizen_id, &reg.raw_id, &e).await),
        };
        let credential = id_prefix(passkey.cred_id());
        if reg.extensions.cred_props.as_ref().and_then(|p| p.rk) == Some(false) {
            tracing::warn!(citizen_id = %citizen_id, credential, reason = "not_discoverable", "passkey registration refused");
            return Err(PasskeyError::Invalid);
        }
        let Ok(credential_id) = CredentialId::new(passkey.cred_id().clone()) else {
            tracing::warn!(
                citizen_id = %citizen_id,
                credential,
                length = passkey.cred_id().len(),
                reason = "credential_id_length",
                "passkey registration refused"
            );
            return Err(PasskeyError::Invalid);
        };
        let facts = PasskeyFacts::of(&passkey);
        let record = PasskeyRecord {
            id: PasskeyId::generate(),
            citizen_id,
            credential_id,
            passkey_json: passkey_json(&passkey)?,
            name,
            sign_count: facts.counter,
            backup_eligible: facts.backup_eligible,
            backup_state: facts.backup_state,
            transports: reported_transports(response),
            created_at: now,
            last_used_at: None,
        };
        let event = AuditEvent {
            actor: Some(citizen_id.to_string()),
            detail: json!({
                "passkey_id": record.id.to_string(),
                "backup_eligible": record.backup_eligible,
                "backup_state": record.backup_state,
            })
            .to_string(),
            ..AuditEvent::new(AuditKind::PASSKEY_REGISTERED, now)
        };
        let stored = record.clone();
        let inserted = self
            .db
            .run(move |conn| {
                conn.transaction(|conn| {
                    passkeys::insert(conn, &stored)?;
                    audit::append(conn, &event)
                })
            })
            .await;
        match inserted {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                tracing::warn!(citizen_id = %citizen_id, credential, reason = "duplicate", "passkey registration refused");
                return Err(PasskeyError::DuplicateCredential);
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(
            citizen_id = %citizen_id,
            passkey_id = %record.id,
            credential,
            backup_eligible = record.backup_eligible,
            "passkey registered"
        );
        Ok(record)
    }

    /// Logs why webauthn-rs refused a registration and picks the error to report. webauthn-rs
    /// refuses a credential listed in `excludeCredentials` with a generic error; when the
    /// response names one of the citizen's own credentials, say so.
    async fn registration_refused(&self, citizen_id: CitizenId, raw_id: &[u8], e: &WebauthnError) -> PasskeyError {
        let reason = refusal_reason(e);
        tracing::warn!(
            citizen_id = %citizen_id,
            credential = id_prefix(raw_id),
            reason,
            error = %e,
            "passkey registration refused"
        );
        if matches!(e, WebauthnError::CredentialAlteredAlgFromRequest) {
            let raw_id = raw_id.to_vec();
            let own = self
                .db
                .run(move |conn| passkeys::list_for_citizen(conn, citizen_id))
                .await
                .map(|keys| keys.iter().any(|k| k.credential_id.as_bytes() == raw_id.as_slice()));
            match own {
                Ok(true) => return PasskeyError::DuplicateCredential,
                Ok(false) => {}
                Err(e) => return e.into(),
            }
        }
        PasskeyError::Invalid
    }
}

/// webauthn-rs asks for `residentKey: "discouraged"`; Tessera's passkeys must be discoverable
/// (usernameless sign-in and autofill) and user-verifying.
fn require_discoverable_and_verified(options: &mut Value) -> Result<(), PasskeyError> {
    let public_key = options
        .get_mut("publicKey")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| PasskeyError::Internal("registration options have no publicKey".into()))?;
    public_key.insert(
        "authenticatorSelection".into(),
        json!({"residentKey": "required", "requireResidentKey": true, "userVerification": "required"}),
    );
    Ok(())
}

/// The transports the browser reported (`response.transports`), kept as given (WebAuthn
/// §7.1 step 26: a hint for later `allowCredentials`; webauthn-rs keeps them only for attested
/// credentials). At most 8 values of up to 16 characters of `[a-z-]`; anything else is dropped.
fn reported_transports(response: &Value) -> Vec<String> {
    let Some(list) = response.get("response").and_then(|r| r.get("transports")).and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut transports: Vec<String> = Vec::new();
    for t in list.iter().filter_map(Value::as_str) {
        let plausible = !t.is_empty() && t.len() <= 16 && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
        if plausible && !transports.iter().any(|known| known == t) && transports.len() < 8 {
            transports.push(t.to_owned());
        }
    }
    transports
}

/// A short, stable code for why webauthn-rs refused a response, for logs and audit details.
pub(super) fn refusal_reason(e: &WebauthnError) -> &'static str {
    match e {
        WebauthnError::InvalidRPOrigin => "wrong_origin",
        WebauthnError::InvalidRPIDHash => "wrong_rp_id",
        WebauthnError::UserNotVerified => "user_not_verified",
        WebauthnError::UserNotPresent => "user_not_present",
        WebauthnError::MismatchedChallenge => "wrong_challenge",
        WebauthnError::InvalidClientDataType => "wrong_client_data_type",
        WebauthnError::AuthenticationFailure => "bad_signature",
        WebauthnError::CredentialPossibleCompromise => "counter_regression",
        WebauthnError::CredentialBackupEligibilityInconsistent => "backup_eligibility_changed",
        WebauthnError::CredentialAlteredAlgFromRequest => "excluded_or_unrequested_algorithm",
        WebauthnError::CredentialNotFound => "credential_not_found",
        WebauthnError::ParseNOMFailure | WebauthnError::ParseJSONFailure(_) => "malformed",
        WebauthnError::SignatureInvalid => "bad_signature",
        WebauthnError::CredentialMayNotBeHardwareBound => "backed_up_without_eligibility",
        _ => "did_not_verify",
    }
}
