//! One-time enrolment links for operators (`enrolments`). Only the SHA-256 of a link's
//! token is stored.

use diesel::prelude::*;
use tessera_domain::{CitizenId, Enrolment, UnixTime};

use crate::codec::{opt_time, parse, parse_opt, time};
use crate::error::{conflict_as, corrupt};
use crate::schema::enrolments;
use crate::{DbConnection, StoreError};

const TABLE: &str = "enrolments";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = enrolments)]
#[diesel(treat_none_as_default_value = false)]
struct EnrolmentRow {
    digest: Vec<u8>,
    username: String,
    name_en: String,
    role: String,
    created_by: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    citizen_id: Option<String>,
}

impl EnrolmentRow {
    fn into_domain(self) -> Result<Enrolment, StoreError> {
        let digest = <[u8; 32]>::try_from(self.digest).map_err(|_| corrupt(TABLE, "digest")("not 32 bytes"))?;
        Ok(Enrolment {
            digest,
            username: parse(TABLE, "username", &self.username)?,
            name_en: self.name_en,
            role: parse(TABLE, "role", &self.role)?,
            created_by: parse_opt(TABLE, "created_by", self.created_by.as_deref())?,
            created_at: time(self.created_at),
            expires_at: time(self.expires_at),
            used_at: opt_time(self.used_at),
            citizen_id: parse_opt(TABLE, "citizen_id", self.citizen_id.as_deref())?,
        })
    }
}

/// Stores a new enrolment link.
pub fn insert(conn: &mut DbConnection, enrolment: &Enrolment) -> Result<(), StoreError> {
    let row = EnrolmentRow {
        digest: enrolment.digest.to_vec(),
        username: enrolment.username.as_str().to_owned(),
        name_en: enrolment.name_en.clone(),
        role: enrolment.role.as_str().to_owned(),
        created_by: enrolment.created_by.map(|c| c.to_string()),
        created_at: enrolment.created_at.as_secs(),
        expires_at: enrolment.expires_at.as_secs(),
        used_at: enrolment.used_at.map(UnixTime::as_secs),
        citizen_id: enrolment.citizen_id.map(|c| c.to_string()),
    };
    diesel::insert_into(enrolments::table).values(&row).execute(conn).map_err(conflict_as("enrolment exists"))?;
    Ok(())
}

/// The enrolment whose token has this digest, used or not.
pub fn by_digest(conn: &mut DbConnection, digest: &[u8]) -> Result<Option<Enrolment>, StoreError> {
    enrolments::table
        .find(digest)
        .select(EnrolmentRow::as_select())
        .get_result(conn)
        .optional()?
        .map(EnrolmentRow::into_domain)
        .transpose()
}

/// Marks the enrolment used by the account `citizen_id`, only if it was unused and not
/// expired at `at` (single use, even with two nodes). Returns whether it did.
pub fn mark_used(
    conn: &mut DbConnection,
    digest: &[u8],
    citizen_id: CitizenId,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        enrolments::table
            .filter(enrolments::digest.eq(digest))
            .filter(enrolments::used_at.is_null())
            .filter(enrolments::expires_at.gt(at.as_secs())),
    )
    .set((enrolments::used_at.eq(Some(at.as_secs())), enrolments::citizen_id.eq(Some(citizen_id.to_string()))))
    .execute(conn)?;
    Ok(n == 1)
}
