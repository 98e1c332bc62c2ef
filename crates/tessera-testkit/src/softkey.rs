//! A software WebAuthn authenticator and client in one, for server-side tests without a
//! browser and for the load tool.
//!
//! [`SoftPasskey`] holds an ES256 (P-256) key pair and a credential id. Given the options JSON
//! the server sends to the browser, [`create`](SoftPasskey::create) answers like
//! `navigator.credentials.create()` and [`get`](SoftPasskey::get) like
//! `navigator.credentials.get()`, in the JSON layout browsers send (`PublicKeyCredential.toJSON()`:
//! binary values as base64url without padding):
//!
//! ```text
//! create: {"id", "rawId", "type": "public-key", "authenticatorAttachment": "platform",
//!          "response": {"clientDataJSON", "attestationObject", "transports"},
//!          "extensions": {"credProps": {"rk": true}}}
//! get:    {"id", "rawId", "type": "public-key", "authenticatorAttachment": "platform",
//!          "response": {"clientDataJSON", "authenticatorData", "signature", "userHandle"},
//!          "extensions": {}}
//! ```
//!
//! The attestation is `none`; the authenticator data carries the SHA-256 of the RP id, the
//! flags UP, UV (and BE, BS as configured; AT at registration), the signature counter, and at
//! registration the attested credential data with the COSE EC2 public key. The assertion
//! signature is DER ECDSA over `authenticatorData || SHA-256(clientDataJSON)`.
//!
//! [`Behaviour`] holds the knobs to misbehave: another origin or RP id, UP or UV not set, the
//! counter fixed or going backwards, another or no `userHandle`, and ignoring the
//! `excludeCredentials` / `allowCredentials` lists a browser would honour.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

/// COSE algorithm identifier of ES256.
pub const ES256: i64 = -7;

/// Authenticator data flags (WebAuthn §6.1).
const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_BE: u8 = 0x08;
const FLAG_BS: u8 = 0x10;
const FLAG_AT: u8 = 0x40;

/// What went wrong answering a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoftKeyError {
    /// The operating system gave no randomness, or ring refused the key.
    Crypto(&'static str),
    /// The options lack something the answer needs, or are malformed.
    BadOptions(String),
    /// `excludeCredentials` lists this credential (a browser says `InvalidStateError`).
    Excluded,
    /// `allowCredentials` does not list this credential (a browser says `NotAllowedError`).
    NotAllowed,
    /// [`get`](SoftPasskey::get) before [`create`](SoftPasskey::create).
    NotRegistered,
}

impl fmt::Display for SoftKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crypto(what) => write!(f, "soft passkey crypto failure: {what}"),
            Self::BadOptions(what) => write!(f, "unusable WebAuthn options: {what}"),
            Self::Excluded => f.write_str("the credential is in excludeCredentials"),
            Self::NotAllowed => f.write_str("the credential is not in allowCredentials"),
            Self::NotRegistered => f.write_str("the soft passkey has not been registered yet"),
        }
    }
}

impl std::error::Error for SoftKeyError {}

/// How the signature counter moves at each assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterMode {
    /// Up by one at each assertion (registration reports the current value, 0 at first).
    #[default]
    Increment,
    /// Always this value (0 = an authenticator without a counter, like synced passkeys).
    Fixed(u32),
    /// Down by one at each assertion (a cloned authenticator).
    Backwards,
}

/// Which `userHandle` an assertion carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum UserHandle {
    /// The `user.id` of the registration (what a real passkey returns).
    #[default]
    Registered,
    /// None (`null`), as a non-discoverable credential would.
    Omit,
    /// These bytes instead.
    Other(Vec<u8>),
}

