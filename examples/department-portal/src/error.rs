//! The portal's errors, and the one place where they become HTTP responses.
//!
//! Every variant has a stable code (shown on the page and logged) and a message in English and
//! Traditional Chinese. Detail strings are for the log only and never carry tokens.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use crate::config::Department;
use crate::html;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// No pending sign-in for this browser: the cookie is missing, expired or was already used.
    #[error("no pending sign-in for this browser")]
    LoginExpired,
    #[error("malformed authorization response: {0}")]
    MalformedResponse(&'static str),
    #[error("state does not match the pending sign-in")]
    StateMismatch,
    /// RFC 9207: `iss` differs from the issuer, or is missing although the provider promised it.
    #[error("authorization response issuer: {0}")]
    IssuerMismatch(&'static str),
    /// Tessera answered the authorization request with `error=`.
    #[error("authorization error `{error}`")]
    Authorization { error: String, description: Option<String> },
    #[error("token exchange failed: {0}")]
    TokenExchange(String),
    #[error("ID token rejected: {0}")]
    IdToken(String),
    #[error("authentication context `{0}` is not one of the requested acr_values")]
    AcrNotMet(String),
    #[error("userinfo request failed: {0}")]
    UserInfo(String),
    #[error("refresh failed: {0}")]
    Refresh(String),
    #[error("no refresh token was issued")]
    NoRefreshToken,
    #[error("in-memory store is full")]
    Busy,
}

/// How an error shows on the error page.
pub struct ErrorView {
    pub status: StatusCode,
    pub code: &'static str,
    pub en: String,
    pub zh: String,
    /// Text from Tessera's `error_description`, shown as it came (escaped).
    pub provider_detail: Option<String>,
}

impl PortalError {
    pub fn view(&self) -> ErrorView {
        use PortalError::*;
        let (status, code, en, zh): (StatusCode, &'static str, String, String) = match self {
            LoginExpired => (
                StatusCode::BAD_REQUEST,
                "login_expired",
                "This sign-in has expired or was already completed. Please sign in again.".into(),
                "此登入要求已逾時或已完成，請重新登入。".into(),
            ),
            MalformedResponse(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_response",
                "The response from Tessera was incomplete or malformed.".into(),
                "Tessera 的回應不完整或格式有誤。".into(),
            ),
            StateMismatch => (
                StatusCode::BAD_REQUEST,
                "state_mismatch",
                "The response from Tessera does not belong to this sign-in.".into(),
                "Tessera 的回應與此登入要求不符。".into(),
            ),
            IssuerMismatch(_) => (
                StatusCode::BAD_REQUEST,
                "issuer_mismatch",
                "The response did not come from the expected identity provider.".into(),
                "回應並非來自預期的身分提供者。".into(),
            ),
            Authorization { error, .. } if error == "access_denied" => (
                StatusCode::FORBIDDEN,
                "access_denied",
                "Sign-in was cancelled, or consent to share your details was not given.".into(),
                "登入已取消，或未有同意提供你的資料。".into(),
            ),
            Authorization { error, .. } => (
                StatusCode::BAD_REQUEST,
                "authorization_error",
                format!("Sign-in was not completed. Tessera answered: {error}"),
                format!("登入未能完成。Tessera 回覆：{error}"),
            ),
            TokenExchange(_) => (
                StatusCode::BAD_GATEWAY,
                "token_exchange_failed",
                "The sign-in could not be completed with Tessera.".into(),
                "未能與 Tessera 完成登入程序。".into(),
            ),
            IdToken(_) => (
                StatusCode::BAD_GATEWAY,
                "id_token_invalid",
                "Tessera's identity token could not be verified.".into(),
                "未能核實 Tessera 發出的身分權杖。".into(),
            ),
            AcrNotMet(_) => (
                StatusCode::FORBIDDEN,
                "acr_not_met",
                "The sign-in did not reach the assurance level this service requires.".into(),
                "是次登入未達本服務所需的認證級別。".into(),
            ),
            UserInfo(_) => (
                StatusCode::BAD_GATEWAY,
                "userinfo_failed",
                "Your details could not be read from Tessera.".into(),
                "未能從 Tessera 讀取你的資料。".into(),
            ),
            Refresh(_) => (
                StatusCode::BAD_GATEWAY,
                "refresh_failed",
                "The tokens could not be refreshed. Please sign in again.".into(),
                "未能更新權杖，請重新登入。".into(),
            ),
            NoRefreshToken => (
                StatusCode::BAD_REQUEST,
                "no_refresh_token",
                "Tessera did not issue a refresh token for this session.".into(),
                "Tessera 未有為此登入發出更新權杖。".into(),
            ),
            Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The service is busy. Please try again shortly.".into(),
                "服務繁忙，請稍後再試。".into(),
            ),
        };
        let provider_detail = match self {
            Authorization { description, .. } => description.clone(),
            _ => None,
        };
        ErrorView { status, code, en, zh, provider_detail }
    }
}

/// Logs `err` once and renders the bilingual error page.
pub fn error_response(department: &Department, err: &PortalError) -> HttpResponse {
    let view = err.view();
    if view.status.is_server_error() {
        tracing::error!(code = view.code, error = %err, "request failed");
    } else {
        tracing::warn!(code = view.code, error = %err, "request refused");
    }
    HttpResponse::build(view.status).content_type(html::CONTENT_TYPE).body(html::error_page(department, &view))
}

/// Formats an error with its chain of sources, for the log.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_errors_keep_their_description_and_code() {
        let err = PortalError::Authorization { error: "login_required".into(), description: Some("<b>x</b>".into()) };
        let view = err.view();
        assert_eq!(view.code, "authorization_error");
        assert!(view.en.contains("login_required") && view.zh.contains("login_required"));
        assert_eq!(view.provider_detail.as_deref(), Some("<b>x</b>"));

        let denied = PortalError::Authorization { error: "access_denied".into(), description: None };
        assert_eq!(denied.view().status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn replayed_callbacks_are_client_errors() {
        assert_eq!(PortalError::LoginExpired.view().status, StatusCode::BAD_REQUEST);
        assert_eq!(PortalError::TokenExchange("x".into()).view().status, StatusCode::BAD_GATEWAY);
    }
}
