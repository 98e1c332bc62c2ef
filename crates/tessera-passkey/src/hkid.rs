//! The Hong Kong identity card number (HKID): parsing, the check digit, and sealing at rest.
//!
//! An HKID is one or two capital letters, six digits and a check digit (`0`-`9` or `A`),
//! usually written with the check digit in brackets: `A123456(3)`. It identifies a person,
//! so it is personal data: `Debug` never prints it, there is no `Display`, and it is stored
//! only sealed with the [`Purpose::PersonalData`](tessera_crypto::Purpose::PersonalData)
//! cipher, bound to the citizen's id.

use std::fmt;

use tessera_crypto::{Cipher, CryptoError};
use tessera_domain::{CitizenId, DomainError};

const WHAT: &str = "HKID";
/// The reason given when the shape is wrong (see [`Hkid::parse`]).
pub const HKID_SHAPE_REASON: &str = "must be one or two letters, six digits and a check digit (0-9 or A)";
/// The reason given when the shape is right but the check digit does not match.
pub const HKID_CHECK_DIGIT_REASON: &str = "the check digit does not match";
/// Longer input than this is refused before any other work.
const MAX_INPUT_CHARS: usize = 32;

/// A Hong Kong identity card number with a valid check digit, in the normal form
/// `A123456(3)` or `AB123456(7)`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Hkid(String);

impl Hkid {
    /// Parses an HKID as a person types it: letters in either case, the check digit with
    /// or without brackets, spaces around the number or between its parts (`A123456(3)`,
    /// `a1234563`, ` A 123456 (3) `). The check digit is verified with the standard
    /// mod-11 algorithm.
    ///
    /// # Errors
    /// A [`DomainError`] with what `"HKID"` and reason [`HKID_SHAPE_REASON`] or
    /// [`HKID_CHECK_DIGIT_REASON`]; the value itself is never repeated.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let shape = || DomainError::invalid(WHAT, HKID_SHAPE_REASON);
        if s.chars().count() > MAX_INPUT_CHARS || !s.is_ascii() {
            return Err(shape());
        }
        let compact: Vec<u8> = s.bytes().filter(|&b| b != b' ').map(|b| b.to_ascii_uppercase()).collect();
        // The brackets around the check digit are both present or both absent.
        let body: Vec<u8> = match compact.as_slice() {
            [head @ .., b'(', check, b')'] => head.iter().chain([check]).copied().collect(),
            other => other.to_vec(),
        };
        let letters = body.iter().take_while(|c| c.is_ascii_uppercase()).count();
        if !(1..=2).contains(&letters) || body.len() != letters + 7 {
            return Err(shape());
        }
        let (prefix, rest) = body.split_at(letters);
        let (digits, check) = rest.split_at(6);
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(shape());
        }
        let &[check] = check else { return Err(shape()) };
        if !(check.is_ascii_digit() || check == b'A') {
            return Err(shape());
        }
        if check_digit(prefix, digits) != check {
            return Err(DomainError::invalid(WHAT, HKID_CHECK_DIGIT_REASON));
        }
        let mut normal = String::with_capacity(letters + 9);
        normal.extend(prefix.iter().chain(digits).map(|&b| char::from(b)));
        normal.push('(');
        normal.push(char::from(check));
        normal.push(')');
        Ok(Self(normal))
    }

    /// The normal form, `A123456(3)`. This is the number itself: show it only to its owner.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its last three digits and the check digit hidden, `A123***(*)`,
    /// for showing that an HKID is on file.
    pub fn masked(&self) -> String {
        let letters = self.0.bytes().take_while(u8::is_ascii_uppercase).count();
        let shown = &self.0[..letters + 3];
        format!("{shown}***(*)")
    }

    /// Seals the number for storage in `Profile::hkid_sealed`, bound to `citizen_id` so the
    /// ciphertext cannot be moved to another citizen's row. `cipher` must be the
    /// [`Purpose::PersonalData`](tessera_crypto::Purpose::PersonalData) cipher.
    ///
    /// # Errors
    /// As [`Cipher::seal`].
    pub fn seal(&self, cipher: &Cipher, citizen_id: CitizenId) -> Result<Vec<u8>, CryptoError> {
        cipher.seal(self.0.as_bytes(), citizen_id.to_string().as_bytes())
    }

    /// Opens a value made by [`Hkid::seal`] for the same citizen.
    ///
    /// # Errors
    /// [`OpenHkidError::Crypto`] if it does not decrypt (wrong key, wrong citizen, tampered);
    /// [`OpenHkidError::NotAnHkid`] if it decrypts to something that is not an HKID.
    pub fn open(cipher: &Cipher, citizen_id: CitizenId, sealed: &[u8]) -> Result<Self, OpenHkidError> {
        let plain = cipher.open(sealed, citizen_id.to_string().as_bytes())?;
        let text = std::str::from_utf8(&plain).map_err(|_| OpenHkidError::NotAnHkid)?;
        Self::parse(text).map_err(|_| OpenHkidError::NotAnHkid)
    }
}

impl fmt::Debug for Hkid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hkid(<redacted>)")
    }
}

/// Why a sealed HKID could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum OpenHkidError {
    #[error("the sealed HKID cannot be opened: {0}")]
    Crypto(#[from] CryptoError),
    #[error("the sealed value is not an HKID")]
    NotAnHkid,
}

/// The check digit of `prefix` (one or two capital letters) and `digits` (six ASCII digits):
/// letters count A=10 .. Z=35, a one-letter prefix is preceded by a space worth 36, the nine
/// positions are weighted 9 down to 2, and the check digit is `11 - sum mod 11` with 10
/// written `A` and 11 written `0`.
fn check_digit(prefix: &[u8], digits: &[u8]) -> u8 {
    let letter = |c: u8| u32::from(c - b'A') + 10;
    let mut values: Vec<u32> = Vec::with_capacity(8);
    if prefix.len() == 1 {
        values.push(36);
    }
    values.extend(prefix.iter().map(|&c| letter(c)));
    values.extend(digits.iter().map(|&d| u32::from(d - b'0')));
    let sum: u32 = values.iter().zip((2..=9).rev()).map(|(v, w)| v * w).sum();
    match 11 - sum % 11 {
        10 => b'A',
        11 => b'0',
        // 1..=9 fits in a digit.
        n => b'0' + u8::try_from(n).unwrap_or(0),
    }
}
