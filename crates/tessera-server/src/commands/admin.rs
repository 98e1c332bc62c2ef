//! `tessera admin invite`: the first operator (and any later one) gets a one-time
//! enrolment link that creates their account with a passkey. No password is involved, and
//! the token of the link is stored only as a digest.

use anyhow::Context;
use tessera_domain::{Clock, SystemClock};
use tessera_passkey::enrolment::{self, EnrolmentError};

use crate::config::Settings;

/// `tessera admin invite`.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminInviteArgs {
    /// The new operator's username (3 to 64 lower-case letters, digits, `.`, `-`, `_`).
    #[arg(long)]
    pub username: String,
    /// The new operator's name in English.
    #[arg(long)]
    pub name: String,
    /// Print the result as one JSON object: {"username": "...", "link": "...", "expires_at": ...}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tessera admin invite`.
pub async fn admin_invite(settings: &Settings, args: AdminInviteArgs) -> anyhow::Result<()> {
    let db = crate::startup::connect_database(settings).await?;
    db.migrate().await.context("database migrations failed")?;
    let username = args.username.trim().to_lowercase();
    let invitation = match enrolment::invite(&db, &username, &args.name, None, SystemClock.now()).await {
        Ok(invitation) => invitation,
        Err(EnrolmentError::Taken) => anyhow::bail!("the username {username} is already in use"),
        Err(e @ (EnrolmentError::Username(_) | EnrolmentError::Name)) => anyhow::bail!("{e}"),
        Err(e) => return Err(e).context("could not make the invitation"),
    };
    let base = crate::config::issuer_string(&settings.issuer);
    let link = format!("{base}/enrol?token={}", invitation.token);
    if args.json {
        let out = serde_json::json!({
            "username": invitation.enrolment.username.as_str(),
            "link": link,
            "expires_at": invitation.enrolment.expires_at.as_secs(),
        });
        println!("{out}");
    } else {
        println!("Operator invitation for {}: open this link once, within 24 hours,", invitation.enrolment.username);
        println!("in the browser where the operator will create their passkey:");
        println!();
        println!("  {link}");
    }
    Ok(())
}
