//! The citizen's own passkeys: list, rename, remove.

use diesel::Connection as _;
use serde_json::json;
use tessera_domain::{AuditEvent, AuditKind, CitizenId, PasskeyId, PasskeyRecord, UnixTime};
use tessera_store::{StoreError, audit, citizens, credentials, passkeys};

use super::{PasskeyError, PasskeyService, normalise_passkey_name};

/// Why a removal was rolled back.
enum Abort {
    NotYours,
    LastCredential,
    Store(StoreError),
}

impl From<StoreError> for Abort {
    fn from(e: StoreError) -> Self {
        Abort::Store(e)
    }
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Store(e.into())
    }
}

impl PasskeyService {
    /// The citizen's passkeys, oldest first.
    ///
    /// # Errors
    /// [`PasskeyError::Store`].
    pub async fn list(&self, citizen_id: CitizenId) -> Result<Vec<PasskeyRecord>, PasskeyError> {
        Ok(self.db.run(move |conn| passkeys::list_for_citizen(conn, citizen_id)).await?)
    }

    /// Renames the citizen's passkey `id` to `name` (trimmed, 1 to 64 characters).
    ///
    /// # Errors
    /// [`PasskeyError::InvalidName`], [`PasskeyError::NotYours`] (no such passkey of this
    /// citizen), [`PasskeyError::Store`].
    pub async fn rename(
        &self,
        citizen_id: CitizenId,
        id: PasskeyId,
        name: &str,
        now: UnixTime,
    ) -> Result<(), PasskeyError> {
        let name = normalise_passkey_name(name)?;
        let event = AuditEvent {
            actor: Some(citizen_id.to_string()),
            detail: json!({"passkey_id": id.to_string()}).to_string(),
            ..AuditEvent::new(AuditKind::PASSKEY_RENAMED, now)
        };
        let renamed = self
            .db
            .run(move |conn| {
                conn.transaction(|conn| {
                    if !passkeys::rename(conn, citizen_id, id, &name)? {
                        return Ok(false);
                    }
                    audit::append(conn, &event)?;
                    Ok(true)
                })
            })
            .await?;
        if !renamed {
            return Err(PasskeyError::NotYours);
        }
        tracing::info!(citizen_id = %citizen_id, passkey_id = %id, "passkey renamed");
        Ok(())
    }

    /// Removes the citizen's passkey `id`, unless it is their last credential (no other
    /// passkey and no password).
    ///
    /// The removal, the check and the audit event are one transaction that first locks the
    /// citizen's row (`citizens::lock`), so concurrent removals of one citizen's credentials
    /// (two passkeys, or a passkey and the password) queue and each sees the others' result,
    /// on PostgreSQL as on SQLite.
    ///
    /// # Errors
    /// [`PasskeyError::NotYours`] (no such passkey of this citizen),
    /// [`PasskeyError::LastCredential`], [`PasskeyError::Store`].
    pub async fn remove(&self, citizen_id: CitizenId, id: PasskeyId, now: UnixTime) -> Result<(), PasskeyError> {
        let event = AuditEvent {
            actor: Some(citizen_id.to_string()),
            detail: json!({"passkey_id": id.to_string()}).to_string(),
            ..AuditEvent::new(AuditKind::PASSKEY_REMOVED, now)
        };
        let outcome = self
            .db
            .run(move |conn| {
                let removed = conn.transaction::<_, Abort, _>(|conn| {
                    // One credential change per citizen at a time (see `citizens::lock`).
                    citizens::lock(conn, citizen_id)?;
                    if !passkeys::delete(conn, citizen_id, id)? {
                        return Err(Abort::NotYours);
                    }
                    let passkeys_left = passkeys::list_for_citizen(conn, citizen_id)?.len();
                    if passkeys_left == 0 && credentials::password_for(conn, citizen_id)?.is_none() {
                        return Err(Abort::LastCredential);
                    }
                    audit::append(conn, &event)?;
                    Ok(())
                });
                match removed {
                    Ok(()) => Ok(Ok(())),
                    Err(Abort::NotYours) => Ok(Err(PasskeyError::NotYours)),
                    Err(Abort::LastCredential) => Ok(Err(PasskeyError::LastCredential)),
                    Err(Abort::Store(e)) => Err(e),
                }
            })
            .await?;
        match &outcome {
            Ok(()) => tracing::info!(citizen_id = %citizen_id, passkey_id = %id, "passkey removed"),
            Err(e) => tracing::info!(citizen_id = %citizen_id, passkey_id = %id, error = %e, "passkey not removed"),
        }
        outcome
    }
}