/// The knobs. [`Behaviour::default`] is a well-behaved device-bound passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behaviour {
    /// Put this origin in clientDataJSON instead of the one passed to `create`/`get`.
    pub origin: Option<String>,
    /// Hash this RP id into the authenticator data instead of the options' one.
    pub rp_id: Option<String>,
    /// Set the UP flag. Default true.
    pub user_present: bool,
    /// Set the UV flag. Default true.
    pub user_verified: bool,
    /// Set the BE flag (a synced passkey). Default false.
    pub backup_eligible: bool,
    /// Set the BS flag (currently backed up). Default false.
    pub backup_state: bool,
    pub counter: CounterMode,
    pub user_handle: UserHandle,
    /// The `credProps.rk` client extension output at registration (`None`: no credProps).
    /// Default `Some(true)`.
    pub cred_props_rk: Option<bool>,
    /// `response.transports` at registration. Default `["hybrid", "internal"]`.
    pub transports: Vec<String>,
    /// Refuse to register when `excludeCredentials` lists this credential, as a browser
    /// does. Default true.
    pub honour_exclude_credentials: bool,
    /// Refuse to sign when a non-empty `allowCredentials` does not list this credential, as
    /// a browser does. Default true.
    pub honour_allow_credentials: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            origin: None,
            rp_id: None,
            user_present: true,
            user_verified: true,
            backup_eligible: false,
            backup_state: false,
            counter: CounterMode::Increment,
            user_handle: UserHandle::Registered,
            cred_props_rk: Some(true),
            transports: vec!["hybrid".into(), "internal".into()],
            honour_exclude_credentials: true,
            honour_allow_credentials: true,
        }
    }
}

/// A software passkey: one ES256 credential.
pub struct SoftPasskey {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    credential_id: Vec<u8>,
    /// `user.id` from the registration.
    user_id: Option<Vec<u8>>,
    /// The signature counter last reported.
    counter: AtomicU32,
    /// The knobs; change them between calls.
    pub behaviour: Behaviour,
}

impl fmt::Debug for SoftPasskey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftPasskey")
            .field("credential_id", &b64(&self.credential_id))
            .field("registered", &self.user_id.is_some())
            .field("counter", &self.counter())
            .field("behaviour", &self.behaviour)
            .finish_non_exhaustive()
    }
}

