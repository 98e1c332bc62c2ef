//! Form bodies and query strings as lists of pairs: OAuth needs to see repeated
//! parameters (they are errors there), and consent forms repeat `claim`.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

/// The largest form body accepted.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// `application/x-www-form-urlencoded` pairs in their order, repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct FormParams(pub Vec<(String, String)>);

impl FormParams {
    pub fn parse(bytes: &[u8]) -> FormParams {
        FormParams(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The value of a parameter that must appear at most once; `Err` when repeated.
    /// An empty value counts as absent.
    pub fn single(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(Repeated(name.to_owned()));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// The value of a parameter, ignoring repetition (for forms of our own pages).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// A parameter that appeared more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated(pub String);

impl FromRequest for FormParams {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_form {
                return Err(actix_web::error::ErrorUnsupportedMediaType("expected application/x-www-form-urlencoded"));
            }
            let bytes = body.await?;
            if bytes.len() > MAX_FORM_BYTES {
                return Err(actix_web::error::ErrorPayloadTooLarge("form too large"));
            }
            Ok(FormParams::parse(&bytes))
        })
    }
}

/// The query string of a request as pairs.
pub fn query_params(req: &HttpRequest) -> FormParams {
    FormParams::parse(req.query_string().as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn repeated_and_empty_parameters() {
        let f = FormParams::parse(b"a=1&b=&c=x&c=y&d=%20z");
        assert_eq!(f.single("a").unwrap(), Some("1"));
        assert_eq!(f.single("b").unwrap(), None, "empty counts as absent");
        assert_eq!(f.single("c"), Err(Repeated("c".into())));
        assert_eq!(f.all("c"), vec!["x", "y"]);
        assert_eq!(f.single("d").unwrap(), Some(" z"));
        assert_eq!(f.single("missing").unwrap(), None);
    }
}
