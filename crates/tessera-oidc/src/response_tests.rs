#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::error::ErrorCode;

const ISS: &str = "https://id.example.gov.hk";

fn query_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn code_response_carries_code_state_and_iss() {
    let url = code_redirect("https://rp.example/cb", "abc-DEF_123", Some("xyz"), ISS);
    assert_eq!(url, "https://rp.example/cb?code=abc-DEF_123&state=xyz&iss=https%3A%2F%2Fid.example.gov.hk");
    let url = code_redirect("https://rp.example/cb", "c", None, ISS);
    assert_eq!(query_pairs(&url), pairs(&[("code", "c"), ("iss", ISS)]));
}

#[test]
fn existing_query_is_kept() {
    let url = code_redirect("https://rp.example/cb?tenant=td&x=%2F", "c", Some("s"), ISS);
    assert!(url.starts_with("https://rp.example/cb?tenant=td&x=%2F&code=c&state=s&iss="), "{url}");
    assert_eq!(query_pairs(&url), pairs(&[("tenant", "td"), ("x", "/"), ("code", "c"), ("state", "s"), ("iss", ISS)]));
    assert!(code_redirect("https://rp.example/cb?", "c", None, ISS).starts_with("https://rp.example/cb?code=c&iss="));
    assert!(
        code_redirect("https://rp.example/cb?a=1&", "c", None, ISS)
            .starts_with("https://rp.example/cb?a=1&code=c&iss=")
    );
}

#[test]
fn state_is_echoed_byte_exact_through_encoding() {
    for state in [
        "simple",
        "with space+plus",
        "a&b=c#d?e/f%20",
        "\"quotes\" 'single' <tags>",
        "漢字 emoji 🙂",
        "line\nbreak\ttab",
        &"s".repeat(2048),
    ] {
        let url = code_redirect("https://rp.example/cb", "c", Some(state), ISS);
        assert!(!url.contains('#'), "{url}");
        assert!(!url.contains(' '), "{url}");
        let got = query_pairs(&url).into_iter().find(|(k, _)| k == "state").unwrap().1;
        assert_eq!(got, state);
    }
}

#[test]
fn error_response_carries_only_the_allowed_parameters() {
    let err = OAuthError::invalid_scope("the openid scope is required");
    let url = error_redirect("https://rp.example/cb", &err, Some("st"), ISS);
    assert_eq!(
        query_pairs(&url),
        pairs(&[
            ("error", "invalid_scope"),
            ("error_description", "the openid scope is required"),
            ("state", "st"),
            ("iss", ISS)
        ])
    );
    let bare = error_redirect("https://rp.example/cb?k=v", &OAuthError::bare(ErrorCode::LoginRequired), None, ISS);
    assert_eq!(query_pairs(&bare), pairs(&[("k", "v"), ("error", "login_required"), ("iss", ISS)]));
}

#[test]
fn a_fragment_never_receives_the_response() {
    let url = code_redirect("https://rp.example/cb#frag", "c", None, ISS);
    assert!(!url.contains('#'));
    assert!(url.starts_with("https://rp.example/cb?code=c"));
}
