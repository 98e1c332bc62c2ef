//! Verifying a passkey sign-in (a WebAuthn assertion) for an ES256 credential with ring.
//!
//! webauthn-rs-core checks an assertion's signature with the pure-Rust `p256` crate, which
//! costs about five times what ring's check does (docs/performance.md, "Passkey sign-ins").
//! Neither webauthn-rs-core nor its crypto layer can use another backend, so for the
//! credentials it registers with COSE algorithm -7 (ES256 on P-256, what every passkey
//! provider uses) this module runs the relying party's checks of WebAuthn Level 3 §7.2
//! itself, in the order webauthn-rs-core runs them, with the same outcome and the same
//! refusal reasons. Any other kind of key returns `None`, and the caller asks webauthn-rs.
//! Registration stays with webauthn-rs.
//!
//! The checks (the caller has already matched the credential id and the `userHandle`):
//! 1. the client data parses as JSON; its `type` is `webauthn.get`;
//! 2. its `challenge` is the one this ceremony sent (base64url without padding);
//! 3. its `origin` is the RP's origin: scheme, host and port (webauthn-rs's rule with no
//!    subdomains and no other ports allowed);
//! 4. `crossOrigin` is absent or false. webauthn-rs ignores it; Tessera's pages forbid framing
//!    (`frame-ancestors 'none'`), so a genuine sign-in is never cross-origin (§7.2 step 14);
//! 5. the authenticator data has at least its 37-byte head; `rpIdHash` is SHA-256 of the RP id;
//! 6. UP is set; UV is set (sign-in requires user verification, as registration did);
//! 7. BE is what it was at registration, and BS is not set without BE (webauthn-rs's rules,
//!    beyond the spec, with no upgrade of backup eligibility allowed, as for its passkeys);
//! 8. the signature verifies over `authenticatorData || SHA-256(clientDataJSON)`;
//! 9. when either the stored or the new counter is non-zero, the new one is greater.
//!
//! Extension data after the head (flags AT and ED) is not parsed: it is covered by the
//! signature, and Tessera requests no extension whose output it reads.
//!
//! `tests` below run this and webauthn-rs on the same assertions, genuine and tampered, and
//! require the same verdict and reason for each.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tessera_crypto::{constant_time_eq, sha256, verify_p256_der};
use url::Url;
use webauthn_rs::prelude::{COSEAlgorithm, COSEKeyType, Credential, ECDSACurve, PublicKeyCredential};

/// Flag bits of the authenticator data (WebAuthn §6.1).
const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_BE: u8 = 0x08;
const FLAG_BS: u8 = 0x10;

/// rpIdHash (32) || flags (1) || signCount (4).
const AUTH_DATA_HEAD: usize = 37;

/// What the relying party expects of every assertion: fixed for the life of the service.
#[derive(Debug, Clone)]
pub(super) struct RelyingParty {
    rp_id_hash: [u8; 32],
    origin: url::Origin,
}

impl RelyingParty {
    pub(super) fn new(rp_id: &str, origin: &Url) -> Self {
        Self { rp_id_hash: sha256(rp_id.as_bytes()), origin: origin.origin() }
    }
}

/// What a verified assertion says, to store with the passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Verified {
    /// The authenticator's signature counter (above the stored one, unless both are zero).
    pub(super) counter: u32,
    pub(super) backup_eligible: bool,
    pub(super) backup_state: bool,
}

impl Verified {
    /// Writes the new counter and backup flags into the stored credential (what webauthn-rs's
    /// `Passkey::update_credential` does with its own result).
    pub(super) fn apply_to(self, cred: &mut Credential) {
        cred.counter = cred.counter.max(self.counter);
        cred.backup_state = self.backup_state;
        cred.backup_eligible |= self.backup_eligible;
    }
}

/// Why an assertion was refused. [`Refusal::reason`] is the audit trail's word for it,
/// the same one that [`super::registration::refusal_reason`] gives webauthn-rs's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    Malformed,
    ClientDataType,
    Challenge,
    Origin,
    CrossOrigin,
    RpIdHash,
    UserNotPresent,
    UserNotVerified,
    BackupEligibilityChanged,
    BackedUpWithoutEligibility,
    Signature,
    CounterRegression,
}

