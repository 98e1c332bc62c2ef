//! Building the service crates' handles at start, and the commands that use them.

use crate::cli::KeysCommand;
use crate::config::Settings;
use crate::keyfile;
use anyhow::Context;
use tessera_crypto::MasterKey;
use tessera_crypto::{PasswordHasher, Purpose};
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::KeyManager;
use tessera_oidc::jwt::Jwt;
use tessera_oidc::service::{Lifetimes, Oidc, OidcParts};
use tessera_oidc::sso::{SsoPolicy, SsoSessions};
use tessera_passkey::{PasskeyService, PasswordService, SignInService, SignInThrottle, SignupService, ThrottlePolicy};
use tessera_session::AnySessionStore;
use tessera_store::Db;

/// How many Argon2id hashes may run at once: one per core, at most 4. Each takes 19 MiB
/// and a core for ~16 ms; more than one per core only thrashes the cache (measured in
/// docs/performance.md: 17.8 ms a hash with 4 on one core against 15.7 ms alone).
fn concurrent_password_hashes() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// The service handles the web layer calls.
pub struct Services {
    pub keys: KeyManager,
    pub oidc: Oidc,
    pub signin: SignInService,
    pub signup: SignupService,
    pub passkeys: PasskeyService,
    pub passwords: PasswordService,
}

/// Builds every service from the database, the session store and the master key.
pub async fn build(
    settings: &Settings,
    db: &Db,
    sessions: &AnySessionStore,
    master_key: &MasterKey,
) -> anyhow::Result<Services> {
    let keys = signing_keys(db, master_key).await?;
    let personal_data = master_key.cipher(Purpose::PersonalData).context("cannot derive the personal-data cipher")?;
    let pairwise = master_key.mac_key(Purpose::PairwiseSubject).context("cannot derive the pairwise-subject key")?;
    let hasher = tokio::task::spawn_blocking(|| PasswordHasher::new(concurrent_password_hashes()))
        .await
        .context("password hasher set-up failed")?
        .context("password hasher set-up failed")?;
    let passwords = PasswordService::new(db.clone(), hasher);
    let throttle = SignInThrottle::new(sessions.clone(), ThrottlePolicy::default());
    let oidc = Oidc::new(OidcParts {
        db: db.clone(),
        store: sessions.clone(),
        sso: SsoSessions::new(sessions.clone(), SsoPolicy::default()),
        jwt: Jwt::new(keys.clone()),
        issuer: crate::config::issuer_string(&settings.issuer),
        pairwise,
        personal_data: personal_data.clone(),
        lifetimes: Lifetimes::default(),
    });
    let passkeys = passkey_service(settings, db, sessions, throttle.clone())?;
    Ok(Services {
        keys,
        oidc,
        signin: SignInService::new(db.clone(), passwords.clone(), throttle),
        signup: SignupService::new(db.clone(), passwords.clone(), personal_data),
        passkeys,
        passwords,
    })
}

/// The WebAuthn relying party is the issuer: its host is the RP ID (so passkeys work on
/// every path of the issuer) and its origin the only origin allowed.
fn passkey_service(
    settings: &Settings,
    db: &Db,
    sessions: &AnySessionStore,
    throttle: SignInThrottle,
) -> anyhow::Result<PasskeyService> {
    let issuer = &settings.issuer;
    let rp_id = issuer.host_str().context("the issuer has no host")?;
    let origin = url::Url::parse(&issuer.origin().ascii_serialization())
        .with_context(|| format!("the issuer {issuer} has no origin usable for passkeys"))?;
    PasskeyService::new(db.clone(), sessions.clone(), throttle, rp_id, &origin, "Tessera")
        .with_context(|| format!("passkeys cannot work with the issuer {issuer} (use a host name, not an IP address)"))
}

/// Makes sure the signing keys exist (created at first start) and returns their manager.
pub async fn signing_keys(db: &Db, master_key: &MasterKey) -> anyhow::Result<KeyManager> {
    let keys = KeyManager::new(db.clone(), master_key).context("cannot derive the signing-key cipher")?;
    keys.ensure(SystemClock.now()).await.context("cannot prepare the signing keys")?;
    Ok(keys)
}

/// `tessera keys list|rotate`.
pub async fn keys_command(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let master_key = keyfile::load_master_key(&settings.master_key)?;
    let db = crate::startup::connect_database(settings).await?;
    db.migrate().await.context("database migrations failed")?;
    let keys = signing_keys(&db, &master_key).await?;
    match command {
        KeysCommand::List => {
            println!("{:<44} {:<6} {:<8} created", "kid", "alg", "state");
            for key in keys.list().await? {
                println!(
                    "{:<44} {:<6} {:<8} {}",
                    key.kid.as_str(),
                    key.alg,
                    key.state.as_str(),
                    key.created_at.as_secs()
                );
            }
        }
        KeysCommand::Rotate => {
            let now = SystemClock.now();
            let rotations = keys.rotate(now).await.context("key rotation failed")?;
            for rotation in &rotations {
                println!("{}: active {} (next {})", rotation.alg.as_str(), rotation.active, rotation.next);
            }
            let detail = serde_json::json!({
                "rotations": rotations.iter().map(|r| serde_json::json!({ "alg": r.alg.as_str(), "active": r.active, "next": r.next })).collect::<Vec<_>>(),
            });
            let event = tessera_domain::AuditEvent {
                actor: Some("cli".to_owned()),
                detail: detail.to_string(),
                ..tessera_domain::AuditEvent::new(tessera_domain::AuditKind::KEY_ROTATED, now)
            };
            db.run(move |conn| tessera_store::audit::append(conn, &event))
                .await
                .context("could not audit the rotation")?;
        }
    }
    Ok(())
}
