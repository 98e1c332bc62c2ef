//! Audit events: who did what, when, from where, and whether it worked.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::macros::string_enum;
use crate::{DomainError, UnixTime};

/// What happened, as a dotted lower-case name (`citizen.created`, `key.rotated`): 1 to 64
/// characters of `[a-z0-9_.]`, starting with a letter, no empty segments.
///
/// The well-known kinds are associated constants; other crates may [`AuditKind::parse`] their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditKind(Cow<'static, str>);

macro_rules! known_kinds {
    ($($(#[$m:meta])* $name:ident => $text:literal),+ $(,)?) => {
        impl AuditKind {
            $( $(#[$m])* pub const $name: AuditKind = AuditKind(Cow::Borrowed($text)); )+

            /// Every well-known kind.
            pub const KNOWN: &'static [AuditKind] = &[$(AuditKind::$name),+];
        }
    };
}

known_kinds! {
    CITIZEN_CREATED => "citizen.created",
    CITIZEN_UPDATED => "citizen.updated",
    CITIZEN_DISABLED => "citizen.disabled",
    CITIZEN_ENABLED => "citizen.enabled",
    CITIZEN_ROLES_CHANGED => "citizen.roles_changed",
    PASSWORD_SET => "password.set",
    PASSWORD_REMOVED => "password.removed",
    PASSKEY_REGISTERED => "passkey.registered",
    PASSKEY_RENAMED => "passkey.renamed",
    PASSKEY_REMOVED => "passkey.removed",
    SIGNIN_PASSWORD => "signin.password",
    SIGNIN_PASSKEY => "signin.passkey",
    /// Repeated failures locked an account for a while.
    SIGNIN_LOCKED => "signin.locked",
    SIGNOUT => "signout",
    /// The citizen gave up on the sign-in page of a department's request.
    AUTHORIZATION_CANCELLED => "authorization.cancelled",
    CONSENT_GRANTED => "consent.granted",
    CONSENT_REVOKED => "consent.revoked",
    CLIENT_CREATED => "client.created",
    CLIENT_UPDATED => "client.updated",
    CLIENT_ENABLED => "client.enabled",
    CLIENT_DISABLED => "client.disabled",
    CLIENT_SECRET_ROTATED => "client.secret_rotated",
    /// An operator's enrolment link was made.
    OPERATOR_INVITED => "operator.invited",
    TOKEN_ISSUED => "token.issued",
    TOKEN_REFRESHED => "token.refreshed",
    /// A rotated refresh token was presented again; its family was revoked.
    TOKEN_REUSE_DETECTED => "token.reuse_detected",
    TOKEN_REVOKED => "token.revoked",
    KEY_GENERATED => "key.generated",
    KEY_ROTATED => "key.rotated",
    KEY_RETIRED => "key.retired",
}

impl AuditKind {
    /// Parses a dotted kind name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "audit kind";
        if s.is_empty() || s.len() > 64 {
            return Err(DomainError::invalid(WHAT, "must be 1 to 64 characters"));
        }
        if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.') {
            return Err(DomainError::invalid(WHAT, "may contain only a-z, 0-9, '_' and '.'"));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) || s.split('.').any(str::is_empty) {
            return Err(DomainError::invalid(WHAT, "must be dot-separated names starting with a letter"));
        }
        Ok(Self::KNOWN.iter().find(|k| k.as_str() == s).cloned().unwrap_or_else(|| Self(Cow::Owned(s.to_owned()))))
    }

    /// The kind name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AuditKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_enum! {
    /// Whether the audited action succeeded.
    pub enum Outcome ("audit outcome") {
        Success => "success",
        Failure => "failure",
    }
}

/// One append-only audit record. It never holds tokens, codes, passwords or raw personal data:
/// `actor` is an internal id or an operator name, and `detail` is JSON text chosen by the caller
/// under the same rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Assigned by the store on append; `None` before that.
    pub id: Option<i64>,
    pub at: UnixTime,
    pub kind: AuditKind,
    /// Who acted: a citizen id, `operator:<name>`, `system`, ...
    pub actor: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub outcome: Outcome,
    /// JSON text (an object), `{}` when there is nothing to add.
    pub detail: String,
}

impl AuditEvent {
    /// A successful event of `kind` at `at`, with no actor, client, IP or detail yet.
    pub fn new(kind: AuditKind, at: UnixTime) -> Self {
        Self {
            id: None,
            at,
            kind,
            actor: None,
            client_id: None,
            ip: None,
            outcome: Outcome::Success,
            detail: "{}".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn known_kinds_parse_to_themselves() {
        for k in AuditKind::KNOWN {
            assert_eq!(&AuditKind::parse(k.as_str()).unwrap(), k);
        }
        assert_eq!(AuditKind::parse("key.rotated").unwrap(), AuditKind::KEY_ROTATED);
    }

    #[test]
    fn custom_kinds_parse() {
        for good in ["a", "session.ended", "web.csrf_failed", "x1.y2.z3"] {
            assert_eq!(good.parse::<AuditKind>().unwrap().as_str(), good);
        }
    }

    #[test]
    fn bad_kinds_are_refused() {
        for bad in [
            "",
            &"a".repeat(65),
            "Citizen.created",
            "citizen created",
            "citizen-created",
            ".x",
            "x.",
            "a..b",
            "1st",
            "_x",
            "é",
        ] {
            let err = AuditKind::parse(bad).unwrap_err();
            assert_eq!(err.what, "audit kind", "{bad:?}");
        }
    }

    #[test]
    fn outcome_round_trips() {
        assert_eq!("success".parse::<Outcome>().unwrap(), Outcome::Success);
        assert_eq!(Outcome::Failure.to_string(), "failure");
        assert!("ok".parse::<Outcome>().is_err());
    }

    #[test]
    fn new_event_is_a_success_with_empty_detail() {
        let e = AuditEvent::new(AuditKind::SIGNOUT, UnixTime::from_secs(3));
        assert_eq!((e.outcome, e.detail.as_str(), e.id), (Outcome::Success, "{}", None));
    }
}