impl Refusal {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::ClientDataType => "wrong_client_data_type",
            Self::Challenge => "wrong_challenge",
            Self::Origin => "wrong_origin",
            Self::CrossOrigin => "cross_origin",
            Self::RpIdHash => "wrong_rp_id",
            Self::UserNotPresent => "user_not_present",
            Self::UserNotVerified => "user_not_verified",
            Self::BackupEligibilityChanged => "backup_eligibility_changed",
            Self::BackedUpWithoutEligibility => "backed_up_without_eligibility",
            Self::Signature => "bad_signature",
            Self::CounterRegression => "counter_regression",
        }
    }
}

/// The members of the client data that the checks read; others are ignored (§5.8.1.2).
#[derive(Deserialize)]
struct ClientData<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    challenge: Cow<'a, str>,
    #[serde(borrow)]
    origin: Cow<'a, str>,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
}

/// Verifies `response` for the stored credential `cred` in a ceremony that sent `challenge`.
/// `None` when `cred` is not an ES256 key on P-256: verify it with webauthn-rs instead.
pub(super) fn verify(
    rp: &RelyingParty,
    challenge: &[u8],
    response: &PublicKeyCredential,
    cred: &Credential,
) -> Option<Result<Verified, Refusal>> {
    let point = es256_point(cred)?;
    Some(check(rp, challenge, response, cred, &point))
}

/// The credential's public key as an uncompressed P-256 point, if it is an ES256 key.
fn es256_point(cred: &Credential) -> Option<[u8; 65]> {
    if cred.cred.type_ != COSEAlgorithm::ES256 {
        return None;
    }
    let COSEKeyType::EC_EC2(key) = &cred.cred.key else { return None };
    if key.curve != ECDSACurve::SECP256R1 || key.x.len() != 32 || key.y.len() != 32 {
        return None;
    }
    let mut point = [0u8; 65];
    point[0] = 0x04;
    point[1..33].copy_from_slice(&key.x);
    point[33..].copy_from_slice(&key.y);
    Some(point)
}

fn check(
    rp: &RelyingParty,
    challenge: &[u8],
    response: &PublicKeyCredential,
    cred: &Credential,
    point: &[u8; 65],
) -> Result<Verified, Refusal> {
    let raw = &response.response;
    let auth_data = raw.authenticator_data.as_slice();
    let head = auth_data.get(..AUTH_DATA_HEAD).ok_or(Refusal::Malformed)?;
    let client_data: ClientData<'_> = serde_json::from_slice(&raw.client_data_json).map_err(|_| Refusal::Malformed)?;

    if client_data.kind != "webauthn.get" {
        return Err(Refusal::ClientDataType);
    }
    let sent = URL_SAFE_NO_PAD.decode(client_data.challenge.as_bytes()).map_err(|_| Refusal::Malformed)?;
    if !constant_time_eq(&sent, challenge) {
        return Err(Refusal::Challenge);
    }
    let origin = Url::parse(&client_data.origin).map_err(|_| Refusal::Malformed)?;
    if origin.origin() != rp.origin {
        return Err(Refusal::Origin);
    }
    if client_data.cross_origin == Some(true) {
        return Err(Refusal::CrossOrigin);
    }

    if head[..32] != rp.rp_id_hash {
        return Err(Refusal::RpIdHash);
    }
    let flags = head[32];
    let counter = u32::from_be_bytes([head[33], head[34], head[35], head[36]]);
    let (backup_eligible, backup_state) = (flags & FLAG_BE != 0, flags & FLAG_BS != 0);
    if flags & FLAG_UP == 0 {
        return Err(Refusal::UserNotPresent);
    }
    if flags & FLAG_UV == 0 {
        return Err(Refusal::UserNotVerified);
    }
    if backup_eligible != cred.backup_eligible {
        return Err(Refusal::BackupEligibilityChanged);
    }
    if backup_state && !cred.backup_eligible {
        return Err(Refusal::BackedUpWithoutEligibility);
    }

    let mut signed = Vec::with_capacity(auth_data.len() + 32);
    signed.extend_from_slice(auth_data);
    signed.extend_from_slice(&sha256(&raw.client_data_json));
    if !verify_p256_der(point, &signed, &raw.signature) {
        return Err(Refusal::Signature);
    }

    if (counter > 0 || cred.counter > 0) && counter <= cred.counter {
        return Err(Refusal::CounterRegression);
    }
    Ok(Verified { counter, backup_eligible, backup_state })
}