impl Default for SoftPasskey {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftPasskey {
    /// A new key pair with a random 32-byte credential id. Panics if the operating system
    /// gives no randomness (see [`try_new`](Self::try_new)).
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|e| panic!("{e}"))
    }

    /// A new key pair with a random 32-byte credential id.
    ///
    /// # Errors
    /// [`SoftKeyError::Crypto`].
    pub fn try_new() -> Result<Self, SoftKeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| SoftKeyError::Crypto("P-256 key generation failed"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| SoftKeyError::Crypto("ring refused its own P-256 key"))?;
        let mut credential_id = vec![0u8; 32];
        rng.fill(&mut credential_id).map_err(|_| SoftKeyError::Crypto("no randomness for the credential id"))?;
        Ok(Self { key, rng, credential_id, user_id: None, counter: AtomicU32::new(0), behaviour: Behaviour::default() })
    }

    /// Uses `credential_id` instead of the random one (e.g. two keys with one id, or an id
    /// longer than WebAuthn allows).
    #[must_use]
    pub fn with_credential_id(mut self, credential_id: Vec<u8>) -> Self {
        self.credential_id = credential_id;
        self
    }

    /// Replaces the knobs.
    #[must_use]
    pub fn with_behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// The credential id.
    pub fn credential_id(&self) -> &[u8] {
        &self.credential_id
    }

    /// The credential id as base64url (the `id` of the responses).
    pub fn credential_id_b64(&self) -> String {
        b64(&self.credential_id)
    }

    /// The `user.id` of the registration, once registered.
    pub fn user_id(&self) -> Option<&[u8]> {
        self.user_id.as_deref()
    }

    /// The signature counter last reported.
    pub fn counter(&self) -> u32 {
        self.counter.load(Ordering::SeqCst)
    }

    /// Sets the counter; with [`CounterMode::Increment`] the next assertion reports `value + 1`.
    pub fn set_counter(&self, value: u32) {
        self.counter.store(value, Ordering::SeqCst);
    }

    /// The uncompressed public point (`04 || x || y`).
    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// Answers creation options (`{"publicKey": {...}}` or the inner object) for `origin`,
    /// like `navigator.credentials.create()`. Panics on an error (see
    /// [`try_create`](Self::try_create)).
    pub fn create(&mut self, options: &Value, origin: &str) -> Value {
        self.try_create(options, origin).unwrap_or_else(|e| panic!("soft passkey create: {e}"))
    }

    /// Answers creation options for `origin`, remembering `user.id` for later assertions.
    ///
    /// # Errors
    /// [`SoftKeyError::BadOptions`] (no challenge, RP id, user id or ES256 in
    /// `pubKeyCredParams`), [`SoftKeyError::Excluded`], [`SoftKeyError::Crypto`].
    pub fn try_create(&mut self, options: &Value, origin: &str) -> Result<Value, SoftKeyError> {
        let public_key = options.get("publicKey").unwrap_or(options);
        let challenge = text(public_key, &["challenge"])?;
        let rp_id = text(public_key, &["rp", "id"])?;
        let user_id = decode(text(public_key, &["user", "id"])?, "user.id")?;
        let es256 = public_key
            .get("pubKeyCredParams")
            .and_then(Value::as_array)
            .is_some_and(|params| params.iter().any(|p| p.get("alg").and_then(Value::as_i64) == Some(ES256)));
        if !es256 {
            return Err(SoftKeyError::BadOptions("pubKeyCredParams does not offer ES256".into()));
        }
        if self.behaviour.honour_exclude_credentials && self.listed_in(public_key, "excludeCredentials") {
            return Err(SoftKeyError::Excluded);
        }

        let client_data = self.client_data("webauthn.create", challenge, origin);
        let counter = match self.behaviour.counter {
            CounterMode::Fixed(n) => n,
            CounterMode::Increment | CounterMode::Backwards => self.counter(),
        };
        self.set_counter(counter);
        let mut auth_data = self.auth_data_head(rp_id, FLAG_AT, counter);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        let id_len = u16::try_from(self.credential_id.len())
            .map_err(|_| SoftKeyError::BadOptions("the credential id is over 65535 bytes".into()))?;
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());

        let mut attestation = Vec::with_capacity(auth_data.len() + 32);
        cbor_head(&mut attestation, MAJOR_MAP, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_head(&mut attestation, MAJOR_MAP, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);

        self.user_id = Some(user_id);
        let extensions = match self.behaviour.cred_props_rk {
            Some(rk) => json!({"credProps": {"rk": rk}}),
            None => json!({}),
        };
        Ok(json!({
            "id": self.credential_id_b64(),
            "rawId": self.credential_id_b64(),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
                "transports": self.behaviour.transports,
            },
            "extensions": extensions,
        }))
    }

    /// Answers request options (`{"publicKey": {...}, "mediation": ...}` or the inner object)
    /// for `origin`, like `navigator.credentials.get()`. Panics on an error (see
    /// [`try_get`](Self::try_get)).
    pub fn get(&self, options: &Value, origin: &str) -> Value {
        self.try_get(options, origin).unwrap_or_else(|e| panic!("soft passkey get: {e}"))
    }

    /// Answers request options for `origin`. Safe to call from many threads at once.
    ///
    /// # Errors
    /// [`SoftKeyError::NotRegistered`], [`SoftKeyError::BadOptions`] (no challenge or RP id),
    /// [`SoftKeyError::NotAllowed`], [`SoftKeyError::Crypto`].
    pub fn try_get(&self, options: &Value, origin: &str) -> Result<Value, SoftKeyError> {
        let user_id = self.user_id.as_ref().ok_or(SoftKeyError::NotRegistered)?;
        let public_key = options.get("publicKey").unwrap_or(options);
        let challenge = text(public_key, &["challenge"])?;
        let rp_id = text(public_key, &["rpId"])?;
        let allow_empty =
            public_key.get("allowCredentials").and_then(Value::as_array).is_none_or(|list| list.is_empty());
        if self.behaviour.honour_allow_credentials && !allow_empty && !self.listed_in(public_key, "allowCredentials") {
            return Err(SoftKeyError::NotAllowed);
        }

        let counter = self.next_counter();
        let client_data = self.client_data("webauthn.get", challenge, origin);
        let auth_data = self.auth_data_head(rp_id, 0, counter);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(digest(&SHA256, &client_data).as_ref());
        let signature = self.key.sign(&self.rng, &signed).map_err(|_| SoftKeyError::Crypto("ECDSA signing failed"))?;
        let user_handle = match &self.behaviour.user_handle {
            UserHandle::Registered => Value::from(b64(user_id)),
            UserHandle::Omit => Value::Null,
            UserHandle::Other(bytes) => Value::from(b64(bytes)),
        };
        Ok(json!({
            "id": self.credential_id_b64(),
            "rawId": self.credential_id_b64(),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_ref()),
                "userHandle": user_handle,
            },
            "extensions": {},
        }))
    }

    fn next_counter(&self) -> u32 {
        let step = |c: u32| match self.behaviour.counter {
            CounterMode::Increment => c.wrapping_add(1),
            CounterMode::Fixed(n) => n,
            CounterMode::Backwards => c.saturating_sub(1),
        };
        // fetch_update returns the previous value; apply the step once more to get the new one.
        let previous = self.counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| Some(step(c)));
        step(previous.unwrap_or_else(|c| c))
    }

    /// Whether `options[list]` names this credential.
    fn listed_in(&self, public_key: &Value, list: &str) -> bool {
        let ours = self.credential_id_b64();
        public_key
            .get(list)
            .and_then(Value::as_array)
            .is_some_and(|entries| entries.iter().any(|e| e.get("id").and_then(Value::as_str) == Some(ours.as_str())))
    }

    fn client_data(&self, kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        let origin = self.behaviour.origin.as_deref().unwrap_or(origin);
        // Browsers write these members in this order; serde_json would sort them.
        format!(
            r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":false}}"#,
            Value::from(kind),
            Value::from(challenge),
            Value::from(origin)
        )
        .into_bytes()
    }

    /// rpIdHash || flags || signCount, with the behaviour's flags plus `extra_flags`.
    fn auth_data_head(&self, rp_id: &str, extra_flags: u8, counter: u32) -> Vec<u8> {
        let rp_id = self.behaviour.rp_id.as_deref().unwrap_or(rp_id);
        let b = &self.behaviour;
        let flags = extra_flags
            | if b.user_present { FLAG_UP } else { 0 }
            | if b.user_verified { FLAG_UV } else { 0 }
            | if b.backup_eligible { FLAG_BE } else { 0 }
            | if b.backup_state { FLAG_BS } else { 0 };
        let mut data = Vec::with_capacity(37 + 18 + self.credential_id.len() + 77);
        data.extend_from_slice(digest(&SHA256, rp_id.as_bytes()).as_ref());
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        data
    }

    /// The COSE_Key of the public key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.public_key();
        let x = point.get(1..33).unwrap_or_default();
        let y = point.get(33..65).unwrap_or_default();
        let mut key = Vec::with_capacity(77);
        cbor_head(&mut key, MAJOR_MAP, 5);
        cbor_int(&mut key, 1);
        cbor_int(&mut key, 2);
        cbor_int(&mut key, 3);
        cbor_int(&mut key, ES256);
        cbor_int(&mut key, -1);
        cbor_int(&mut key, 1);
        cbor_int(&mut key, -2);
        cbor_bytes(&mut key, x);
        cbor_int(&mut key, -3);
        cbor_bytes(&mut key, y);
        key
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>, SoftKeyError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| SoftKeyError::BadOptions(format!("{what} is not base64url")))
}

