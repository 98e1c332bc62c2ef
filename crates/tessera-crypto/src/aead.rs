//! The master key and AES-256-GCM encryption of data at rest.
//!
//! One 32-byte master key (from a key file or a secret store) is never used
//! directly: each [`Purpose`] gets its own AES-256-GCM subkey derived with
//! HKDF-SHA256, so a ciphertext made for one purpose cannot be opened as another.
//!
//! Sealed format, version 1: `0x01 || nonce (12 bytes, random) || ciphertext || tag (16 bytes)`.
//! Random 96-bit nonces are safe for about 2^32 seals per subkey (NIST SP 800-38D);
//! Tessera seals signing keys and personal-data fields, far below that. Rotate the
//! master key (re-encrypting) long before it.

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::CryptoError;
use crate::b64;
use crate::wipe::wipe;

/// Length of the master key in bytes.
pub const MASTER_KEY_BYTES: usize = 32;

/// The version byte that starts every value sealed by this build.
const VERSION_1: u8 = 1;
const TAG_LEN: usize = 16;
/// HKDF salt: fixed and public, it separates Tessera's derivations from any
/// other use of the same key material.
const HKDF_SALT: &[u8] = b"tessera-crypto/master-key/v1";

/// The root secret for data at rest. `Debug` prints `MasterKey(..)`, never the bytes.
/// The bytes are overwritten (best effort) when the key is dropped.
pub struct MasterKey([u8; MASTER_KEY_BYTES]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl MasterKey {
    /// Wraps 32 bytes of key material (which must come from a CSPRNG).
    #[must_use]
    pub fn from_bytes(bytes: [u8; MASTER_KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// Reads a key written by [`MasterKey::to_base64url`]: 43 characters of
    /// base64url without padding. Surrounding whitespace (a trailing newline in a
    /// key file) is ignored.
    ///
    /// # Errors
    /// [`CryptoError::InvalidMasterKey`] saying whether the encoding or the length
    /// is wrong; the input itself is never echoed.
    pub fn from_base64url(text: &str) -> Result<Self, CryptoError> {
        let mut bytes =
            b64::decode(text.trim()).ok_or(CryptoError::InvalidMasterKey("not base64url without padding"))?;
        let key = <[u8; MASTER_KEY_BYTES]>::try_from(bytes.as_slice())
            .map_err(|_| CryptoError::InvalidMasterKey("must decode to exactly 32 bytes"));
        wipe(&mut bytes);
        key.map(Self)
    }

    /// Generates a new random master key.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the operating system cannot provide randomness.
    pub fn generate() -> Result<Self, CryptoError> {
        crate::tokens::random_bytes().map(Self)
    }

    /// The key as base64url without padding (43 characters), for writing the key
    /// file. The result is the secret: handle it accordingly.
    #[must_use]
    pub fn to_base64url(&self) -> String {
        b64::encode(self.0)
    }

    /// The cipher for one purpose, keyed with
    /// `HKDF-SHA256(salt = "tessera-crypto/master-key/v1", ikm = master, info = purpose label)`.
    ///
    /// # Errors
    /// [`CryptoError::KeyDerivation`] if ring refuses the derivation, which it
    /// does only for output lengths far beyond the 32 bytes asked for here.
    pub fn cipher(&self, purpose: Purpose) -> Result<Cipher, CryptoError> {
        let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(&self.0);
        let info = [purpose.label().as_bytes()];
        let okm = prk.expand(&info, &AES_256_GCM).map_err(|_| CryptoError::KeyDerivation)?;
        Ok(Cipher { purpose, key: LessSafeKey::new(UnboundKey::from(okm)), rng: SystemRandom::new() })
    }

    /// The HMAC-SHA256 key for one purpose, keyed with
    /// `HKDF-SHA256(salt = "tessera-crypto/master-key/v1", ikm = master, info = purpose label || "/hmac-sha256")`.
    ///
    /// The info differs from [`MasterKey::cipher`]'s, so a purpose's MAC key is never its AEAD key.
    ///
    /// # Errors
    /// [`CryptoError::KeyDerivation`] if ring refuses the derivation (it does not for 32 bytes).
    pub fn mac_key(&self, purpose: Purpose) -> Result<crate::mac::MacKey, CryptoError> {
        let prk = Salt::new(HKDF_SHA256, HKDF_SALT).extract(&self.0);
        let info = [purpose.label().as_bytes(), crate::mac::MAC_INFO_SUFFIX];
        let okm = prk.expand(&info, ring::hmac::HMAC_SHA256).map_err(|_| CryptoError::KeyDerivation)?;
        Ok(crate::mac::MacKey::new(purpose, ring::hmac::Key::from(okm)))
    }
}

/// What a subkey is for. Each purpose has its own key, so ciphertexts do not
/// transfer between purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// PKCS#8 private keys of the token-signing keys.
    SigningKey,
    /// Personal-data fields stored in SQL (for example the HKID).
    PersonalData,
    /// Pairwise subject identifiers (OIDC Core §8.1): an HMAC key, see [`MasterKey::mac_key`].
    PairwiseSubject,
}

impl Purpose {
    /// The HKDF info label. Changing a label makes every existing ciphertext of
    /// that purpose unreadable: never change one, add a new purpose instead.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::SigningKey => "tessera/v1/signing-key",
            Self::PersonalData => "tessera/v1/personal-data",
            Self::PairwiseSubject => "tessera/v1/pairwise-subject",
        }
    }
}