#[cfg(test)]
pub(super) mod tests {
    //! This module and webauthn-rs on the same assertions: every verdict and reason must agree.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::Value;
    use tessera_testkit::softkey::{CounterMode, SoftPasskey};
    use webauthn_rs::prelude::{Passkey, RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder};

    use super::super::registration::refusal_reason;
    use super::*;

    pub(crate) const ORIGIN: &str = "http://localhost:8080";

    pub(crate) struct Rig {
        pub(crate) webauthn: Webauthn,
        pub(crate) rp: RelyingParty,
    }

    type Tamper = Box<dyn FnOnce(&mut Value)>;

    /// The stored credential after a sign-in, as far as Tessera keeps it.
    type Outcome = Result<(u32, bool, bool), &'static str>;

    impl Rig {
        pub(crate) fn new() -> Self {
            let origin = Url::parse(ORIGIN).unwrap();
            let webauthn = WebauthnBuilder::new("localhost", &origin).unwrap().build().unwrap();
            Self { webauthn, rp: RelyingParty::new("localhost", &origin) }
        }

        pub(crate) fn register(&self, key: &mut SoftPasskey) -> Passkey {
            let (options, state) =
                self.webauthn.start_passkey_registration(Uuid::new_v4(), "chan.taiman", "Chan Tai Man", None).unwrap();
            let response = key.create(&serde_json::to_value(&options).unwrap(), ORIGIN);
            let response: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
            self.webauthn.finish_passkey_registration(&response, &state).unwrap()
        }

        /// One sign-in ceremony answered by `key` and changed by `tamper`, verified both ways
        /// against `passkey`: (this module's outcome, webauthn-rs's).
        fn both(&self, passkey: &Passkey, key: &SoftPasskey, tamper: impl FnOnce(&mut Value)) -> (Outcome, Outcome) {
            let (options, state) = self.webauthn.start_discoverable_authentication().unwrap();
            let mut response = key.get(&serde_json::to_value(&options).unwrap(), ORIGIN);
            tamper(&mut response);
            let response: PublicKeyCredential = serde_json::from_value(response).unwrap();
            self.verdicts(passkey, &response, &options.public_key.challenge, state)
        }

        fn verdicts(
            &self,
            passkey: &Passkey,
            response: &PublicKeyCredential,
            challenge: &[u8],
            state: webauthn_rs::prelude::DiscoverableAuthentication,
        ) -> (Outcome, Outcome) {
            let facts = |c: &Credential| (c.counter, c.backup_eligible, c.backup_state);
            let mut cred = Credential::from(passkey.clone());
            let ours = match verify(&self.rp, challenge, response, &cred).expect("an ES256 credential") {
                Ok(verified) => {
                    verified.apply_to(&mut cred);
                    Ok(facts(&cred))
                }
                Err(refusal) => Err(refusal.reason()),
            };
            let theirs = match self.webauthn.finish_discoverable_authentication_v2(response, state, passkey) {
                Ok(result) => {
                    let mut updated = passkey.clone();
                    updated.update_credential(&result);
                    Ok(facts(&Credential::from(updated)))
                }
                Err(e) => Err(refusal_reason(&e)),
            };
            (ours, theirs)
        }
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn unb64(value: &Value) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(value.as_str().unwrap()).unwrap()
    }

    /// Rewrites `response.<field>` (base64url) through `change`.
    fn rewrite(response: &mut Value, field: &str, change: impl FnOnce(&mut Vec<u8>)) {
        let mut bytes = unb64(&response["response"][field]);
        change(&mut bytes);
        response["response"][field] = Value::from(b64(&bytes));
    }

