//! The domain's one error type.

/// A value that does not parse into a domain type.
///
/// The message names the field and the rule it broke; it never contains the rejected value,
/// so it is safe to log and to show to a citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct DomainError {
    /// What was being parsed, e.g. `"username"`.
    pub what: &'static str,
    /// Which rule the value broke, e.g. `"must be 3 to 64 characters"`.
    pub reason: &'static str,
}

impl DomainError {
    /// A parse failure of `what` for `reason`.
    pub const fn invalid(what: &'static str, reason: &'static str) -> Self {
        Self { what, reason }
    }
}