/// AES-256-GCM with a per-purpose subkey. `Debug` shows the purpose only.
#[derive(Clone)]
pub struct Cipher {
    purpose: Purpose,
    key: LessSafeKey,
    rng: SystemRandom,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher").field("purpose", &self.purpose).finish_non_exhaustive()
    }
}

impl Cipher {
    /// The purpose this cipher's key was derived for.
    #[must_use]
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// Encrypts and authenticates `plaintext`, binding it to `aad`.
    ///
    /// `aad` (associated data) is authenticated but not encrypted or stored: the
    /// same bytes must be given to [`Cipher::open`]. Bind each ciphertext to its
    /// row by passing the row's identity (for example the citizen id, or the
    /// signing key's kid): a ciphertext copied into another row then fails to
    /// open, so values cannot be swapped between rows.
    ///
    /// Returns `version (1) || random 96-bit nonce || ciphertext || 128-bit tag`.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if no nonce can be drawn; [`CryptoError::Encrypt`] if
    /// ring refuses (the plaintext exceeds GCM's 64 GiB limit).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| CryptoError::Rng)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION_1);
        out.extend_from_slice(&nonce);
        let mut in_out = plaintext.to_vec();
        let sealed =
            self.key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut in_out);
        if sealed.is_err() {
            wipe(&mut in_out);
            return Err(CryptoError::Encrypt);
        }
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypts a value made by [`Cipher::seal`] with the same purpose key and
    /// the same `aad`.
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedCiphertextVersion`] for an unknown first byte;
    /// [`CryptoError::Decrypt`] for everything else: truncation, any changed byte,
    /// another key or purpose, other associated data (indistinguishable on purpose).
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (&version, rest) = sealed.split_first().ok_or(CryptoError::Decrypt)?;
        if version != VERSION_1 {
            return Err(CryptoError::UnsupportedCiphertextVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
        let mut in_out = ciphertext.to_vec();
        let plaintext_len =
            self.key.open_in_place(nonce, Aad::from(aad), &mut in_out).map_err(|_| CryptoError::Decrypt)?.len();
        in_out.truncate(plaintext_len);
        Ok(in_out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn key() -> MasterKey {
        MasterKey::generate().unwrap()
    }

    #[test]
    fn roundtrip() {
        let cipher = key().cipher(Purpose::PersonalData).unwrap();
        for plaintext in [&b""[..], b"A123456(7)", &[0u8; 5000]] {
            let sealed = cipher.seal(plaintext, b"citizen:42").unwrap();
            assert_eq!(sealed.len(), 1 + NONCE_LEN + plaintext.len() + TAG_LEN);
            assert_eq!(sealed[0], 1);
            assert_eq!(cipher.open(&sealed, b"citizen:42").unwrap(), plaintext);
        }
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let cipher = key().cipher(Purpose::PersonalData).unwrap();
        let a = cipher.seal(b"same", b"").unwrap();
        let b = cipher.seal(b"same", b"").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn tampering_with_any_byte_fails() {
        let cipher = key().cipher(Purpose::SigningKey).unwrap();
        let sealed = cipher.seal(b"private key bytes", b"kid-1").unwrap();
        // Byte 0 is the version; 1..13 the nonce; then ciphertext; the last 16 the tag.
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let result = cipher.open(&bad, b"kid-1");
            if i == 0 {
                assert!(matches!(result, Err(CryptoError::UnsupportedCiphertextVersion(0))));
            } else {
                assert!(matches!(result, Err(CryptoError::Decrypt)), "byte {i}");
            }
        }
    }

    #[test]
    fn truncated_or_extended_fails() {
        let cipher = key().cipher(Purpose::SigningKey).unwrap();
        let sealed = cipher.seal(b"secret", b"").unwrap();
        for len in 0..sealed.len() {
            assert!(cipher.open(&sealed[..len], b"").is_err(), "length {len}");
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(matches!(cipher.open(&longer, b""), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn unknown_version_is_refused() {
        let cipher = key().cipher(Purpose::SigningKey).unwrap();
        let mut sealed = cipher.seal(b"secret", b"").unwrap();
        sealed[0] = 2;
        assert!(matches!(cipher.open(&sealed, b""), Err(CryptoError::UnsupportedCiphertextVersion(2))));
    }

    #[test]
    fn wrong_aad_fails() {
        let cipher = key().cipher(Purpose::PersonalData).unwrap();
        let sealed = cipher.seal(b"A123456(7)", b"citizen:1").unwrap();
        assert!(matches!(cipher.open(&sealed, b"citizen:2"), Err(CryptoError::Decrypt)));
        assert!(matches!(cipher.open(&sealed, b""), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = key().cipher(Purpose::PersonalData).unwrap().seal(b"x", b"").unwrap();
        assert!(matches!(key().cipher(Purpose::PersonalData).unwrap().open(&sealed, b""), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn purposes_have_different_subkeys() {
        let master = key();
        let signing = master.cipher(Purpose::SigningKey).unwrap();
        let personal = master.cipher(Purpose::PersonalData).unwrap();
        let sealed = signing.seal(b"x", b"").unwrap();
        assert!(matches!(personal.open(&sealed, b""), Err(CryptoError::Decrypt)));
        assert_eq!(signing.open(&sealed, b"").unwrap(), b"x");
        assert_ne!(Purpose::SigningKey.label(), Purpose::PersonalData.label());
    }

    #[test]
    fn same_master_key_derives_same_subkey() {
        let bytes = [7u8; 32];
        let sealed =
            MasterKey::from_bytes(bytes).cipher(Purpose::SigningKey).unwrap().seal(b"persisted", b"row").unwrap();
        let reloaded = MasterKey::from_bytes(bytes).cipher(Purpose::SigningKey).unwrap();
        assert_eq!(reloaded.open(&sealed, b"row").unwrap(), b"persisted");
    }

    #[test]
    fn base64url_roundtrip_and_errors() {
        let master = key();
        let text = master.to_base64url();
        assert_eq!(text.len(), 43);
        let again = MasterKey::from_base64url(&format!("{text}\n")).unwrap();
        assert_eq!(again.0, master.0);

        let short = b64::encode([1u8; 31]);
        let long = b64::encode([1u8; 33]);
        for bad in [&short[..], &long[..], ""] {
            assert!(matches!(
                MasterKey::from_base64url(bad),
                Err(CryptoError::InvalidMasterKey("must decode to exactly 32 bytes"))
            ));
        }
        let padded = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, [1u8; 32]);
        let standard = base64::Engine::encode(&base64::engine::general_purpose::STANDARD_NO_PAD, [0xffu8; 32]);
        for bad in [&padded[..], &standard[..], "not base64!"] {
            assert!(matches!(
                MasterKey::from_base64url(bad),
                Err(CryptoError::InvalidMasterKey("not base64url without padding"))
            ));
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let master = MasterKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{master:?}"), "MasterKey(..)");
        let cipher = master.cipher(Purpose::PersonalData).unwrap();
        let shown = format!("{cipher:?}");
        assert!(shown.contains("PersonalData"));
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
    }
}
