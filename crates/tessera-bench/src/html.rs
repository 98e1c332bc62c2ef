//! Just enough HTML and cookie handling to walk Tessera's forms like a browser.

/// The `value` of the `<input>` whose `name` is `name`, if any (first match).
pub fn input_value(html: &str, name: &str) -> Option<String> {
    input_values(html, name).into_iter().next()
}

/// The `value`s of every `<input>` whose `name` is `name`, in document order.
pub fn input_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!("name=\"{name}\"");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<input") {
        let tag_and_after = &rest[start..];
        let end = tag_and_after.find('>').unwrap_or(tag_and_after.len());
        let tag = &tag_and_after[..end];
        if tag.contains(&needle)
            && let Some(value) = attribute(tag, "value")
        {
            found.push(unescape(value));
        }
        rest = &tag_and_after[end..];
    }
    found
}

fn attribute<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let needle = format!(" {attr}=\"");
    let from = tag.find(&needle)? + needle.len();
    let len = tag[from..].find('"')?;
    Some(&tag[from..from + len])
}

fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// A browser's cookie jar for one origin: name → value, no attributes.
#[derive(Debug, Clone, Default)]
pub struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    /// Applies one `Set-Cookie` header: sets the cookie, or removes it when it is emptied or
    /// expired with `Max-Age=0`.
    pub fn apply(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { return };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        let expired = parts.any(|attr| attr.trim().eq_ignore_ascii_case("max-age=0"));
        self.cookies.retain(|(n, _)| n != name);
        if !expired && !value.is_empty() {
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    /// The value of a cookie.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The `Cookie` request header, or `None` when the jar is empty.
    pub fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        Some(self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn finds_hidden_inputs() {
        let html = r#"<form><input type="hidden" name="csrf" value="abc-_1">
            <input type="hidden" name="authz" value="Q&amp;R">
            <input type="checkbox" id="claim-email" name="claim" value="email" checked>
            <input type="checkbox" id="claim-name" name="claim" value="name"></form>"#;
        assert_eq!(input_value(html, "csrf").as_deref(), Some("abc-_1"));
        assert_eq!(input_value(html, "authz").as_deref(), Some("Q&R"));
        assert_eq!(input_values(html, "claim"), vec!["email".to_owned(), "name".to_owned()]);
        assert_eq!(input_value(html, "missing"), None);
    }

    #[test]
    fn jar_sets_replaces_and_removes() {
        let mut jar = Jar::default();
        assert_eq!(jar.header(), None);
        jar.apply("tessera_csrf=one; Path=/; HttpOnly; SameSite=Lax");
        jar.apply("tessera_sid=two; Path=/");
        assert_eq!(jar.header().as_deref(), Some("tessera_csrf=one; tessera_sid=two"));
        jar.apply("tessera_csrf=three; Path=/");
        assert_eq!(jar.get("tessera_csrf"), Some("three"));
        jar.apply("tessera_sid=; Path=/; Max-Age=0");
        assert_eq!(jar.get("tessera_sid"), None);
        assert_eq!(jar.header().as_deref(), Some("tessera_csrf=three"));
    }
}