    pub(crate) fn rewrite_client_data(response: &mut Value, from: &str, to: &str) {
        rewrite(response, "clientDataJSON", |bytes| {
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(text.contains(from), "{text}");
            *bytes = text.replace(from, to).into_bytes();
        });
    }

    fn agree(rig: &Rig, passkey: &Passkey, key: &SoftPasskey, tamper: impl FnOnce(&mut Value)) -> Outcome {
        let (ours, theirs) = rig.both(passkey, key, tamper);
        assert_eq!(ours, theirs, "this module and webauthn-rs disagree");
        ours
    }

    #[test]
    fn a_genuine_assertion_verifies_and_raises_the_counter() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Ok((1, false, false)));
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Ok((2, false, false)));
    }

    #[test]
    fn only_the_rp_origin_is_accepted() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        for (origin, accepted) in [
            ("http://localhost:8080/some/path", true),
            ("http://LOCALHOST:8080", true),
            ("http://localhost:8081", false),
            ("https://localhost:8080", false),
            ("http://localhost", false),
            ("http://127.0.0.1:8080", false),
            ("http://evil.localhost:8080", false),
            ("http://localhost.evil:8080", false),
            ("localhost:8080", false),
        ] {
            key.behaviour.origin = Some(origin.to_owned());
            let outcome = agree(&rig, &passkey, &key, |_| {});
            assert_eq!(outcome.is_ok(), accepted, "{origin}: {outcome:?}");
            if !accepted {
                assert_eq!(outcome, Err("wrong_origin"), "{origin}");
            }
        }
        for origin in ["null", "", "http://"] {
            key.behaviour.origin = Some(origin.to_owned());
            assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("malformed"), "{origin}");
        }
    }

    #[test]
    fn the_rp_id_user_presence_and_verification_are_required() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        key.behaviour.rp_id = Some("example.com".into());
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("wrong_rp_id"));
        key.behaviour.rp_id = Some("evil.localhost".into());
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("wrong_rp_id"));
        key.behaviour.rp_id = None;
        key.behaviour.user_verified = false;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("user_not_verified"));
        key.behaviour.user_present = false;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("user_not_present"));
        key.behaviour.user_verified = true;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("user_not_present"));
    }

    #[test]
    fn backup_flags_follow_webauthn_rs_rules() {
        let rig = Rig::new();
        // Registered device-bound.
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        key.behaviour.backup_eligible = true;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("backup_eligibility_changed"));
        key.behaviour.backup_eligible = false;
        key.behaviour.backup_state = true;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("backed_up_without_eligibility"));

        // Registered synced (backup eligible, not yet backed up).
        let mut key = SoftPasskey::new();
        key.behaviour.backup_eligible = true;
        let passkey = rig.register(&mut key);
        key.behaviour.backup_state = true;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Ok((1, true, true)));
        key.behaviour.backup_state = false;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Ok((2, true, false)));
        key.behaviour.backup_eligible = false;
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Err("backup_eligibility_changed"));
    }

    #[test]
    fn counters_must_rise_unless_both_are_zero() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        key.behaviour.counter = CounterMode::Fixed(0);
        let passkey = rig.register(&mut key);
        // A passkey provider that keeps no counter: always zero.
        assert_eq!(agree(&rig, &passkey, &key, |_| {}), Ok((0, false, false)));

        let mut cred = Credential::from(passkey);
        cred.counter = 7;
        let passkey = Passkey::from(cred);
        for (mode, expected) in [
            (CounterMode::Fixed(0), Err("counter_regression")),
            (CounterMode::Fixed(6), Err("counter_regression")),
            (CounterMode::Fixed(7), Err("counter_regression")),
            (CounterMode::Fixed(8), Ok((8, false, false))),
            (CounterMode::Fixed(u32::MAX), Ok((u32::MAX, false, false))),
        ] {
            key.behaviour.counter = mode;
            assert_eq!(agree(&rig, &passkey, &key, |_| {}), expected, "{mode:?}");
        }
    }

    #[test]
    fn the_challenge_must_be_this_ceremonys() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        let (other, _) = rig.webauthn.start_discoverable_authentication().unwrap();
        let (options, state) = rig.webauthn.start_discoverable_authentication().unwrap();
        // Answered for another ceremony, returned to this one.
        let response = key.get(&serde_json::to_value(&other).unwrap(), ORIGIN);
        let response: PublicKeyCredential = serde_json::from_value(response).unwrap();
        let (ours, theirs) = rig.verdicts(&passkey, &response, &options.public_key.challenge, state);
        assert_eq!((ours, theirs), (Err("wrong_challenge"), Err("wrong_challenge")));
    }

    #[test]
    fn tampered_assertions_are_refused() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        let cases: Vec<(&str, Tamper, &str)> = vec![
            (
                "another ceremony type",
                Box::new(|r| rewrite_client_data(r, "webauthn.get", "webauthn.create")),
                "wrong_client_data_type",
            ),
            ("client data not JSON", Box::new(|r| rewrite(r, "clientDataJSON", |b| b.truncate(10))), "malformed"),
            ("client data changed", Box::new(|r| rewrite_client_data(r, "{", "{ ")), "bad_signature"),
            ("signature byte flipped", Box::new(|r| rewrite(r, "signature", |b| flip_last(b))), "bad_signature"),
            ("signature cut short", Box::new(|r| rewrite(r, "signature", |b| b.truncate(12))), "bad_signature"),
            ("signature empty", Box::new(|r| rewrite(r, "signature", Vec::clear)), "bad_signature"),
            ("counter changed", Box::new(|r| rewrite(r, "authenticatorData", |b| b[36] ^= 0x40)), "bad_signature"),
            ("bytes appended", Box::new(|r| rewrite(r, "authenticatorData", |b| b.push(0))), "bad_signature"),
            (
                "authenticator data cut short",
                Box::new(|r| rewrite(r, "authenticatorData", |b| b.truncate(36))),
                "malformed",
            ),
        ];
        for (what, tamper, reason) in cases {
            assert_eq!(agree(&rig, &passkey, &key, tamper), Err(reason), "{what}");
        }
    }

    #[test]
    fn unsigned_extension_flags_are_refused_either_way() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        // AT or ED raised without the data they announce: webauthn-rs fails to parse what
        // follows the head; this module does not parse it, and the signature fails.
        for flag in [0x40, 0x80] {
            let (ours, theirs) = rig.both(&passkey, &key, |r| rewrite(r, "authenticatorData", |b| b[32] |= flag));
            assert_eq!((ours, theirs), (Err("bad_signature"), Err("malformed")), "{flag:#x}");
        }
    }

    #[test]
    fn a_cross_origin_assertion_is_refused_here_before_its_signature() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        let (ours, theirs) =
            rig.both(&passkey, &key, |r| rewrite_client_data(r, "\"crossOrigin\":false", "\"crossOrigin\":true"));
        // webauthn-rs ignores crossOrigin and refuses only for the (rewritten) signature.
        assert_eq!((ours, theirs), (Err("cross_origin"), Err("bad_signature")));
    }

    #[test]
    fn keys_other_than_es256_are_left_to_webauthn_rs() {
        let rig = Rig::new();
        let mut key = SoftPasskey::new();
        let passkey = rig.register(&mut key);
        let (options, _) = rig.webauthn.start_discoverable_authentication().unwrap();
        let response: PublicKeyCredential =
            serde_json::from_value(key.get(&serde_json::to_value(&options).unwrap(), ORIGIN)).unwrap();
        let mut cred = Credential::from(passkey);
        assert!(verify(&rig.rp, &options.public_key.challenge, &response, &cred).is_some());
        cred.cred.type_ = COSEAlgorithm::ES384;
        assert!(verify(&rig.rp, &options.public_key.challenge, &response, &cred).is_none());
        cred.cred.type_ = COSEAlgorithm::ES256;
        if let COSEKeyType::EC_EC2(key) = &mut cred.cred.key {
            key.curve = ECDSACurve::SECP384R1;
        }
        assert!(verify(&rig.rp, &options.public_key.challenge, &response, &cred).is_none());
    }

    fn flip_last(bytes: &mut [u8]) {
        if let Some(last) = bytes.last_mut() {
            *last ^= 0x01;
        }
    }
}
