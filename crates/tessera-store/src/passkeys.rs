//! Registered passkeys (`passkeys`). A credential id belongs to at most one citizen.

use diesel::prelude::*;
use tessera_domain::{CitizenId, CredentialId, PasskeyId, PasskeyRecord};

use crate::codec::{decode_list, encode_list, opt_time, parse, time};
use crate::error::{conflict_as, corrupt};
use crate::schema::passkeys;
use crate::{DbConnection, StoreError};

const TABLE: &str = "passkeys";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = passkeys)]
#[diesel(treat_none_as_default_value = false)]
struct PasskeyRow {
    id: String,
    citizen_id: String,
    credential_id: Vec<u8>,
    passkey_json: String,
    name: String,
    sign_count: i64,
    backup_eligible: bool,
    backup_state: bool,
    transports: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl PasskeyRow {
    fn from_domain(p: &PasskeyRecord) -> Result<Self, StoreError> {
        Ok(Self {
            id: p.id.to_string(),
            citizen_id: p.citizen_id.to_string(),
            credential_id: p.credential_id.as_bytes().to_vec(),
            passkey_json: p.passkey_json.clone(),
            name: p.name.clone(),
            sign_count: i64::from(p.sign_count),
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            transports: encode_list(&p.transports)?,
            created_at: p.created_at.as_secs(),
            last_used_at: p.last_used_at.map(|t| t.as_secs()),
        })
    }

    fn into_domain(self) -> Result<PasskeyRecord, StoreError> {
        Ok(PasskeyRecord {
            id: parse(TABLE, "id", &self.id)?,
            citizen_id: parse(TABLE, "citizen_id", &self.citizen_id)?,
            credential_id: CredentialId::new(self.credential_id).map_err(corrupt(TABLE, "credential_id"))?,
            passkey_json: self.passkey_json,
            name: self.name,
            sign_count: u32::try_from(self.sign_count).map_err(corrupt(TABLE, "sign_count"))?,
            backup_eligible: self.backup_eligible,
            backup_state: self.backup_state,
            transports: decode_list(TABLE, "transports", &self.transports)?,
            created_at: time(self.created_at),
            last_used_at: opt_time(self.last_used_at),
        })
    }
}

/// Registers a passkey. A credential id already registered (to anyone) is `Conflict`.
pub fn insert(conn: &mut DbConnection, passkey: &PasskeyRecord) -> Result<(), StoreError> {
    let row = PasskeyRow::from_domain(passkey)?;
    diesel::insert_into(passkeys::table)
        .values(&row)
        .execute(conn)
        .map_err(conflict_as("passkey credential id is already registered"))?;
    Ok(())
}

/// The citizen's passkeys, oldest first.
pub fn list_for_citizen(conn: &mut DbConnection, citizen_id: CitizenId) -> Result<Vec<PasskeyRecord>, StoreError> {
    passkeys::table
        .filter(passkeys::citizen_id.eq(citizen_id.to_string()))
        .order((passkeys::created_at.asc(), passkeys::id.asc()))
        .select(PasskeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(PasskeyRow::into_domain)
        .collect()
}

/// The passkey with this WebAuthn credential id, if registered.
pub fn by_credential_id(
    conn: &mut DbConnection,
    credential_id: &CredentialId,
) -> Result<Option<PasskeyRecord>, StoreError> {
    passkeys::table
        .filter(passkeys::credential_id.eq(credential_id.as_bytes()))
        .select(PasskeyRow::as_select())
        .get_result(conn)
        .optional()?
        .map(PasskeyRow::into_domain)
        .transpose()
}

/// After a successful sign-in, stores what the ceremony changed: `passkey_json`, `sign_count`,
/// the backup flags and `last_used_at` of `passkey` (matched by id). `NotFound` if it is gone.
pub fn update_after_use(conn: &mut DbConnection, passkey: &PasskeyRecord) -> Result<(), StoreError> {
    let n = diesel::update(passkeys::table.find(passkey.id.to_string()))
        .set((
            passkeys::passkey_json.eq(&passkey.passkey_json),
            passkeys::sign_count.eq(i64::from(passkey.sign_count)),
            passkeys::backup_eligible.eq(passkey.backup_eligible),
            passkeys::backup_state.eq(passkey.backup_state),
            passkeys::last_used_at.eq(passkey.last_used_at.map(|t| t.as_secs())),
        ))
        .execute(conn)?;
    if n == 0 { Err(StoreError::NotFound("passkey")) } else { Ok(()) }
}

/// Renames passkey `id` if it belongs to `citizen_id`; returns whether it did.
pub fn rename(conn: &mut DbConnection, citizen_id: CitizenId, id: PasskeyId, name: &str) -> Result<bool, StoreError> {
    let n = diesel::update(owned(citizen_id, id)).set(passkeys::name.eq(name)).execute(conn)?;
    Ok(n > 0)
}

/// Deletes passkey `id` if it belongs to `citizen_id`; returns whether it did.
pub fn delete(conn: &mut DbConnection, citizen_id: CitizenId, id: PasskeyId) -> Result<bool, StoreError> {
    let n = diesel::delete(owned(citizen_id, id)).execute(conn)?;
    Ok(n > 0)
}

#[diesel::dsl::auto_type]
fn owned(citizen_id: CitizenId, id: PasskeyId) -> _ {
    let citizen: String = citizen_id.to_string();
    let id: String = id.to_string();
    passkeys::table.filter(passkeys::id.eq(id)).filter(passkeys::citizen_id.eq(citizen))
}
