//! Authentication context classes (`acr`): how strongly the citizen proved who they are.
//!
//! The values are ordered levels, weakest first. A request for a level is met by that level
//! or a stronger one, and the ID token always reports the level actually performed (with
//! the methods in `amr`), so a department that asks for a password sign-in may receive
//! `acr` = passkey.

/// `acr` of a password sign-in: one factor, something the citizen knows.
pub const ACR_PASSWORD: &str = "urn:tessera:acr:password";
/// `acr` of a passkey sign-in: a phishing-resistant key with user verification.
pub const ACR_PASSKEY: &str = "urn:tessera:acr:passkey";
/// Every `acr` Tessera can report, weakest first (discovery's `acr_values_supported`).
pub const ACR_VALUES: [&str; 2] = [ACR_PASSWORD, ACR_PASSKEY];

/// The level of an `acr` value: its place in [`ACR_VALUES`]. `None` for a value Tessera
/// does not know.
#[must_use]
pub fn acr_level(acr: &str) -> Option<usize> {
    ACR_VALUES.iter().position(|v| *v == acr)
}

/// The weakest known level among `values`: what a request naming them demands at least.
/// `None` when none of them is known.
pub fn weakest_level<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    values.into_iter().filter_map(acr_level).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_weakest_first() {
        assert_eq!(acr_level(ACR_PASSWORD), Some(0));
        assert_eq!(acr_level(ACR_PASSKEY), Some(1));
        assert_eq!(acr_level("urn:mace:incommon:iap:silver"), None);
        assert_eq!(acr_level(""), None);
    }

    #[test]
    fn a_request_demands_its_weakest_known_value() {
        assert_eq!(weakest_level([ACR_PASSKEY, ACR_PASSWORD]), Some(0));
        assert_eq!(weakest_level(["urn:other", ACR_PASSKEY]), Some(1));
        assert_eq!(weakest_level(["urn:other"]), None);
        assert_eq!(weakest_level([]), None);
    }
}
