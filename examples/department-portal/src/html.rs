//! The portal's pages: small hand-written HTML, English and Traditional Chinese side by side.
//! Every value that did not come from this file goes through [`escape`].

use chrono::{DateTime, Utc};

use crate::claims::{CitizenName, ClaimRow, utc};
use crate::config::Department;
use crate::error::ErrorView;
use crate::oidc::SignedIn;

pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The same text in English and Chinese, as two `lang`-tagged spans (escaped).
fn bi(en: &str, zh: &str) -> String {
    format!(r#"<span lang="en">{}</span> <span lang="zh-Hant-HK" class="zh">{}</span>"#, escape(en), escape(zh))
}

fn layout(department: &Department, title: (&str, &str), main: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title_en} · {title_zh} — {dept_en} {dept_zh}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header class="masthead">
<a class="home" href="/"><span class="crest" aria-hidden="true"></span>
<span class="names"><span lang="en">{dept_en}</span><span lang="zh-Hant-HK" class="zh">{dept_zh}</span></span></a>
</header>
<main>
{main}
</main>
<footer>{footer}</footer>
</body>
</html>
"#,
        title_en = escape(title.0),
        title_zh = escape(title.1),
        dept_en = escape(&department.en),
        dept_zh = escape(&department.zh),
        footer = bi(
            "A fictional department: an example application that signs in through Tessera with OpenID Connect.",
            "虛構部門：以 OpenID Connect 經 Tessera 登入的示範應用程式。"
        ),
    )
}

