//! The one place where web-layer errors become HTTP responses.
//!
//! Handlers return `Result<_, WebError>`. An internal error is logged here, once,
//! with a stable code, and the citizen sees a localized error page (rendered by
//! [`crate::routes::errors`]), never the cause.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("page rendering failed: {0}")]
    Render(String),
    #[error(transparent)]
    Keys(#[from] tessera_oidc::KeyError),
}

impl WebError {
    /// A stable code for logs and dashboards.
    pub fn code(&self) -> &'static str {
        match self {
            WebError::Render(_) => "web.render",
            WebError::Keys(_) => "oidc.keys",
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
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(code = self.code(), error = %self, "internal error");
        HttpResponse::build(self.status_code()).finish()
    }
}
