//! Page rendering: tera templates embedded in the binary, with the request's
//! message catalog in scope as `t`.

use crate::i18n::{Catalogs, Locale};
use tera::{Context, Tera};

/// The templates, from the repository's `templates/` folder, compiled into the binary so
/// `tessera` runs from any directory.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../templates/base.html")),
    ("home.html", include_str!("../../../templates/home.html")),
    ("error.html", include_str!("../../../templates/error.html")),
];

#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    #[error("templates do not compile: {0}")]
    Templates(String),
    #[error(transparent)]
    Catalog(#[from] crate::i18n::CatalogError),
}

/// Templates and catalogs, built once at start.
#[derive(Debug)]
pub struct Pages {
    tera: Tera,
    catalogs: Catalogs,
}

impl Pages {
    pub fn load() -> Result<Pages, PagesError> {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES.iter().copied()).map_err(|e| PagesError::Templates(error_chain(&e)))?;
        tera.autoescape_on(vec![".html"]);
        Ok(Pages { tera, catalogs: Catalogs::load()? })
    }

    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }

    /// Renders `template` in `locale`. `path` is the request path (for the language
    /// switch to return to); `context` holds the page's own values.
    pub fn render(
        &self,
        template: &str,
        locale: Locale,
        path: &str,
        mut context: Context,
    ) -> Result<String, tera::Error> {
        context.insert("t", self.catalogs.get(locale));
        context.insert("locale", locale.tag());
        context.insert("other_locale", locale.other().tag());
        // For the language switch's `return=` parameter (tera's urlencode filter is not built in).
        let encoded: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        context.insert("current_path_encoded", &encoded);
        self.tera.render(template, &context)
    }
}

/// A tera error with its causes on one line (tera hides the useful part in `source`).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_template_renders_in_both_languages() {
        let pages = Pages::load().unwrap();
        for locale in Locale::ALL {
            let mut ctx = Context::new();
            ctx.insert("heading", "h");
            ctx.insert("message", "m");
            for (name, _) in TEMPLATES {
                let html = pages.render(name, locale, "/", ctx.clone()).unwrap();
                assert!(html.contains(&format!("lang=\"{}\"", locale.tag())), "{name} in {locale:?}");
            }
        }
    }

    #[test]
    fn the_path_is_escaped_in_the_language_switch() {
        let pages = Pages::load().unwrap();
        let html = pages.render("home.html", Locale::En, "/\"><script>", Context::new()).unwrap();
        assert!(!html.contains("<script>"));
    }
}