/// The string at `path` in `value`.
fn text<'a>(value: &'a Value, path: &[&str]) -> Result<&'a str, SoftKeyError> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .ok_or_else(|| SoftKeyError::BadOptions(format!("no {}", path.join("."))))
}

// A minimal CBOR encoder (RFC 8949, definite lengths, shortest form): enough for an
// attestation object and a COSE key.
const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_NEGATIVE: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_MAP: u8 = 5;

fn cbor_head(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    let bytes = argument.to_be_bytes();
    if argument < 24 {
        out.push(major | bytes[7]);
    } else if argument <= 0xff {
        out.push(major | 24);
        out.push(bytes[7]);
    } else if argument <= 0xffff {
        out.push(major | 25);
        out.extend_from_slice(&bytes[6..]);
    } else if argument <= 0xffff_ffff {
        out.push(major | 26);
        out.extend_from_slice(&bytes[4..]);
    } else {
        out.push(major | 27);
        out.extend_from_slice(&bytes);
    }
}

fn cbor_int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        cbor_head(out, MAJOR_UNSIGNED, value.unsigned_abs());
    } else {
        // -1 - n is encoded as n.
        cbor_head(out, MAJOR_NEGATIVE, (value + 1).unsigned_abs());
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, MAJOR_BYTES, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, MAJOR_TEXT, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn cbor(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    #[test]
    fn soft_passkeys_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SoftPasskey>();
    }

    #[test]
    fn cbor_matches_rfc_8949_examples() {
        assert_eq!(cbor(|o| cbor_int(o, 0)), [0x00]);
        assert_eq!(cbor(|o| cbor_int(o, 23)), [0x17]);
        assert_eq!(cbor(|o| cbor_int(o, 24)), [0x18, 0x18]);
        assert_eq!(cbor(|o| cbor_int(o, 1000)), [0x19, 0x03, 0xe8]);
        assert_eq!(cbor(|o| cbor_int(o, 1_000_000)), [0x1a, 0x00, 0x0f, 0x42, 0x40]);
        assert_eq!(cbor(|o| cbor_int(o, -1)), [0x20]);
        assert_eq!(cbor(|o| cbor_int(o, -7)), [0x26]);
        assert_eq!(cbor(|o| cbor_int(o, -100)), [0x38, 0x63]);
        assert_eq!(cbor(|o| cbor_text(o, "IETF")), [0x64, 0x49, 0x45, 0x54, 0x46]);
        assert_eq!(cbor(|o| cbor_bytes(o, &[1, 2, 3, 4])), [0x44, 1, 2, 3, 4]);
        assert_eq!(cbor(|o| cbor_head(o, MAJOR_MAP, 0)), [0xa0]);
        assert_eq!(cbor(|o| cbor_bytes(o, &[0; 300]))[..3], [0x59, 0x01, 0x2c]);
    }

    #[test]
    fn the_cose_key_holds_the_public_point() {
        let key = SoftPasskey::new();
        let cose = key.cose_key();
        assert_eq!(cose.len(), 77);
        assert_eq!(cose[..10], [0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
        assert_eq!(&cose[10..42], &key.public_key()[1..33]);
        assert_eq!(cose[42..44], [0x22, 0x58]);
        assert_eq!(&cose[45..], &key.public_key()[33..]);
    }

    #[test]
    fn counters_move_as_configured() {
        let mut key = SoftPasskey::new();
        assert_eq!(key.next_counter(), 1);
        assert_eq!(key.next_counter(), 2);
        key.behaviour.counter = CounterMode::Backwards;
        assert_eq!(key.next_counter(), 1);
        key.behaviour.counter = CounterMode::Fixed(7);
        assert_eq!(key.next_counter(), 7);
        assert_eq!(key.counter(), 7);
    }

    #[test]
    fn get_needs_a_registration_and_honours_allow_credentials() {
        let mut key = SoftPasskey::new();
        let request = json!({"publicKey": {"challenge": "AAAA", "rpId": "localhost", "allowCredentials": []}});
        assert_eq!(key.try_get(&request, "http://localhost").unwrap_err(), SoftKeyError::NotRegistered);
        let creation = json!({"publicKey": {
            "challenge": "AAAA", "rp": {"id": "localhost", "name": "T"},
            "user": {"id": "AQID", "name": "u", "displayName": "u"},
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        }});
        let created = key.create(&creation, "http://localhost");
        assert_eq!(created["response"]["transports"], json!(["hybrid", "internal"]));
        assert_eq!(key.user_id(), Some(&[1u8, 2, 3][..]));
        let answer = key.get(&request, "http://localhost");
        assert_eq!(answer["response"]["userHandle"], "AQID");
        let other = json!({"publicKey": {"challenge": "AAAA", "rpId": "localhost",
            "allowCredentials": [{"type": "public-key", "id": "AQID"}]}});
        assert_eq!(key.try_get(&other, "http://localhost").unwrap_err(), SoftKeyError::NotAllowed);
        let excluded = json!({"publicKey": {
            "challenge": "AAAA", "rp": {"id": "localhost"}, "user": {"id": "AQID"},
            "pubKeyCredParams": [{"alg": -7}],
            "excludeCredentials": [{"type": "public-key", "id": key.credential_id_b64()}],
        }});
        assert_eq!(key.try_create(&excluded, "http://localhost").unwrap_err(), SoftKeyError::Excluded);
    }

    #[test]
    fn client_data_is_json_in_browser_order() {
        let key = SoftPasskey::new();
        let data = String::from_utf8(key.client_data("webauthn.get", "abc", "http://localhost:8080")).unwrap();
        assert_eq!(
            data,
            r#"{"type":"webauthn.get","challenge":"abc","origin":"http://localhost:8080","crossOrigin":false}"#
        );
        let parsed: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(parsed["origin"], "http://localhost:8080");
    }
}
