//! The home page: what Tessera is, in the citizen's language.

use super::render_page;
use crate::errors::WebError;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn home_get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    render_page(&req, &state, "home.html", tera::Context::new())
}
