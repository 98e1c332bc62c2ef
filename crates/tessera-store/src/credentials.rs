//! Password credentials (`password_credentials`): at most one per citizen.

use diesel::prelude::*;
use tessera_domain::{CitizenId, PasswordCredential};

use crate::codec::{parse, time};
use crate::schema::password_credentials;
use crate::{DbConnection, StoreError};

const TABLE: &str = "password_credentials";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = password_credentials, primary_key(citizen_id))]
struct PasswordRow {
    citizen_id: String,
    phc: String,
    created_at: i64,
    updated_at: i64,
}

/// Sets the citizen's password hash, replacing any previous one (keeping its `created_at`),
/// in one transaction. A missing citizen is a `Query` error (foreign key).
pub fn set_password(conn: &mut DbConnection, credential: &PasswordCredential) -> Result<(), StoreError> {
    let id = credential.citizen_id.to_string();
    let row = PasswordRow {
        citizen_id: id.clone(),
        phc: credential.phc.clone(),
        created_at: credential.created_at.as_secs(),
        updated_at: credential.updated_at.as_secs(),
    };
    conn.transaction(|conn| {
        // Write first: on SQLite a transaction that starts with a read cannot always upgrade.
        let updated = diesel::update(password_credentials::table.find(&id))
            .set((password_credentials::phc.eq(&row.phc), password_credentials::updated_at.eq(row.updated_at)))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(password_credentials::table).values(&row).execute(conn)?;
        }
        Ok(())
    })
}

/// The citizen's password credential, if they have one.
pub fn password_for(conn: &mut DbConnection, citizen_id: CitizenId) -> Result<Option<PasswordCredential>, StoreError> {
    let row = password_credentials::table
        .find(citizen_id.to_string())
        .select(PasswordRow::as_select())
        .get_result(conn)
        .optional()?;
    row.map(|r| {
        Ok(PasswordCredential {
            citizen_id: parse(TABLE, "citizen_id", &r.citizen_id)?,
            phc: r.phc,
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        })
    })
    .transpose()
}

/// Removes the citizen's password; returns whether there was one.
pub fn remove_password(conn: &mut DbConnection, citizen_id: CitizenId) -> Result<bool, StoreError> {
    let n = diesel::delete(password_credentials::table.find(citizen_id.to_string())).execute(conn)?;
    Ok(n > 0)
}
