//! Languages: English and Traditional Chinese (Hong Kong), from message catalogs.
//!
//! The locale of a request comes from, in order: the OIDC `ui_locales` parameter
//! (a space-separated list, first supported wins), the language cookie set by the
//! language switch, then the browser's `Accept-Language` (highest q first).
//! Anything else falls back to English.

use std::collections::BTreeMap;

/// A language Tessera's pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    En,
    ZhHk,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhHk];

    /// The BCP 47 tag used in URLs, cookies and `lang` attributes.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhHk => "zh-HK",
        }
    }

    /// The other language, for the language switch.
    pub fn other(self) -> Locale {
        match self {
            Locale::En => Locale::ZhHk,
            Locale::ZhHk => Locale::En,
        }
    }

    /// Matches one language tag against the supported locales. Chinese in Traditional
    /// script (zh-HK, zh-TW, zh-MO, zh-Hant, bare zh) maps to zh-HK; Simplified Chinese
    /// (zh-CN, zh-SG, zh-Hans) is not offered, so it does not match and the next
    /// preference is tried.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split('-');
        match parts.next() {
            Some("en") => Some(Locale::En),
            Some("zh") => {
                let rest: Vec<&str> = parts.collect();
                let simplified = rest.iter().any(|p| matches!(*p, "hans" | "cn" | "sg" | "my"));
                (!simplified).then_some(Locale::ZhHk)
            }
            _ => None,
        }
    }

    /// The first supported locale in an OIDC `ui_locales` value.
    pub fn from_ui_locales(value: &str) -> Option<Locale> {
        value.split_ascii_whitespace().find_map(Locale::from_tag)
    }

    /// The best supported locale in an `Accept-Language` header (RFC 9110 §12.5.4).
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut prefs: Vec<(u16, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, item)| {
                let mut fields = item.split(';');
                let tag = fields.next()?.trim();
                let q = fields.find_map(|f| f.trim().strip_prefix("q=")).map_or(Some(1000), parse_qvalue)?;
                (q > 0 && !tag.is_empty()).then_some((q, i, tag))
            })
            .collect();
        // Highest q first; the header's order breaks ties.
        prefs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        prefs.into_iter().find_map(|(_, _, tag)| Locale::from_tag(tag))
    }

    /// Resolves the locale of a request from its three sources, in priority order.
    pub fn resolve(ui_locales: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>) -> Locale {
        ui_locales
            .and_then(Locale::from_ui_locales)
            .or_else(|| cookie.and_then(Locale::from_tag))
            .or_else(|| accept_language.and_then(Locale::from_accept_language))
            .unwrap_or(Locale::En)
    }
}

/// A q-value as thousandths (0..=1000); `None` when malformed.
fn parse_qvalue(q: &str) -> Option<u16> {
    let value: f32 = q.trim().parse().ok()?;
    (0.0..=1.0).contains(&value).then(|| (value * 1000.0).round() as u16)
}

/// One language's messages, keyed by message id.
pub type Catalog = BTreeMap<String, String>;

/// The message catalogs of every supported language, embedded in the binary.
#[derive(Debug, Clone)]
pub struct Catalogs {
    en: Catalog,
    zh_hk: Catalog,
}

