//! Conversions between stored column values and domain types.

use std::str::FromStr;

use tessera_domain::{DomainError, UnixTime};

use crate::StoreError;
use crate::error::corrupt;

/// Encodes a list as JSON array text, the stored form of every list column on both backends.
pub(crate) fn encode_list<S: AsRef<str>>(items: &[S]) -> Result<String, StoreError> {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    serde_json::to_string(&items).map_err(|_| StoreError::Internal("cannot encode a list as JSON"))
}

/// Decodes JSON array text stored in `table.column`.
pub(crate) fn decode_list(table: &'static str, column: &'static str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt {
        table,
        column,
        reason: "not a JSON array of strings".into(),
    })
}

/// Decodes a JSON list of values that parse with `FromStr`.
pub(crate) fn decode_parsed_list<T>(table: &'static str, column: &'static str, text: &str) -> Result<Vec<T>, StoreError>
where
    T: FromStr<Err = DomainError>,
{
    decode_list(table, column, text)?.iter().map(|s| parse(table, column, s)).collect()
}

/// Parses a stored text value into its domain type.
pub(crate) fn parse<T>(table: &'static str, column: &'static str, text: &str) -> Result<T, StoreError>
where
    T: FromStr<Err = DomainError>,
{
    text.parse().map_err(corrupt(table, column))
}

/// Parses an optional stored text value.
pub(crate) fn parse_opt<T>(
    table: &'static str,
    column: &'static str,
    text: Option<&str>,
) -> Result<Option<T>, StoreError>
where
    T: FromStr<Err = DomainError>,
{
    text.map(|t| parse(table, column, t)).transpose()
}

pub(crate) fn time(secs: i64) -> UnixTime {
    UnixTime::from_secs(secs)
}

pub(crate) fn opt_time(secs: Option<i64>) -> Option<UnixTime> {
    secs.map(UnixTime::from_secs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use tessera_domain::Role;

    #[test]
    fn lists_round_trip_as_json_text() {
        let text = encode_list(&["a \"quoted\" uri", "b"]).unwrap();
        assert_eq!(text, r#"["a \"quoted\" uri","b"]"#);
        assert_eq!(decode_list("t", "c", &text).unwrap(), vec!["a \"quoted\" uri", "b"]);
        assert_eq!(encode_list::<String>(&[]).unwrap(), "[]");
    }

    #[test]
    fn bad_stored_values_are_corrupt_and_named() {
        let err = decode_list("clients", "redirect_uris", "{").unwrap_err();
        assert_eq!(err.to_string(), "corrupt value in clients.redirect_uris: not a JSON array of strings");
        let err = decode_parsed_list::<Role>("citizens", "roles", r#"["operator","god"]"#).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { table: "citizens", column: "roles", .. }));
        assert!(!err.to_string().contains("god"));
    }
}
