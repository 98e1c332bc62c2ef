//! `tessera client add`: registers a department's client from the command line, for
//! operators' scripts (the admin page comes later). The secret is printed once and
//! stored only as a digest.

use anyhow::Context;
use tessera_domain::{Clock, SubjectType, SystemClock, TokenEndpointAuthMethod};
use tessera_oidc::clients::{NewClient, RegisterError, register};

use crate::config::Settings;

/// `tessera client add`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientAddArgs {
    /// The department's name in English, e.g. "Transport Department".
    #[arg(long)]
    pub department_en: String,
    /// The department's name in Chinese, e.g. "運輸署".
    #[arg(long, default_value = "")]
    pub department_zh: String,
    /// The service's name, shown on the consent page, e.g. "Driving licence renewal".
    #[arg(long)]
    pub name: String,
    /// The service's name in Chinese, e.g. "續領駕駛執照" (optional).
    #[arg(long, default_value = "")]
    pub name_zh: String,
    /// A redirect URI, matched exactly (repeat for several). https, or http on localhost.
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// A post-logout redirect URI, matched exactly (repeat for several).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Scopes the client may ask for (space- or comma-separated, or repeated).
    #[arg(long = "scope", default_value = "openid profile email", value_delimiter = ',')]
    pub scopes: Vec<String>,
    /// client_secret_basic, client_secret_post, or none (a public client; PKCE is then required).
    #[arg(long, default_value = "client_secret_basic")]
    pub auth_method: String,
    /// Register without PKCE (only for confidential clients that cannot send it).
    #[arg(long)]
    pub no_pkce: bool,
    /// RS256, ES256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    pub id_token_alg: String,
    /// pairwise (a different `sub` per department, the default) or public.
    #[arg(long, default_value = "pairwise")]
    pub subject_type: String,
    /// The sector pairwise subjects are computed for (default: the redirect URIs' host).
    #[arg(long)]
    pub sector: Option<String>,
    /// Use this client id instead of a generated one.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Print the result as one JSON object: {"client_id": "...", "client_secret": "..."}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tessera client add`.
pub async fn client_add(settings: &Settings, args: ClientAddArgs) -> anyhow::Result<()> {
    let method: TokenEndpointAuthMethod = args
        .auth_method
        .parse()
        .map_err(|_| anyhow::anyhow!("--auth-method must be client_secret_basic, client_secret_post or none"))?;
    let subject_type: SubjectType =
        args.subject_type.parse().map_err(|_| anyhow::anyhow!("--subject-type must be pairwise or public"))?;
    let scopes: Vec<String> = args.scopes.iter().flat_map(|s| s.split_whitespace()).map(str::to_owned).collect();
    let new = NewClient {
        client_id: args.client_id,
        department_en: args.department_en,
        department_zh: args.department_zh,
        name: args.name,
        name_zh: args.name_zh,
        redirect_uris: args.redirect_uris,
        post_logout_redirect_uris: args.post_logout_redirect_uris,
        allowed_scopes: scopes,
        token_endpoint_auth_method: method,
        subject_type,
        sector_identifier: args.sector,
        require_pkce: !args.no_pkce,
        id_token_alg: args.id_token_alg,
    };
    let db = crate::startup::connect_database(settings).await?;
    db.migrate().await.context("database migrations failed")?;
    let (client, secret) = match register(&db, new, SystemClock.now()).await {
        Ok(registered) => registered,
        Err(RegisterError::Invalid(problems)) => {
            let text = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
            anyhow::bail!("cannot register the client: {text}");
        }
        Err(e) => return Err(anyhow::Error::new(e).context("cannot register the client")),
    };
    if args.json {
        let out = serde_json::json!({
            "client_id": client.id.as_str(),
            "client_secret": secret,
            "redirect_uris": client.redirect_uris,
            "token_endpoint_auth_method": client.token_endpoint_auth_method.as_str(),
        });
        println!("{out}");
    } else {
        println!("registered client {} for {}", client.id.as_str(), client.department_en);
        match secret {
            Some(secret) => println!("client secret (shown once, store it now): {secret}"),
            None => println!("public client: no secret (PKCE required)"),
        }
    }
    Ok(())
}
