//! Token signing keys (`signing_keys`): `next` → `active` → `retired`, per algorithm.

use diesel::prelude::*;
use tessera_domain::{KeyState, Kid, SigningKeyRecord, UnixTime};

use crate::codec::{opt_time, parse, time};
use crate::error::conflict_as;
use crate::schema::signing_keys;
use crate::{DbConnection, StoreError};

const TABLE: &str = "signing_keys";
const ONE_PER_STATE: &str = "a key id is taken, or the algorithm already has a key in that state";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, primary_key(kid))]
#[diesel(treat_none_as_default_value = false)]
struct KeyRow {
    kid: String,
    alg: String,
    state: String,
    private_key_sealed: Vec<u8>,
    public_jwk: String,
    created_at: i64,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
}

impl KeyRow {
    fn from_domain(k: &SigningKeyRecord) -> Self {
        Self {
            kid: k.kid.as_str().to_owned(),
            alg: k.alg.clone(),
            state: k.state.as_str().to_owned(),
            private_key_sealed: k.private_key_sealed.clone(),
            public_jwk: k.public_jwk.clone(),
            created_at: k.created_at.as_secs(),
            activated_at: k.activated_at.map(|t| t.as_secs()),
            retired_at: k.retired_at.map(|t| t.as_secs()),
        }
    }

    fn into_domain(self) -> Result<SigningKeyRecord, StoreError> {
        Ok(SigningKeyRecord {
            kid: parse(TABLE, "kid", &self.kid)?,
            alg: self.alg,
            state: parse(TABLE, "state", &self.state)?,
            private_key_sealed: self.private_key_sealed,
            public_jwk: self.public_jwk,
            created_at: time(self.created_at),
            activated_at: opt_time(self.activated_at),
            retired_at: opt_time(self.retired_at),
        })
    }
}

/// Stores a key. `Conflict` if the kid is taken, or if the key is `next` or `active` and its
/// algorithm already has a key in that state.
pub fn insert(conn: &mut DbConnection, key: &SigningKeyRecord) -> Result<(), StoreError> {
    diesel::insert_into(signing_keys::table)
        .values(&KeyRow::from_domain(key))
        .execute(conn)
        .map_err(conflict_as(ONE_PER_STATE))?;
    Ok(())
}

/// Every key, oldest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<SigningKeyRecord>, StoreError> {
    signing_keys::table
        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
        .select(KeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(KeyRow::into_domain)
        .collect()
}

/// The keys in `state`, oldest first.
pub fn list_by_state(conn: &mut DbConnection, state: KeyState) -> Result<Vec<SigningKeyRecord>, StoreError> {
    signing_keys::table
        .filter(signing_keys::state.eq(state.as_str()))
        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
        .select(KeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(KeyRow::into_domain)
        .collect()
}

/// Moves key `kid` to `state` at `at`, stamping `activated_at` (to active) or `retired_at`
/// (to retired). `NotFound` if there is no such key; `Conflict` if its algorithm already has
/// a key in that state.
pub fn set_state(conn: &mut DbConnection, kid: &Kid, state: KeyState, at: UnixTime) -> Result<(), StoreError> {
    let target = signing_keys::table.find(kid.as_str());
    let state_col = signing_keys::state.eq(state.as_str());
    let at = Some(at.as_secs());
    let n = match state {
        KeyState::Next => diesel::update(target).set(state_col).execute(conn),
        KeyState::Active => diesel::update(target).set((state_col, signing_keys::activated_at.eq(at))).execute(conn),
        KeyState::Retired => diesel::update(target).set((state_col, signing_keys::retired_at.eq(at))).execute(conn),
    }
    .map_err(conflict_as(ONE_PER_STATE))?;
    if n == 0 { Err(StoreError::NotFound("signing key")) } else { Ok(()) }
}

/// Rotates the keys of `new_next.alg` in one transaction: the active key (if any) becomes
/// retired, the next key becomes active, and `new_next` is stored as the new next key (its
/// `state` is taken to be `next`). `NotFound` if the algorithm has no next key; `Conflict` if
/// another node rotated at the same moment. Either everything happens or nothing does.
pub fn rotate(conn: &mut DbConnection, new_next: &SigningKeyRecord, at: UnixTime) -> Result<(), StoreError> {
    let mut row = KeyRow::from_domain(new_next);
    row.state = KeyState::Next.as_str().to_owned();
    let secs = at.as_secs();
    conn.transaction(|conn| {
        let of_alg = signing_keys::alg.eq(row.alg.clone());
        diesel::update(
            signing_keys::table.filter(of_alg.clone()).filter(signing_keys::state.eq(KeyState::Active.as_str())),
        )
        .set((signing_keys::state.eq(KeyState::Retired.as_str()), signing_keys::retired_at.eq(Some(secs))))
        .execute(conn)
        .map_err(conflict_as(ONE_PER_STATE))?;
        let promoted =
            diesel::update(signing_keys::table.filter(of_alg).filter(signing_keys::state.eq(KeyState::Next.as_str())))
                .set((signing_keys::state.eq(KeyState::Active.as_str()), signing_keys::activated_at.eq(Some(secs))))
                .execute(conn)
                .map_err(conflict_as(ONE_PER_STATE))?;
        if promoted == 0 {
            return Err(StoreError::NotFound("next signing key for this algorithm"));
        }
        diesel::insert_into(signing_keys::table).values(&row).execute(conn).map_err(conflict_as(ONE_PER_STATE))?;
        Ok(())
    })
}

/// Deletes keys retired before `before` (no token they signed can still be valid); returns how many.
pub fn purge_retired(conn: &mut DbConnection, before: UnixTime) -> Result<usize, StoreError> {
    let n = diesel::delete(
        signing_keys::table
            .filter(signing_keys::state.eq(KeyState::Retired.as_str()))
            .filter(signing_keys::retired_at.lt(before.as_secs())),
    )
    .execute(conn)?;
    Ok(n)
}
