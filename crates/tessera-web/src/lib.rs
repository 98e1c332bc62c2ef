//! tessera-web: the HTTP face of Tessera. Routes, middleware, the mapping of errors
//! to responses, and page rendering with tera in English and Traditional Chinese.
//! It calls the service crates; it never touches SQL or Redis itself.

pub mod errors;
pub mod i18n;
pub mod middleware;
pub mod pages;
pub mod routes;
pub mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, web};
pub use state::{AppState, WebSettings};

/// The whole application, ready for `HttpServer::new`.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let https = state.settings.secure_cookies();
    let error_pages = ErrorHandlers::new()
        .handler(StatusCode::INTERNAL_SERVER_ERROR, routes::errors::server_error)
        .handler(StatusCode::SERVICE_UNAVAILABLE, routes::errors::server_error);
    App::new()
        .app_data(state)
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            actix_web::error::InternalError::from_response(e, actix_web::HttpResponse::BadRequest().finish()).into()
        }))
        .wrap(error_pages)
        .wrap(middleware::security_headers(https))
        .wrap(from_fn(middleware::request_context))
        .route("/", web::get().to(routes::home::home_get))
        .route("/language", web::get().to(routes::language::language_get))
        .route("/healthz", web::get().to(routes::health::healthz_get))
        .route("/readyz", web::get().to(routes::health::readyz_get))
        .route("/jwks", web::get().to(routes::jwks::jwks_get))
        .route("/static/tessera.css", web::get().to(routes::assets::stylesheet_get))
        .default_service(web::to(routes::errors::not_found))
}
