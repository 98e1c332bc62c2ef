//! The master key that encrypts signing keys and identifying fields at rest.
//! On the embedded default it is generated into the data directory on first start,
//! readable by the owner only (mode 0600).

use crate::config::MasterKeySource;
use anyhow::{Context, bail};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use tessera_crypto::MasterKey;

/// Loads (or on first start generates) the master key.
pub fn load_master_key(source: &MasterKeySource) -> anyhow::Result<MasterKey> {
    match source {
        MasterKeySource::Inline(value) => {
            MasterKey::from_base64url(value.expose()).context("setting `crypto.master_key` is not a valid key")
        }
        MasterKeySource::File(path) => read_key_file(path, false),
        MasterKeySource::Generated(path) if path.exists() => read_key_file(path, true),
        MasterKeySource::Generated(path) => generate_key_file(path),
    }
}

fn read_key_file(path: &Path, must_be_private: bool) -> anyhow::Result<MasterKey> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read the master key file {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        if must_be_private {
            bail!(
                "the master key file {} can be read by other users; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
        tracing::warn!(path = %path.display(), "the master key file can be read by other users");
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the master key file {}", path.display()))?;
    MasterKey::from_base64url(text.trim())
        .with_context(|| format!("the master key file {} does not hold a valid key", path.display()))
}

fn generate_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let key = MasterKey::generate().context("cannot generate a master key")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the master key file {}", path.display()))?;
    writeln!(file, "{}", key.to_base64url())
        .with_context(|| format!("cannot write the master key file {}", path.display()))?;
    file.sync_all().with_context(|| format!("cannot write the master key file {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new master key; back it up: without it encrypted data cannot be read");
    Ok(key)
}

/// Creates a directory (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn first_start_generates_a_private_key_and_later_starts_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/master.key");
        let source = MasterKeySource::Generated(path.clone());
        let first = load_master_key(&source).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let second = load_master_key(&source).unwrap();
        assert_eq!(first.to_base64url(), second.to_base64url());
    }

    #[test]
    fn a_readable_generated_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        load_master_key(&MasterKeySource::Generated(path.clone())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_master_key(&MasterKeySource::Generated(path)).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_garbled_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "not-a-key").unwrap();
        let err = load_master_key(&MasterKeySource::File(path)).unwrap_err().to_string();
        assert!(err.contains("does not hold a valid key"), "{err}");
    }
}
