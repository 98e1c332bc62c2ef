//! Consents (`consents`): what each citizen agreed to share with each client.

use diesel::prelude::*;
use tessera_domain::{CitizenId, ClientId, Consent, ConsentId, UnixTime};

use crate::codec::{decode_list, encode_list, opt_time, parse, time};
use crate::error::conflict_as;
use crate::schema::consents;
use crate::{DbConnection, StoreError};

const TABLE: &str = "consents";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = consents)]
#[diesel(treat_none_as_default_value = false)]
struct ConsentRow {
    id: String,
    citizen_id: String,
    client_id: String,
    scopes: String,
    claims: String,
    granted_at: i64,
    revoked_at: Option<i64>,
    last_shared_at: Option<i64>,
}

impl ConsentRow {
    fn into_domain(self) -> Result<Consent, StoreError> {
        Ok(Consent {
            id: parse(TABLE, "id", &self.id)?,
            citizen_id: parse(TABLE, "citizen_id", &self.citizen_id)?,
            client_id: parse(TABLE, "client_id", &self.client_id)?,
            scopes: decode_list(TABLE, "scopes", &self.scopes)?,
            claims: decode_list(TABLE, "claims", &self.claims)?,
            granted_at: time(self.granted_at),
            revoked_at: opt_time(self.revoked_at),
            last_shared_at: opt_time(self.last_shared_at),
        })
    }
}

/// Records `consent` and, in the same transaction, ends the citizen's previous live consent for
/// that client (its `revoked_at` becomes `consent.granted_at`). The database keeps at most one
/// live consent per citizen and client: if another node granted at the same moment, one of the
/// two gets `Conflict` and may retry.
pub fn grant(conn: &mut DbConnection, consent: &Consent) -> Result<(), StoreError> {
    let row = ConsentRow {
        id: consent.id.to_string(),
        citizen_id: consent.citizen_id.to_string(),
        client_id: consent.client_id.as_str().to_owned(),
        scopes: encode_list(&consent.scopes)?,
        claims: encode_list(&consent.claims)?,
        granted_at: consent.granted_at.as_secs(),
        revoked_at: consent.revoked_at.map(|t| t.as_secs()),
        last_shared_at: consent.last_shared_at.map(|t| t.as_secs()),
    };
    conn.transaction(|conn| {
        diesel::update(
            consents::table
                .filter(consents::citizen_id.eq(&row.citizen_id))
                .filter(consents::client_id.eq(&row.client_id))
                .filter(consents::revoked_at.is_null()),
        )
        .set(consents::revoked_at.eq(row.granted_at))
        .execute(conn)?;
        diesel::insert_into(consents::table)
            .values(&row)
            .execute(conn)
            .map_err(conflict_as("a consent for this citizen and client was granted concurrently"))?;
        Ok(())
    })
}

/// The citizen's live consent for `client_id`, if any.
pub fn active_for(
    conn: &mut DbConnection,
    citizen_id: CitizenId,
    client_id: &ClientId,
) -> Result<Option<Consent>, StoreError> {
    consents::table
        .filter(consents::citizen_id.eq(citizen_id.to_string()))
        .filter(consents::client_id.eq(client_id.as_str()))
        .filter(consents::revoked_at.is_null())
        .select(ConsentRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ConsentRow::into_domain)
        .transpose()
}

/// All of the citizen's consents, live and ended, newest first: their data-sharing record.
pub fn list_for_citizen(conn: &mut DbConnection, citizen_id: CitizenId) -> Result<Vec<Consent>, StoreError> {
    consents::table
        .filter(consents::citizen_id.eq(citizen_id.to_string()))
        .order((consents::granted_at.desc(), consents::id.desc()))
        .select(ConsentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ConsentRow::into_domain)
        .collect()
}

/// Revokes consent `id` if it belongs to `citizen_id` and is live; returns whether it did.
pub fn revoke(conn: &mut DbConnection, citizen_id: CitizenId, id: ConsentId, at: UnixTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        consents::table
            .filter(consents::id.eq(id.to_string()))
            .filter(consents::citizen_id.eq(citizen_id.to_string()))
            .filter(consents::revoked_at.is_null()),
    )
    .set(consents::revoked_at.eq(at.as_secs()))
    .execute(conn)?;
    Ok(n > 0)
}

/// Records that the client received the citizen's data under consent `id` at `at`.
pub fn mark_shared(conn: &mut DbConnection, id: ConsentId, at: UnixTime) -> Result<(), StoreError> {
    diesel::update(consents::table.filter(consents::id.eq(id.to_string())))
        .set(consents::last_shared_at.eq(at.as_secs()))
        .execute(conn)?;
    Ok(())
}

/// The citizen's consent `id` (live or ended), if it is theirs.
pub fn by_id(conn: &mut DbConnection, citizen_id: CitizenId, id: ConsentId) -> Result<Option<Consent>, StoreError> {
    consents::table
        .filter(consents::id.eq(id.to_string()))
        .filter(consents::citizen_id.eq(citizen_id.to_string()))
        .select(ConsentRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ConsentRow::into_domain)
        .transpose()
}
