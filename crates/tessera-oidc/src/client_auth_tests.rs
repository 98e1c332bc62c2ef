#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::clients::test_client;
use crate::error::ErrorCode;
use base64::engine::general_purpose::STANDARD;

const SECRET: &str = "s3cr3t-Value_with-43-characters-0123456789";

fn form(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn confidential(method: TokenEndpointAuthMethod) -> Client {
    let mut c = test_client("dept-portal");
    c.token_endpoint_auth_method = method;
    c.secret_digest = Some(token_digest(SECRET));
    c
}

fn code(r: Result<Option<PresentedClient>, OAuthError>) -> ErrorCode {
    r.unwrap_err().code()
}

#[test]
fn basic_header_is_client_secret_basic() {
    let p = client_credentials(Some(&basic("dept-portal", SECRET)), &form(&[("grant_type", "x")])).unwrap().unwrap();
    assert_eq!(p.client_id.as_str(), "dept-portal");
    assert_eq!(p.secret.as_deref(), Some(SECRET));
    assert_eq!(p.method, TokenEndpointAuthMethod::ClientSecretBasic);
    assert!(p.via_header);
    assert!(authenticate(&confidential(TokenEndpointAuthMethod::ClientSecretBasic), &p).is_ok());
}

#[test]
fn basic_parts_are_form_urlencoded_before_base64() {
    // RFC 6749 §2.3.1: a secret with reserved characters is form-encoded first.
    let raw_secret = "p@ss:w%rd +/=é";
    let encoded: String = url::form_urlencoded::byte_serialize(raw_secret.as_bytes()).collect();
    let p = client_credentials(Some(&basic("dept-portal", &encoded)), &[]).unwrap().unwrap();
    assert_eq!(p.secret.as_deref(), Some(raw_secret));
    // '+' is a space once decoded.
    let p = client_credentials(Some(&basic("dept-portal", "a+b%2Bc")), &[]).unwrap().unwrap();
    assert_eq!(p.secret.as_deref(), Some("a b+c"));
    // A colon in the secret survives (only the first separates).
    let p = client_credentials(Some(&basic("dept-portal", "x:y")), &[]).unwrap().unwrap();
    assert_eq!(p.secret.as_deref(), Some("x:y"));
    // An encoded client id decodes too.
    let p = client_credentials(Some(&basic("dept%2Dportal", "x")), &[]).unwrap().unwrap();
    assert_eq!(p.client_id.as_str(), "dept-portal");
}

#[test]
fn basic_scheme_is_case_insensitive_and_padding_optional() {
    let token = STANDARD.encode(format!("dept-portal:{SECRET}"));
    for header in
        [format!("basic {token}"), format!("BASIC  {token}"), format!("Basic {}", token.trim_end_matches('='))]
    {
        let p = client_credentials(Some(&header), &[]).unwrap().unwrap();
        assert_eq!(p.secret.as_deref(), Some(SECRET), "{header}");
    }
}

#[test]
fn malformed_headers_are_invalid_client() {
    for header in [
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Bearer abc",
        "Digest username=x",
        &format!("Basic {}", STANDARD.encode("no-colon")),
        &format!("Basic {}", STANDARD.encode(":secret")),
        &format!("Basic {}", STANDARD.encode("dept-portal:")),
        &format!("Basic {}", STANDARD.encode("dept-portal:bad%zz")),
        &format!("Basic {}", STANDARD.encode("dept-portal:bad%2")),
        &format!("Basic {}", STANDARD.encode("dept-portal:%ff%fe")),
        &format!("Basic {}", STANDARD.encode([0xff, 0xfe, b':', b'x'])),
        &format!("Basic {}", STANDARD.encode("not valid id:x")),
        &format!("Basic {}", STANDARD.encode(format!("dept-portal:{}", "x".repeat(MAX_SECRET_LEN + 1)))),
        &format!("Basic {}", "A".repeat(4000)),
    ] {
        assert_eq!(code(client_credentials(Some(header), &[])), ErrorCode::InvalidClient, "{header:.40}");
    }
}

#[test]
fn body_credentials_are_client_secret_post() {
    let p =
        client_credentials(None, &form(&[("client_id", "dept-portal"), ("client_secret", SECRET)])).unwrap().unwrap();
    assert_eq!(p.method, TokenEndpointAuthMethod::ClientSecretPost);
    assert!(!p.via_header);
    assert!(authenticate(&confidential(TokenEndpointAuthMethod::ClientSecretPost), &p).is_ok());
}

#[test]
fn body_client_id_alone_is_a_public_client() {
    let p = client_credentials(None, &form(&[("client_id", "dept-portal"), ("client_secret", "")])).unwrap().unwrap();
    assert_eq!(p.method, TokenEndpointAuthMethod::None);
    assert_eq!(p.secret, None);
    let mut public = test_client("dept-portal");
    public.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    public.secret_digest = None;
    assert!(authenticate(&public, &p).is_ok());
    assert_eq!(
        authenticate(&confidential(TokenEndpointAuthMethod::ClientSecretBasic), &p).unwrap_err().code(),
        ErrorCode::InvalidClient,
        "a confidential client cannot skip its secret"
    );
}

#[test]
fn no_credentials_is_none() {
    assert_eq!(client_credentials(None, &[]).unwrap(), None);
    assert_eq!(client_credentials(None, &form(&[("client_id", ""), ("code", "x")])).unwrap(), None);
}

#[test]
fn ambiguous_requests_are_invalid_request() {
    let header = basic("dept-portal", SECRET);
    type Case<'a> = (Option<&'a str>, Vec<(String, String)>);
    let cases: Vec<Case<'_>> = vec![
        (Some(&header), form(&[("client_secret", SECRET)])),
        (Some(&header), form(&[("client_id", "dept-portal"), ("client_secret", SECRET)])),
        (Some(&header), form(&[("client_id", "other")])),
        (None, form(&[("client_id", "a"), ("client_id", "a")])),
        (None, form(&[("client_id", "a"), ("client_secret", "x"), ("client_secret", "y")])),
        (Some(&header), form(&[("client_id", "a"), ("client_id", "dept-portal")])),
        (None, form(&[("client_secret", SECRET)])),
    ];
    for (h, f) in cases {
        assert_eq!(code(client_credentials(h, &f)), ErrorCode::InvalidRequest, "{h:?} {f:?}");
    }
    // A matching body client_id beside the header is fine.
    let p = client_credentials(Some(&header), &form(&[("client_id", "dept-portal")])).unwrap().unwrap();
    assert_eq!(p.method, TokenEndpointAuthMethod::ClientSecretBasic);
}

