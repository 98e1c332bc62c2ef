//! tessera-web: the HTTP face of Tessera. Routes, middleware, the mapping of errors
//! to responses, and page rendering with tera in English and Traditional Chinese.
//! It calls the service crates; it never touches SQL or Redis itself.

pub mod client_ip;
pub mod cookies;
pub mod csrf;
pub mod errors;
pub mod form;
pub mod i18n;
pub mod metrics;
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
        .handler(StatusCode::SERVICE_UNAVAILABLE, routes::errors::server_error)
        .handler(StatusCode::FORBIDDEN, routes::errors::forbidden);
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
        .route("/metrics", web::get().to(routes::health::metrics_get))
        .route("/jwks", web::get().to(routes::jwks::jwks_get))
        .route("/.well-known/openid-configuration", web::get().to(routes::discovery::discovery_get))
        .route("/authorize", web::get().to(routes::authorize::authorize_get))
        .route("/authorize", web::post().to(routes::authorize::authorize_post))
        .route("/authorize/continue", web::get().to(routes::authorize::continue_get))
        .route("/authorize/cancel", web::post().to(routes::authorize::cancel_post))
        .route("/signin", web::get().to(routes::signin::signin_get))
        .route("/signin", web::post().to(routes::signin::signin_post))
        .route("/signup", web::get().to(routes::signin::signup_get))
        .route("/signup", web::post().to(routes::signin::signup_post))
        .route("/signup/passkey", web::get().to(routes::signup_passkey::page_get))
        .route("/signup/passkey/finish", web::post().to(routes::signup_passkey::finish_post))
        .route("/consent", web::get().to(routes::consent::consent_get))
        .route("/consent", web::post().to(routes::consent::consent_post))
        .route("/token", web::post().to(routes::token::token_post))
        .route("/introspect", web::post().to(routes::token::introspect_post))
        .route("/revoke", web::post().to(routes::token::revoke_post))
        .route("/userinfo", web::get().to(routes::userinfo::userinfo_get))
        .route("/userinfo", web::post().to(routes::userinfo::userinfo_post))
        .route("/end_session", web::get().to(routes::logout::end_session_get))
        .route("/end_session", web::post().to(routes::logout::end_session_post))
        .route("/end_session/confirm", web::post().to(routes::logout::end_session_confirm_post))
        .route("/passkey/signin/start", web::post().to(routes::passkey::signin_start_post))
        .route("/passkey/signin/finish", web::post().to(routes::passkey::signin_finish_post))
        .route("/passkey/register/start", web::post().to(routes::passkey::register_start_post))
        .route("/passkey/register/finish", web::post().to(routes::passkey::register_finish_post))
        .route("/account", web::get().to(routes::account::account_get))
        .route("/account/passkeys/{id}/rename", web::post().to(routes::account::rename_post))
        .route("/account/passkeys/{id}/remove", web::post().to(routes::account::remove_post))
        .route("/account/password", web::post().to(routes::account::password_post))
        .route("/account/profile", web::get().to(routes::dashboard::profile_get))
        .route("/account/profile", web::post().to(routes::dashboard::profile_post))
        .route("/account/sharing", web::get().to(routes::dashboard::sharing_get))
        .route("/account/sharing/{client_id}/withdraw", web::post().to(routes::dashboard::withdraw_post))
        .route("/account/sharing/receipts/{consent_id}", web::get().to(routes::dashboard::receipt_get))
        .route("/account/sessions", web::get().to(routes::dashboard::sessions_get))
        .route("/account/sessions/end-all", web::post().to(routes::dashboard::sessions_end_all_post))
        .route("/account/sessions/{sid}/end", web::post().to(routes::dashboard::session_end_post))
        .route("/account/activity", web::get().to(routes::dashboard::activity_get))
        .route("/account/password/remove", web::post().to(routes::account::password_remove_post))
        .route("/clients/{id}/logo", web::get().to(routes::admin::logo_get))
        .route("/enrol", web::get().to(routes::admin::enrol_get))
        .route("/enrol", web::post().to(routes::admin::enrol_post))
        .service(routes::admin::scope())
        .route("/static/tessera.css", web::get().to(routes::assets::stylesheet_get))
        .route("/static/passkey.js", web::get().to(routes::assets::passkey_script_get))
        .default_service(web::to(routes::errors::not_found))
}
