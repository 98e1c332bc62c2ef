//! Refresh tokens (`refresh_tokens`), stored by digest, rotated on every use.

use diesel::prelude::*;
use tessera_domain::{CitizenId, ClientId, GrantId, RefreshTokenId, RefreshTokenRecord, UnixTime};

use crate::codec::{decode_list, encode_list, opt_time, parse, parse_opt, time};
use crate::error::conflict_as;
use crate::schema::refresh_tokens;
use crate::{DbConnection, StoreError};

const TABLE: &str = "refresh_tokens";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
#[diesel(treat_none_as_default_value = false)]
struct TokenRow {
    id: String,
    digest: Vec<u8>,
    family_id: String,
    client_id: String,
    citizen_id: Option<String>,
    scope: String,
    session_id: Option<String>,
    auth_time: Option<i64>,
    issued_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    revoked_at: Option<i64>,
    acr: Option<String>,
    amr: String,
    claims: String,
}

impl TokenRow {
    fn from_domain(t: &RefreshTokenRecord) -> Result<Self, StoreError> {
        Ok(Self {
            id: t.id.to_string(),
            digest: t.digest.clone(),
            family_id: t.family_id.to_string(),
            client_id: t.client_id.as_str().to_owned(),
            citizen_id: t.citizen_id.map(|c| c.to_string()),
            scope: t.scope.clone(),
            session_id: t.session_id.clone(),
            auth_time: t.auth_time.map(|a| a.as_secs()),
            issued_at: t.issued_at.as_secs(),
            expires_at: t.expires_at.as_secs(),
            rotated_at: t.rotated_at.map(|a| a.as_secs()),
            revoked_at: t.revoked_at.map(|a| a.as_secs()),
            acr: t.acr.clone(),
            amr: encode_list(&t.amr)?,
            claims: encode_list(&t.claims)?,
        })
    }

    fn into_domain(self) -> Result<RefreshTokenRecord, StoreError> {
        Ok(RefreshTokenRecord {
            id: parse(TABLE, "id", &self.id)?,
            digest: self.digest,
            family_id: parse(TABLE, "family_id", &self.family_id)?,
            client_id: parse(TABLE, "client_id", &self.client_id)?,
            citizen_id: parse_opt(TABLE, "citizen_id", self.citizen_id.as_deref())?,
            scope: self.scope,
            session_id: self.session_id,
            auth_time: opt_time(self.auth_time),
            issued_at: time(self.issued_at),
            expires_at: time(self.expires_at),
            rotated_at: opt_time(self.rotated_at),
            revoked_at: opt_time(self.revoked_at),
            amr: decode_list(TABLE, "amr", &self.amr)?,
            claims: decode_list(TABLE, "claims", &self.claims)?,
            acr: self.acr,
        })
    }
}

/// Stores a new refresh token. A digest already stored is `Conflict`.
pub fn insert(conn: &mut DbConnection, token: &RefreshTokenRecord) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values(&TokenRow::from_domain(token)?)
        .execute(conn)
        .map_err(conflict_as("refresh token digest already exists"))?;
    Ok(())
}

/// The token whose digest is `digest`, whatever its state (the caller checks expiry, rotation
/// and revocation, and treats a rotated token presented again as reuse).
pub fn by_digest(conn: &mut DbConnection, digest: &[u8]) -> Result<Option<RefreshTokenRecord>, StoreError> {
    refresh_tokens::table
        .filter(refresh_tokens::digest.eq(digest))
        .select(TokenRow::as_select())
        .get_result(conn)
        .optional()?
        .map(TokenRow::into_domain)
        .transpose()
}

/// Marks token `id` rotated at `at` if it is neither rotated nor revoked yet, and returns
/// whether this call did it. A single conditional `UPDATE`: of any number of nodes racing to
/// rotate one token, exactly one gets `true`; the others must treat the token as reused.
pub fn mark_rotated(conn: &mut DbConnection, id: RefreshTokenId, at: UnixTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id.to_string()))
            .filter(refresh_tokens::rotated_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(at.as_secs()))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every not-yet-revoked token of the family; returns how many it revoked.
pub fn revoke_family(conn: &mut DbConnection, family_id: GrantId, at: UnixTime) -> Result<usize, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at.as_secs()))
    .execute(conn)?;
    Ok(n)
}

/// Revokes every not-yet-revoked token the citizen holds for the client (consent revoked);
/// returns how many it revoked.
pub fn revoke_for_citizen_client(
    conn: &mut DbConnection,
    citizen_id: CitizenId,
    client_id: &ClientId,
    at: UnixTime,
) -> Result<usize, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::citizen_id.eq(citizen_id.to_string()))
            .filter(refresh_tokens::client_id.eq(client_id.as_str()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at.as_secs()))
    .execute(conn)?;
    Ok(n)
}

/// Revokes every not-yet-revoked token of the citizen, for all clients (citizen disabled,
/// "sign out everywhere"); returns how many it revoked.
pub fn revoke_for_citizen(conn: &mut DbConnection, citizen_id: CitizenId, at: UnixTime) -> Result<usize, StoreError> {
    let n = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::citizen_id.eq(citizen_id.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(at.as_secs()))
    .execute(conn)?;
    Ok(n)
}

/// The live (not revoked) grants issued under an SSO session, with their scope: what a
/// sign-out of that session ends.
pub fn live_families_of_session(
    conn: &mut DbConnection,
    session_id: &str,
) -> Result<Vec<(GrantId, String)>, StoreError> {
    let rows: Vec<(String, String)> = refresh_tokens::table
        .filter(refresh_tokens::session_id.eq(session_id))
        .filter(refresh_tokens::revoked_at.is_null())
        .select((refresh_tokens::family_id, refresh_tokens::scope))
        .distinct()
        .load(conn)?;
    rows.into_iter().map(|(family, scope)| Ok((parse(TABLE, "family_id", &family)?, scope))).collect()
}

/// The live (not revoked) grants of a citizen, at every client or at one: what a password
/// change or a withdrawn consent ends.
pub fn live_families_of_citizen(
    conn: &mut DbConnection,
    citizen_id: CitizenId,
    client_id: Option<&ClientId>,
) -> Result<Vec<GrantId>, StoreError> {
    let mut query = refresh_tokens::table
        .filter(refresh_tokens::citizen_id.eq(citizen_id.to_string()))
        .filter(refresh_tokens::revoked_at.is_null())
        .select(refresh_tokens::family_id)
        .distinct()
        .into_boxed();
    if let Some(client) = client_id {
        query = query.filter(refresh_tokens::client_id.eq(client.as_str().to_owned()));
    }
    let rows: Vec<String> = query.load(conn)?;
    rows.into_iter().map(|family| parse(TABLE, "family_id", &family)).collect()
}

/// Deletes tokens that expired before `before`; returns how many.
pub fn purge_expired(conn: &mut DbConnection, before: UnixTime) -> Result<usize, StoreError> {
    Ok(diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(before.as_secs()))).execute(conn)?)
}
