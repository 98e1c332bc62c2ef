//! Parsed values that describe a person: username, email, phone, birthdate, gender.
//!
//! `Email`, `Phone` and `Birthdate` are personal data: their `Debug` output is redacted so a
//! stray `?value` in a log line leaks nothing. Use `as_str`/`Display` where the value is meant.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;
use crate::macros::string_enum;

/// A sign-in name: trimmed, lower-cased, 3 to 64 characters of `[a-z0-9._-]`, starting with a
/// letter or a digit. Two usernames that differ only in case are the same username.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Parses and normalises (trim, ASCII lower-case) a username.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "username";
        let s = s.trim().to_ascii_lowercase();
        if !(3..=64).contains(&s.len()) {
            return Err(DomainError::invalid(WHAT, "must be 3 to 64 characters"));
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
            return Err(DomainError::invalid(WHAT, "may contain only a-z, 0-9, '.', '_' and '-'"));
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(DomainError::invalid(WHAT, "must start with a letter or a digit"));
        }
        Ok(Self(s))
    }

    /// The normalised username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, minimally checked: one `@`, a non-empty local part of at most 64
/// characters, a domain of non-empty dot-separated labels, no whitespace or control characters,
/// at most 254 characters in all. Surrounding whitespace is trimmed and the domain lower-cased;
/// the local part keeps its case. Whether the address works is for email verification to find.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an email address.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "email address";
        let s = s.trim();
        if s.is_empty() || s.len() > 254 {
            return Err(DomainError::invalid(WHAT, "must be 1 to 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::invalid(WHAT, "must not contain whitespace"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(DomainError::invalid(WHAT, "must contain '@'"));
        };
        if domain.contains('@') {
            return Err(DomainError::invalid(WHAT, "must contain exactly one '@'"));
        }
        if local.is_empty() || local.len() > 64 {
            return Err(DomainError::invalid(WHAT, "the part before '@' must be 1 to 64 characters"));
        }
        if domain.is_empty() || domain.split('.').any(str::is_empty) {
            return Err(DomainError::invalid(WHAT, "the domain must be non-empty labels separated by dots"));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in international form: `+` then 8 to 15 digits, nothing else
/// (surrounding whitespace is trimmed).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number such as `+85291234567`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "phone number";
        let s = s.trim();
        let Some(digits) = s.strip_prefix('+') else {
            return Err(DomainError::invalid(WHAT, "must start with '+' and the country code"));
        };
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::invalid(WHAT, "may contain only digits after '+'"));
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(DomainError::invalid(WHAT, "must have 8 to 15 digits"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The number, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date of birth, `YYYY-MM-DD` (the OIDC `birthdate` form), with a four-digit year
/// from 1000 and a day that exists in that month (leap years included).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Birthdate {
    year: u16,
    month: u8,
    day: u8,
}

impl Birthdate {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "birthdate";
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape_ok {
            return Err(DomainError::invalid(WHAT, "must be YYYY-MM-DD"));
        }
        let num = |range: std::ops::Range<usize>| b[range].iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        let two = |range| u8::try_from(num(range)).unwrap_or(0);
        Self::from_parts(num(0..4), two(5..7), two(8..10))
    }

    /// A date from its parts, checked like [`Birthdate::parse`].
    pub fn from_parts(year: u16, month: u8, day: u8) -> Result<Self, DomainError> {
        const WHAT: &str = "birthdate";
        if !(1000..=9999).contains(&year) {
            return Err(DomainError::invalid(WHAT, "year must have four digits"));
        }
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return Err(DomainError::invalid(WHAT, "month must be 01 to 12")),
        };
        if day == 0 || day > days_in_month {
            return Err(DomainError::invalid(WHAT, "day does not exist in that month"));
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub const fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for Birthdate {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Birthdate {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Birthdate {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Birthdate> for String {
    fn from(d: Birthdate) -> String {
        d.to_string()
    }
}

macro_rules! text_value_impls {
    ($name:ident) => {
        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value_impls!(Username);
text_value_impls!(Email);
text_value_impls!(Phone);

macro_rules! redacted_debug {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    )*};
}

redacted_debug!(Email, Phone, Birthdate);

string_enum! {
    /// Gender as the citizen chose to state it (OIDC `gender`). Defaults to `Undisclosed`.
    #[derive(Default)]
    pub enum Gender ("gender") {
        Female => "female",
        Male => "male",
        Other => "other",
        /// The citizen did not say; no `gender` claim is released.
        #[default]
        Undisclosed => "undisclosed",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn username_is_trimmed_and_lower_cased() {
        assert_eq!(Username::parse("  Alice.Chan ").unwrap().as_str(), "alice.chan");
        for good in ["abc", "a_b", "0day", "chan-tai-man", "x.y.z", &"a".repeat(64)] {
            assert!(Username::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn username_rejects_bad_input() {
        let cases = [
            ("", "must be 3 to 64 characters"),
            ("ab", "must be 3 to 64 characters"),
            (&"a".repeat(65), "must be 3 to 64 characters"),
            ("has space", "may contain only a-z, 0-9, '.', '_' and '-'"),
            ("tai@man", "may contain only a-z, 0-9, '.', '_' and '-'"),
            ("陳大文", "may contain only a-z, 0-9, '.', '_' and '-'"),
            ("\u{212A}elvin", "may contain only a-z, 0-9, '.', '_' and '-'"),
            (".dot", "must start with a letter or a digit"),
            ("-dash", "must start with a letter or a digit"),
            ("_under", "must start with a letter or a digit"),
        ];
        for (input, reason) in cases {
            let err = Username::parse(input).unwrap_err();
            assert_eq!((err.what, err.reason), ("username", reason), "{input:?}");
        }
    }

    #[test]
    fn email_lower_cases_the_domain_only() {
        let e = Email::parse(" Tai.Man@Example.GOV.hk ").unwrap();
        assert_eq!(e.as_str(), "Tai.Man@example.gov.hk");
        assert!(Email::parse("a@b").is_ok());
        assert!(Email::parse(&format!("{}@{}", "l".repeat(64), "d".repeat(189))).is_ok());
    }

    #[test]
    fn email_rejects_bad_input() {
        let long = format!("{}@{}", "l".repeat(64), "d".repeat(190));
        let long_local = format!("{}@example.com", "l".repeat(65));
        for bad in [
            "",
            "plain",
            "@example.com",
            "user@",
            "a@@b",
            "a@b@c",
            "a b@c.d",
            "a@b c.d",
            "a@b\tc",
            "a\u{0}@b",
            "a@.com",
            "a@com.",
            "a@b..c",
            &long,
            &long_local,
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.what, "email address", "{bad:?}");
        }
    }

    #[test]
    fn email_debug_is_redacted() {
        let e = Email::parse("secret@example.com").unwrap();
        assert_eq!(format!("{e:?}"), "Email(<redacted>)");
        assert_eq!(e.to_string(), "secret@example.com");
    }

    #[test]
    fn phone_accepts_international_form() {
        assert_eq!(Phone::parse(" +85291234567 ").unwrap().as_str(), "+85291234567");
        assert!(Phone::parse("+12345678").is_ok());
        assert!(Phone::parse(&format!("+{}", "1".repeat(15))).is_ok());
    }

    #[test]
    fn phone_rejects_bad_input() {
        for bad in [
            "",
            "85291234567",
            "+",
            "+1234567",
            &format!("+{}", "1".repeat(16)),
            "+852 9123 4567",
            "+852-91234567",
            "+８５２91234567",
            "++85291234567",
        ] {
            let err = Phone::parse(bad).unwrap_err();
            assert_eq!(err.what, "phone number", "{bad:?}");
        }
        assert_eq!(format!("{:?}", Phone::parse("+85291234567").unwrap()), "Phone(<redacted>)");
    }

    #[test]
    fn birthdate_accepts_real_dates() {
        let d = Birthdate::parse("1990-02-28").unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (1990, 2, 28));
        assert_eq!(d.to_string(), "1990-02-28");
        assert!(Birthdate::parse("2000-02-29").is_ok()); // divisible by 400
        assert!(Birthdate::parse("2024-02-29").is_ok());
        assert!(Birthdate::parse("1999-12-31").is_ok());
        assert!(Birthdate::parse("1990-01-01").unwrap() < Birthdate::parse("1990-01-02").unwrap());
    }

    #[test]
    fn birthdate_rejects_bad_input() {
        for bad in [
            "",
            "1990-1-01",
            "1990/01/01",
            "19900101",
            "1990-01-01 ",
            "abcd-ef-gh",
            "0999-01-01",
            "1990-00-10",
            "1990-13-01",
            "1990-01-00",
            "1990-01-32",
            "1990-04-31",
            "1900-02-29",
            "2023-02-29",
            "+990-01-01",
        ] {
            let err = Birthdate::parse(bad).unwrap_err();
            assert_eq!(err.what, "birthdate", "{bad:?}");
        }
        assert_eq!(format!("{:?}", Birthdate::parse("1990-01-01").unwrap()), "Birthdate(<redacted>)");
    }

    #[test]
    fn gender_round_trips() {
        for g in Gender::ALL {
            assert_eq!(g.as_str().parse::<Gender>().unwrap(), *g);
        }
        assert!("Female".parse::<Gender>().is_err());
        assert!("".parse::<Gender>().is_err());
        assert_eq!(Gender::default(), Gender::Undisclosed);
    }

    #[test]
    fn values_deserialize_through_their_parsers() {
        let u: Username = serde_json::from_str("\"Alice\"").unwrap();
        assert_eq!(u.as_str(), "alice");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        let d: Birthdate = serde_json::from_str("\"1990-05-06\"").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"1990-05-06\"");
        assert_eq!(serde_json::to_string(&Gender::Female).unwrap(), "\"female\"");
    }
}
