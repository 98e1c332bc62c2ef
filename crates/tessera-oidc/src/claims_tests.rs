#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::error::ErrorCode;

fn names(defs: &[&ClaimDef]) -> Vec<&'static str> {
    defs.iter().map(|d| d.name).collect()
}

#[test]
fn catalogue_maps_scopes_to_claims() {
    let all = ScopeSet::parse("openid profile email phone address hk_identity").unwrap();
    assert_eq!(names(&claims_for_scopes(&all)).len(), CLAIMS.len());
    let profile = claims_for_scopes(&ScopeSet::parse("openid profile").unwrap());
    assert_eq!(names(&profile), ["name", "name#zh-Hant-HK", "birthdate", "gender", "updated_at"]);
    assert_eq!(names(&claims_for_scopes(&ScopeSet::parse("email").unwrap())), ["email", "email_verified"]);
    assert_eq!(
        names(&claims_for_scopes(&ScopeSet::parse("phone").unwrap())),
        ["phone_number", "phone_number_verified"]
    );
    assert_eq!(names(&claims_for_scopes(&ScopeSet::parse("address").unwrap())), ["address"]);
    assert_eq!(names(&claims_for_scopes(&ScopeSet::parse("hk_identity").unwrap())), ["hkid"]);
    assert!(claims_for_scopes(&ScopeSet::parse("openid offline_access").unwrap()).is_empty());
}

#[test]
fn catalogue_entries_are_consistent() {
    for (i, c) in CLAIMS.iter().enumerate() {
        assert!(crate::scope::is_supported(c.scope), "{}", c.name);
        assert!(c.label_key.starts_with("claim_"), "{}", c.label_key);
        assert!(CLAIMS[i + 1..].iter().all(|o| o.name != c.name && o.label_key != c.label_key));
        assert_eq!(claim_def(c.name), Some(c));
    }
    assert_eq!(claim_def("name#zh-Hant-HK").unwrap().label_key, "claim_name_zh");
    assert_eq!(claim_def("hkid").unwrap().scope, "hk_identity");
    assert_eq!(claim_def("sub"), None);
}

#[test]
fn parses_the_oidc_core_example() {
    // OIDC Core §5.5, the example request (trimmed).
    let raw = r#"{
      "userinfo": {
        "given_name": {"essential": true},
        "nickname": null,
        "email": {"essential": true},
        "email_verified": {"essential": true},
        "picture": null,
        "http://example.info/claims/groups": null
      },
      "id_token": {
        "auth_time": {"essential": true},
        "acr": {"values": ["urn:mace:incommon:iap:silver"] }
      }
    }"#;
    let c = ClaimsRequest::parse(raw).unwrap();
    assert!(!c.is_empty());
    assert_eq!(c.essential().into_iter().collect::<Vec<_>>(), ["auth_time", "email", "email_verified", "given_name"]);
    assert_eq!(c.requested().len(), 8);
    assert!(c.requested().contains("http://example.info/claims/groups"), "unknown claims are kept");
    assert_eq!(c.userinfo["nickname"], ClaimRequest::default());
    assert_eq!(c.acr_request(), Some((false, vec!["urn:mace:incommon:iap:silver".to_owned()])));
}

#[test]
fn essential_acr_with_value_and_values() {
    let c = ClaimsRequest::parse(r#"{"id_token":{"acr":{"essential":true,"value":"a","values":["b","a"]}}}"#).unwrap();
    assert_eq!(c.acr_request(), Some((true, vec!["a".to_owned(), "b".to_owned()])));
    let c = ClaimsRequest::parse(r#"{"id_token":{"acr":null}}"#).unwrap();
    assert_eq!(c.acr_request(), Some((false, vec![])));
    let c = ClaimsRequest::parse(r#"{"userinfo":{"acr":{"essential":true}}}"#).unwrap();
    assert_eq!(c.acr_request(), Some((true, vec![])));
    assert_eq!(ClaimsRequest::parse(r#"{"userinfo":{"name":null}}"#).unwrap().acr_request(), None);
}

#[test]
fn empty_and_partial_requests() {
    assert!(ClaimsRequest::parse("{}").unwrap().is_empty());
    assert!(ClaimsRequest::parse(r#"{"userinfo":{},"id_token":{}}"#).unwrap().is_empty());
    let c = ClaimsRequest::parse(r#"{"other":1,"userinfo":{"name":{"essential":false,"extra":[1]}}}"#).unwrap();
    assert!(c.essential().is_empty());
    assert_eq!(c.requested().into_iter().collect::<Vec<_>>(), ["name"]);
    assert!(c.id_token.is_empty());
}

#[test]
fn wrong_shapes_are_invalid_request() {
    let long_name = format!(r#"{{"userinfo":{{"{}":null}}}}"#, "n".repeat(MAX_CLAIM_NAME_LEN + 1));
    let many = format!(
        r#"{{"userinfo":{{{}}}}}"#,
        (0..=MAX_CLAIMS_PER_MEMBER).map(|i| format!(r#""c{i}":null"#)).collect::<Vec<_>>().join(",")
    );
    let huge = format!(r#"{{"userinfo":{{"name":{{"value":"{}"}}}}}}"#, "x".repeat(MAX_CLAIMS_PARAM_LEN));
    for bad in [
        "",
        "not json",
        "{",
        "[]",
        "null",
        "\"userinfo\"",
        r#"{"userinfo":[]}"#,
        r#"{"userinfo":"name"}"#,
        r#"{"id_token":null}"#,
        r#"{"userinfo":{"name":true}}"#,
        r#"{"userinfo":{"name":1}}"#,
        r#"{"userinfo":{"name":{"essential":"yes"}}}"#,
        r#"{"userinfo":{"name":{"values":"a"}}}"#,
        r#"{"userinfo":{"":null}}"#,
        r#"{"id_token":{"acr":{"value":1}}}"#,
        r#"{"id_token":{"acr":{"values":["a",2]}}}"#,
        &long_name,
        &many,
        &huge,
    ] {
        let err = ClaimsRequest::parse(bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidRequest, "{bad:.60}");
    }
}

#[test]
fn deep_nesting_does_not_overflow() {
    let deep = format!(r#"{{"userinfo":{{"name":{{"value":{}1{}}}}}}}"#, "[".repeat(4000), "]".repeat(4000));
    assert!(ClaimsRequest::parse(&deep).is_err());
}

#[test]
fn retain_drops_claims_from_both_members() {
    let mut c =
        ClaimsRequest::parse(r#"{"userinfo":{"hkid":null,"name":null},"id_token":{"hkid":null,"acr":null}}"#).unwrap();
    c.retain(|n| n != "hkid");
    assert_eq!(c.requested().into_iter().collect::<Vec<_>>(), ["acr", "name"]);
}

#[test]
fn serde_round_trip_for_the_session_store() {
    let c = ClaimsRequest::parse(
        r#"{"userinfo":{"email":{"essential":true},"name":null},"id_token":{"acr":{"values":["x"]}}}"#,
    )
    .unwrap();
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<ClaimsRequest>(&json).unwrap(), c);
    assert_eq!(serde_json::from_str::<ClaimsRequest>("{}").unwrap(), ClaimsRequest::default());
}
