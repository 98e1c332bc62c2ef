//! The one place where web-layer errors become HTTP responses.
//!
//! Handlers return `Result<_, WebError>`. An internal error is logged here, once, with a
//! stable code, and the citizen sees a localized error page (rendered by
//! [`crate::routes::errors`]), never the cause.

use crate::csrf::CsrfFailure;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("page rendering failed: {0}")]
    Render(String),
    #[error(transparent)]
    Keys(#[from] tessera_oidc::KeyError),
    #[error(transparent)]
    Service(#[from] tessera_oidc::service::ServiceError),
    #[error(transparent)]
    Sso(#[from] tessera_oidc::sso::SsoError),
    #[error("random token: {0}")]
    Crypto(#[from] tessera_crypto::CryptoError),
    #[error("sign-up failed: {0}")]
    Signup(String),
    #[error("form refused: {0:?}")]
    Csrf(CsrfFailure),
    #[error("passkeys: {0}")]
    Passkey(String),
}

impl From<CsrfFailure> for WebError {
    fn from(f: CsrfFailure) -> Self {
        WebError::Csrf(f)
    }
}

impl WebError {
    /// A stable code for logs and dashboards.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::Render(_) => "web.render",
            WebError::Keys(_) => "oidc.keys",
            WebError::Service(e) => e.code(),
            WebError::Sso(_) => "oidc.sso",
            WebError::Crypto(_) => "web.crypto",
            WebError::Signup(_) => "passkey.signup",
            WebError::Csrf(_) => "web.csrf",
            WebError::Passkey(_) => "passkey.service",
        }
    }
}

impl From<tera::Error> for WebError {
    fn from(e: tera::Error) -> Self {
        WebError::Render(crate::pages::error_chain(&e))
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::Csrf(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::Csrf(failure) => tracing::warn!(code = self.code(), ?failure, "form refused"),
            _ => tracing::error!(code = self.code(), error = %self, "internal error"),
        }
        HttpResponse::build(self.status_code()).finish()
    }
}
