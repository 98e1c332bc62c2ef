//! Building the service crates' handles at start, and the commands that use them.

use crate::cli::KeysCommand;
use crate::config::Settings;
use crate::keyfile;
use anyhow::Context;
use tessera_crypto::MasterKey;
use tessera_domain::{Clock, SystemClock};
use tessera_oidc::KeyManager;
use tessera_store::Db;

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
            for rotation in keys.rotate(SystemClock.now()).await.context("key rotation failed")? {
                println!("{}: active {} (next {})", rotation.alg.as_str(), rotation.active, rotation.next);
            }
        }
    }
    Ok(())
}
