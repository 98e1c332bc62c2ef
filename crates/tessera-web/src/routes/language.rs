//! The language switch: remembers the citizen's choice in a cookie and returns
//! to the page they were on. Works without JavaScript (a plain link).

use super::LANGUAGE_COOKIE;
use crate::i18n::Locale;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct LanguageQuery {
    lang: Option<String>,
    #[serde(rename = "return")]
    return_to: Option<String>,
}

pub async fn language_get(query: web::Query<LanguageQuery>, state: web::Data<AppState>) -> HttpResponse {
    let target = query.return_to.as_deref().filter(|p| is_local_path(p)).unwrap_or("/");
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, target));
    if let Some(locale) = query.lang.as_deref().and_then(Locale::from_tag) {
        let cookie = Cookie::build(state.settings.cookie_name(LANGUAGE_COOKIE), locale.tag())
            .path("/")
            .http_only(true)
            .secure(state.settings.secure_cookies())
            .same_site(SameSite::Lax)
            .max_age(Duration::days(365))
            .finish();
        response.cookie(cookie);
    }
    response.finish()
}

/// Only a path on this site: `/...`, never `//host`, `/\host` or anything with a
/// scheme or control characters. Everything else returns to the home page, so the
/// switch cannot be used as an open redirect.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control() || c == '\\')
        && path.len() <= 2048
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_local_paths_are_followed() {
        for ok in ["/", "/authorize?client_id=a&x=1", "/account/passkeys"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in
            ["", "https://evil.example", "//evil.example", "/\\evil.example", "/a\\b", "/a\r\nSet-Cookie: x", "evil"]
        {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
