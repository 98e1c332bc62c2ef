//! HMAC-SHA256 keys derived from the master key, for values that must be stable
//! across restarts and nodes but unguessable without the key (pairwise subject
//! identifiers, OIDC Core §8.1).

use std::fmt;

use ring::hmac;

use crate::Purpose;

/// Appended to the purpose label in the HKDF info of a MAC key, so a purpose's MAC key
/// and its AEAD key (info = the label alone) are different keys.
pub(crate) const MAC_INFO_SUFFIX: &[u8] = b"/hmac-sha256";

/// An HMAC-SHA256 key for one [`Purpose`], made by [`crate::MasterKey::mac_key`].
/// `Debug` shows the purpose only, never key material.
#[derive(Clone)]
pub struct MacKey {
    purpose: Purpose,
    key: hmac::Key,
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacKey").field("purpose", &self.purpose).finish_non_exhaustive()
    }
}

impl MacKey {
    pub(crate) fn new(purpose: Purpose, key: hmac::Key) -> Self {
        Self { purpose, key }
    }

    /// The purpose this key was derived for.
    #[must_use]
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// HMAC-SHA256 (RFC 2104) of `data` under this key.
    #[must_use]
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.key, data).as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::MasterKey;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Computed independently (Python `hmac`/`hashlib`): HKDF-SHA256 with salt
    /// `tessera-crypto/master-key/v1`, ikm 32 × 0x07, info
    /// `tessera/v1/pairwise-subject/hmac-sha256`, 32 bytes; then HMAC-SHA256 of `abc`.
    #[test]
    fn known_answer() {
        let key = MasterKey::from_bytes([7; 32]).mac_key(Purpose::PairwiseSubject).unwrap();
        assert_eq!(hex(&key.sign(b"abc")), "36746fb51434597d59b6396842ba5a887268f5acf0d43efc2b73c99fd977fb4f");
    }

    #[test]
    fn stable_per_master_key_and_purpose() {
        let a = MasterKey::from_bytes([1; 32]).mac_key(Purpose::PairwiseSubject).unwrap();
        let again = MasterKey::from_bytes([1; 32]).mac_key(Purpose::PairwiseSubject).unwrap();
        let other_master = MasterKey::from_bytes([2; 32]).mac_key(Purpose::PairwiseSubject).unwrap();
        let other_purpose = MasterKey::from_bytes([1; 32]).mac_key(Purpose::PersonalData).unwrap();
        assert_eq!(a.sign(b"x"), again.sign(b"x"));
        assert_ne!(a.sign(b"x"), a.sign(b"y"));
        assert_ne!(a.sign(b"x"), other_master.sign(b"x"));
        assert_ne!(a.sign(b"x"), other_purpose.sign(b"x"));
        assert_eq!(a.purpose(), Purpose::PairwiseSubject);
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = MasterKey::from_bytes([0xab; 32]).mac_key(Purpose::PairwiseSubject).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "MacKey { purpose: PairwiseSubject, .. }");
    }

    #[test]
    fn is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<MacKey>();
    }
}