/// `/`: a welcome and either the citizen's name or the sign-in button.
pub fn home_page(department: &Department, signed_in: Option<&CitizenName>, signed_out: bool) -> String {
    let mut main = String::new();
    if signed_out {
        main.push_str(&format!(r#"<p class="notice" role="status">{}</p>"#, bi("You have signed out.", "你已登出。")));
    }
    main.push_str(&format!(
        r#"<section class="card"><h1>{}</h1><p>{}</p>"#,
        bi("Online services", "網上服務"),
        bi(
            &format!("Welcome to the online services of the {}.", department.en),
            &format!("歡迎使用{}網上服務。", department.zh)
        ),
    ));
    match signed_in {
        Some(name) => main.push_str(&format!(
            r#"<p class="citizen">{}</p><p>{}</p><p><a class="button" href="/me">{}</a></p>"#,
            name_html(name),
            bi("You are signed in with Tessera.", "你已透過 Tessera 登入。"),
            bi("What we received", "我們收到的資料"),
        )),
        None => main.push_str(&format!(
            r#"<p>{}</p><p><a class="button" href="/login">{}</a></p>"#,
            bi(
                "Sign in with your Tessera digital identity to use our services.",
                "請以你的 Tessera 數碼身分登入，使用本部門的服務。"
            ),
            bi("Sign in with Tessera", "以 Tessera 登入"),
        )),
    }
    main.push_str("</section>");
    layout(department, ("Home", "主頁"), &main)
}

/// `/me`: everything the department received from Tessera, and the token buttons.
pub fn me_page(department: &Department, session: &SignedIn, refreshed: bool, now: DateTime<Utc>) -> String {
    let tokens = &session.tokens;
    let expiry = match tokens.expires_at {
        Some(at) => {
            let minutes = (at - now).num_minutes();
            format!("{} {}", escape(&utc(&at)), bi(&format!("(in {minutes} min)"), &format!("（{minutes} 分鐘後）")))
        }
        None => bi("Not stated by Tessera", "Tessera 未有註明"),
    };
    let mut main = String::new();
    if refreshed {
        main.push_str(&format!(
            r#"<p class="notice" role="status">{}</p>"#,
            bi("Tokens refreshed. The new expiry is shown below.", "權杖已更新，新的到期時間見下。")
        ));
    }
    main.push_str(&format!(
        r#"<section class="card"><h1>{}</h1><p class="citizen">{}</p>"#,
        bi("Signed in as", "已登入身分"),
        name_html(&session.name),
    ));
    main.push_str(r#"<dl class="facts">"#);
    let mut fact = |label: String, value: String| main.push_str(&format!("<dt>{label}</dt><dd>{value}</dd>"));
    fact(bi("Subject (sub)", "主體識別碼 (sub)"), format!("<code>{}</code>", escape(session.subject.as_str())));
    fact(bi("Signed in at", "登入時間"), escape(&utc(&session.signed_in_at)));
    fact(bi("Access token expires", "存取權杖到期時間"), expiry);
    fact(
        bi("Refresh token", "更新權杖"),
        if tokens.refresh.is_some() { bi("Issued", "已發出") } else { bi("Not issued", "未有發出") },
    );
    if let Some(scopes) = &tokens.scopes {
        let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        fact(bi("Granted scopes", "獲授權範圍"), format!("<code>{}</code>", escape(&scopes.join(" "))));
    }
    if let Some(at) = session.refreshed_at {
        fact(bi("Last refreshed", "上次更新"), escape(&utc(&at)));
    }
    main.push_str(r#"</dl><div class="actions">"#);
    if tokens.refresh.is_some() {
        main.push_str(&format!(
            r#"<form method="post" action="/refresh"><button type="submit">{}</button></form>"#,
            bi("Refresh tokens", "更新權杖")
        ));
    }
    main.push_str(&format!(
        r#"<form method="post" action="/logout"><button type="submit" class="secondary">{}</button></form></div></section>"#,
        bi("Sign out", "登出")
    ));
    main.push_str(&claims_card(("ID token claims", "身分權杖聲明"), &session.id_claims));
    main.push_str(&claims_card(("UserInfo claims", "用戶資料聲明"), &session.userinfo));
    layout(department, ("What we received", "我們收到的資料"), &main)
}

fn claims_card(title: (&str, &str), rows: &[ClaimRow]) -> String {
    let mut html = format!(
        r#"<section class="card"><h2>{}</h2><table class="claims"><thead><tr><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
        bi(title.0, title.1),
        bi("Claim", "聲明"),
        bi("Value", "值"),
    );
    for row in rows {
        html.push_str(&format!(
            "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td></tr>",
            escape(&row.name),
            escape(&row.value)
        ));
    }
    if rows.is_empty() {
        html.push_str(&format!(r#"<tr><td colspan="2">{}</td></tr>"#, bi("None", "沒有")));
    }
    html.push_str("</tbody></table></section>");
    html
}

fn name_html(name: &CitizenName) -> String {
    if name.is_empty() {
        return bi("Citizen (no name shared)", "市民（未有提供姓名）");
    }
    let mut html = String::new();
    if let Some(en) = &name.en {
        html.push_str(&format!(r#"<span lang="en">{}</span> "#, escape(en)));
    }
    if let Some(zh) = &name.zh {
        html.push_str(&format!(r#"<span lang="zh-Hant-HK" class="zh">{}</span>"#, escape(zh)));
    }
    html
}

/// The error page: the message in both languages, Tessera's own description if any, and the code.
pub fn error_page(department: &Department, view: &ErrorView) -> String {
    let detail = match &view.provider_detail {
        Some(detail) => {
            format!(r#"<p>{}</p><blockquote>{}</blockquote>"#, bi("Tessera said:", "Tessera 的說明："), escape(detail))
        }
        None => String::new(),
    };
    let main = format!(
        r#"<section class="card error"><h1>{}</h1><p lang="en">{}</p><p lang="zh-Hant-HK" class="zh">{}</p>{detail}<p class="code">{} <code>{}</code></p><p><a class="button" href="/">{}</a></p></section>"#,
        bi("Something went wrong", "發生錯誤"),
        escape(&view.en),
        escape(&view.zh),
        bi("Error code:", "錯誤代碼："),
        escape(view.code),
        bi("Back to the home page", "返回主頁"),
    );
    layout(department, ("Error", "錯誤"), &main)
}

/// 404.
pub fn not_found_page(department: &Department) -> String {
    let main = format!(
        r#"<section class="card"><h1>{}</h1><p><a class="button" href="/">{}</a></p></section>"#,
        bi("Page not found", "找不到網頁"),
        bi("Back to the home page", "返回主頁"),
    );
    layout(department, ("Not found", "找不到網頁"), &main)
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;

    use super::*;

    fn department() -> Department {
        Department { en: "Transport <Department>".into(), zh: "運輸署".into() }
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn pages_escape_what_they_show_and_load_no_scripts() {
        let view = ErrorView {
            status: StatusCode::BAD_REQUEST,
            code: "authorization_error",
            en: "Tessera answered: <script>".into(),
            zh: "回覆：<script>".into(),
            provider_detail: Some("<img src=x onerror=alert(1)>".into()),
        };
        let page = error_page(&department(), &view);
        assert!(!page.contains("<script") && !page.contains("<img"));
        assert!(page.contains("Transport &lt;Department&gt;") && page.contains("運輸署"));
        assert!(page.contains(r#"href="/style.css""#));

        let home = home_page(&department(), None, true);
        assert!(home.contains(r#"href="/login""#) && home.contains("以 Tessera 登入"));
        assert!(home.contains("You have signed out."));
        let name = CitizenName { en: Some("CHAN <Tai Man>".into()), zh: Some("陳大文".into()) };
        let home = home_page(&department(), Some(&name), false);
        assert!(home.contains("CHAN &lt;Tai Man&gt;") && home.contains("陳大文") && home.contains(r#"href="/me""#));
        assert!(!home.contains("/login"));
    }
}