/// The catalogs' sources, in the repository's `locales/` folder.
const EN_SOURCE: &str = include_str!("../../../locales/en.toml");
const ZH_HK_SOURCE: &str = include_str!("../../../locales/zh-HK.toml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("message catalog {locale} is not valid TOML of string values: {reason}")]
    Malformed { locale: &'static str, reason: String },
    #[error("message catalog {locale} lacks {missing:?}, which the other catalog has")]
    Incomplete { locale: &'static str, missing: Vec<String> },
}

impl Catalogs {
    /// Parses the embedded catalogs and checks that each language has every message.
    pub fn load() -> Result<Catalogs, CatalogError> {
        let en = parse(Locale::En, EN_SOURCE)?;
        let zh_hk = parse(Locale::ZhHk, ZH_HK_SOURCE)?;
        check_same_keys(Locale::ZhHk, &zh_hk, &en)?;
        check_same_keys(Locale::En, &en, &zh_hk)?;
        Ok(Catalogs { en, zh_hk })
    }

    pub fn get(&self, locale: Locale) -> &Catalog {
        match locale {
            Locale::En => &self.en,
            Locale::ZhHk => &self.zh_hk,
        }
    }

    /// One message, or its id when missing (never happens after `load` succeeded).
    pub fn message<'a>(&'a self, locale: Locale, id: &'a str) -> &'a str {
        self.get(locale).get(id).map_or(id, String::as_str)
    }
}

fn parse(locale: Locale, source: &str) -> Result<Catalog, CatalogError> {
    toml::from_str::<Catalog>(source)
        .map_err(|e| CatalogError::Malformed { locale: locale.tag(), reason: e.message().to_owned() })
}

fn check_same_keys(locale: Locale, this: &Catalog, other: &Catalog) -> Result<(), CatalogError> {
    let missing: Vec<String> = other.keys().filter(|k| !this.contains_key(*k)).cloned().collect();
    if missing.is_empty() { Ok(()) } else { Err(CatalogError::Incomplete { locale: locale.tag(), missing }) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_catalogs_load_with_the_same_messages() {
        let c = Catalogs::load().unwrap();
        assert_eq!(c.get(Locale::En).keys().collect::<Vec<_>>(), c.get(Locale::ZhHk).keys().collect::<Vec<_>>());
        assert_eq!(c.message(Locale::ZhHk, "lang_attr"), "zh-HK");
        assert_eq!(c.message(Locale::En, "lang_attr"), "en");
    }

    #[test]
    fn a_missing_message_is_reported_by_name() {
        let en = parse(Locale::En, "a = \"x\"\nb = \"y\"").unwrap();
        let zh = parse(Locale::ZhHk, "a = \"x\"").unwrap();
        let err = check_same_keys(Locale::ZhHk, &zh, &en).unwrap_err();
        assert!(err.to_string().contains("\"b\""), "{err}");
    }

    #[test]
    fn tags_match_traditional_chinese_and_english_only() {
        for tag in ["zh-HK", "zh-hk", "zh-Hant", "zh-Hant-HK", "zh-TW", "zh_MO", "zh"] {
            assert_eq!(Locale::from_tag(tag), Some(Locale::ZhHk), "{tag}");
        }
        for tag in ["en", "en-GB", "EN-us"] {
            assert_eq!(Locale::from_tag(tag), Some(Locale::En), "{tag}");
        }
        for tag in ["zh-CN", "zh-Hans", "zh-Hans-HK", "fr", "", "*"] {
            assert_eq!(Locale::from_tag(tag), None, "{tag}");
        }
    }

    #[test]
    fn ui_locales_takes_the_first_supported() {
        assert_eq!(Locale::from_ui_locales("fr-CA zh-HK en"), Some(Locale::ZhHk));
        assert_eq!(Locale::from_ui_locales("de fr"), None);
    }

    #[test]
    fn accept_language_honours_q_values() {
        assert_eq!(Locale::from_accept_language("en;q=0.5, zh-HK;q=0.9"), Some(Locale::ZhHk));
        assert_eq!(Locale::from_accept_language("zh-CN, zh;q=0.8, en;q=0.9"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("zh-HK;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("zh-TW,zh;q=0.9,en-US;q=0.8"), Some(Locale::ZhHk));
        assert_eq!(Locale::from_accept_language("fr;q=abc, de"), None);
    }

    #[test]
    fn priority_is_ui_locales_then_cookie_then_header() {
        assert_eq!(Locale::resolve(Some("zh-HK"), Some("en"), Some("en")), Locale::ZhHk);
        assert_eq!(Locale::resolve(Some("fr"), Some("zh-HK"), Some("en")), Locale::ZhHk);
        assert_eq!(Locale::resolve(None, Some("bogus"), Some("zh-HK")), Locale::ZhHk);
        assert_eq!(Locale::resolve(None, None, None), Locale::En);
    }
}