#[test]
fn invalid_body_client_id_is_invalid_client() {
    assert_eq!(code(client_credentials(None, &form(&[("client_id", "bad id")]))), ErrorCode::InvalidClient);
    let long = "x".repeat(MAX_SECRET_LEN + 1);
    assert_eq!(
        code(client_credentials(None, &form(&[("client_id", "a"), ("client_secret", &long)]))),
        ErrorCode::InvalidClient
    );
}

#[test]
fn authentication_failures_are_invalid_client() {
    let basic_client = confidential(TokenEndpointAuthMethod::ClientSecretBasic);
    let good = PresentedClient {
        client_id: basic_client.id.clone(),
        secret: Some(SECRET.to_owned()),
        method: TokenEndpointAuthMethod::ClientSecretBasic,
        via_header: true,
    };
    assert!(authenticate(&basic_client, &good).is_ok());

    let mut wrong_secret = good.clone();
    wrong_secret.secret = Some(format!("{SECRET}x"));
    let mut no_secret = good.clone();
    no_secret.secret = None;
    let mut empty_secret = good.clone();
    empty_secret.secret = Some(String::new());
    let mut wrong_method = good.clone();
    wrong_method.method = TokenEndpointAuthMethod::ClientSecretPost;
    let mut other_id = good.clone();
    other_id.client_id = ClientId::parse("someone-else").unwrap();
    for p in [&wrong_secret, &no_secret, &empty_secret, &wrong_method, &other_id] {
        let err = authenticate(&basic_client, p).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidClient, "{p:?}");
        assert_eq!(err.description(), Some("client authentication failed"), "no hint which check failed");
    }

    let mut disabled = basic_client.clone();
    disabled.enabled = false;
    assert_eq!(authenticate(&disabled, &good).unwrap_err().code(), ErrorCode::InvalidClient);

    let mut no_digest = basic_client.clone();
    no_digest.secret_digest = None;
    assert_eq!(authenticate(&no_digest, &good).unwrap_err().code(), ErrorCode::InvalidClient);

    let mut public = basic_client.clone();
    public.token_endpoint_auth_method = TokenEndpointAuthMethod::None;
    let mut public_with_secret = good.clone();
    public_with_secret.method = TokenEndpointAuthMethod::None;
    assert_eq!(authenticate(&public, &public_with_secret).unwrap_err().code(), ErrorCode::InvalidClient);
}

#[test]
fn debug_never_shows_the_secret() {
    let p = client_credentials(Some(&basic("dept-portal", SECRET)), &[]).unwrap().unwrap();
    let shown = format!("{p:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("<redacted>"));
}
