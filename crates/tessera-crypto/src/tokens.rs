//! Random bytes and tokens, token digests, constant-time comparison.

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::CryptoError;
use crate::b64;

/// Length in bytes of the entropy in a [`random_token`] (256 bits).
pub const TOKEN_BYTES: usize = 32;

/// Length in characters of a [`random_token`]: 32 bytes as base64url without padding.
pub const TOKEN_CHARS: usize = 43;

/// Returns `N` bytes from the operating system's CSPRNG (ring's `SystemRandom`).
///
/// # Errors
/// [`CryptoError::Rng`] if the operating system cannot provide randomness.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).map_err(|_| CryptoError::Rng)?;
    Ok(bytes)
}

/// Returns a fresh 256-bit random token as 43 characters of base64url without
/// padding (`A-Z a-z 0-9 - _`): safe in URLs, cookies and form fields unescaped.
///
/// Use it for client secrets, refresh tokens, authorization codes, session ids
/// and CSRF tokens. Store only its [`token_digest`].
///
/// # Errors
/// [`CryptoError::Rng`] if the operating system cannot provide randomness.
pub fn random_token() -> Result<String, CryptoError> {
    Ok(b64::encode(random_bytes::<TOKEN_BYTES>()?))
}

/// SHA-256 of the token's UTF-8 bytes: what Tessera stores instead of a secret or
/// token. Tokens have 256 bits of entropy, so an unsalted fast hash is enough: a
/// leaked digest cannot be turned back into a usable token.
///
/// Compare a presented token's digest with a stored one using [`constant_time_eq`],
/// or look it up by digest in the database.
#[must_use]
pub fn token_digest(token: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
}

/// SHA-256 of arbitrary bytes (for fingerprints in audit events, never for secrets:
/// those go through [`token_digest`]).
#[must_use]
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

/// Compares two byte slices in time that depends only on their lengths, never on
/// their contents or on where they first differ.
///
/// Slices of different lengths compare unequal immediately: length is treated as
/// public. Compare fixed-length values (such as two [`token_digest`]s) so that
/// nothing secret is revealed by that early return.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashSet;

    use super::*;

    #[test]
    fn token_is_43_base64url_chars() {
        for _ in 0..100 {
            let token = random_token().unwrap();
            assert_eq!(token.len(), TOKEN_CHARS);
            assert!(
                token.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
                "unexpected character in {token}"
            );
            assert_eq!(b64::decode(&token).unwrap().len(), TOKEN_BYTES);
        }
    }

    #[test]
    fn tokens_are_unique() {
        let tokens: HashSet<String> = (0..1000).map(|_| random_token().unwrap()).collect();
        assert_eq!(tokens.len(), 1000);
    }

    #[test]
    fn random_bytes_have_requested_length_and_differ() {
        let a = random_bytes::<16>().unwrap();
        let b = random_bytes::<16>().unwrap();
        assert_ne!(a, b);
        assert_eq!(random_bytes::<0>().unwrap().len(), 0);
        assert_eq!(random_bytes::<64>().unwrap().len(), 64);
    }

    #[test]
    fn digest_matches_sha256_known_vector() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        let expected = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03,
            0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        ];
        assert_eq!(token_digest("abc"), expected);
        assert_ne!(token_digest("abd"), expected);
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"same bytes", b"same bytes"));
        assert!(!constant_time_eq(b"same bytes", b"same bytez"));
        assert!(!constant_time_eq(b"Xame bytes", b"same bytes"));
        assert!(!constant_time_eq(b"short", b"shorter"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(!constant_time_eq(&[0u8; 32], &[0u8; 31]));
        let d = token_digest("t");
        assert!(constant_time_eq(&d, &token_digest("t")));
        assert!(!constant_time_eq(&d, &token_digest("u")));
    }
}
