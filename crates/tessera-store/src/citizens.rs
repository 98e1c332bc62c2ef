//! Citizens and their profiles (`citizens`, `citizen_profiles`).

use diesel::prelude::*;
use tessera_domain::{Citizen, CitizenId, CitizenStatus, Profile, Role, UnixTime, Username};

use crate::codec::{decode_parsed_list, encode_list, parse, parse_opt, time};
use crate::error::conflict_as;
use crate::schema::{citizen_profiles, citizens};
use crate::{DbConnection, StoreError};

const CITIZENS: &str = "citizens";
const PROFILES: &str = "citizen_profiles";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = citizens)]
struct CitizenRow {
    id: String,
    username: String,
    status: String,
    roles: String,
    created_at: i64,
    updated_at: i64,
}

impl CitizenRow {
    fn from_domain(c: &Citizen) -> Result<Self, StoreError> {
        Ok(Self {
            id: c.id.to_string(),
            username: c.username.as_str().to_owned(),
            status: c.status.as_str().to_owned(),
            roles: encode_roles(&c.roles)?,
            created_at: c.created_at.as_secs(),
            updated_at: c.updated_at.as_secs(),
        })
    }

    fn into_domain(self) -> Result<Citizen, StoreError> {
        Ok(Citizen {
            id: parse(CITIZENS, "id", &self.id)?,
            username: parse(CITIZENS, "username", &self.username)?,
            status: parse(CITIZENS, "status", &self.status)?,
            roles: decode_parsed_list(CITIZENS, "roles", &self.roles)?,
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = citizen_profiles, primary_key(citizen_id))]
#[diesel(treat_none_as_null = true, treat_none_as_default_value = false)]
struct ProfileRow {
    citizen_id: String,
    name_en: String,
    name_zh: Option<String>,
    birthdate: Option<String>,
    gender: String,
    email: Option<String>,
    email_verified: bool,
    phone: Option<String>,
    phone_verified: bool,
    residential_address: Option<String>,
    postal_address: Option<String>,
    hkid_sealed: Option<Vec<u8>>,
}

impl ProfileRow {
    fn from_domain(citizen_id: CitizenId, p: &Profile) -> Self {
        Self {
            citizen_id: citizen_id.to_string(),
            name_en: p.name_en.clone(),
            name_zh: p.name_zh.clone(),
            birthdate: p.birthdate.map(|d| d.to_string()),
            gender: p.gender.as_str().to_owned(),
            email: p.email.as_ref().map(|e| e.as_str().to_owned()),
            email_verified: p.email_verified,
            phone: p.phone.as_ref().map(|e| e.as_str().to_owned()),
            phone_verified: p.phone_verified,
            residential_address: p.residential_address.clone(),
            postal_address: p.postal_address.clone(),
            hkid_sealed: p.hkid_sealed.clone(),
        }
    }

    fn into_domain(self) -> Result<Profile, StoreError> {
        Ok(Profile {
            name_en: self.name_en,
            name_zh: self.name_zh,
            birthdate: parse_opt(PROFILES, "birthdate", self.birthdate.as_deref())?,
            gender: parse(PROFILES, "gender", &self.gender)?,
            email: parse_opt(PROFILES, "email", self.email.as_deref())?,
            email_verified: self.email_verified,
            phone: parse_opt(PROFILES, "phone", self.phone.as_deref())?,
            phone_verified: self.phone_verified,
            residential_address: self.residential_address,
            postal_address: self.postal_address,
            hkid_sealed: self.hkid_sealed,
        })
    }
}

fn encode_roles(roles: &[Role]) -> Result<String, StoreError> {
    let mut names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    encode_list(&names)
}

/// Creates a citizen and their profile in one transaction.
/// A taken username (case-insensitively, since usernames are normalised) is `Conflict`.
pub fn insert(conn: &mut DbConnection, citizen: &Citizen, profile: &Profile) -> Result<(), StoreError> {
    let row = CitizenRow::from_domain(citizen)?;
    let profile = ProfileRow::from_domain(citizen.id, profile);
    conn.transaction(|conn| {
        diesel::insert_into(citizens::table)
            .values(&row)
            .execute(conn)
            .map_err(conflict_as("username is already taken"))?;
        diesel::insert_into(citizen_profiles::table).values(&profile).execute(conn)?;
        Ok(())
    })
}

/// The citizen with `id`, if any.
pub fn by_id(conn: &mut DbConnection, id: CitizenId) -> Result<Option<Citizen>, StoreError> {
    citizens::table
        .find(id.to_string())
        .select(CitizenRow::as_select())
        .get_result(conn)
        .optional()?
        .map(CitizenRow::into_domain)
        .transpose()
}

/// Locks the citizen's row until the end of the current transaction, so that changes to
/// one citizen's credentials are serialised: two removals at once (the last passkey here,
/// the password there) cannot each see the other's credential still in place. On
/// PostgreSQL this is `SELECT ... FOR UPDATE`; SQLite has a single writer, and the
/// transaction that writes first holds it to the end, so nothing is needed there.
/// Returns whether the citizen exists.
pub fn lock(conn: &mut DbConnection, id: CitizenId) -> Result<bool, StoreError> {
    let id = id.to_string();
    let found = match conn {
        DbConnection::Pg(c) => {
            citizens::table.find(id).select(citizens::id).for_update().get_result::<String>(c).optional()?
        }
        DbConnection::Sqlite(c) => citizens::table.find(id).select(citizens::id).get_result::<String>(c).optional()?,
    };
    Ok(found.is_some())
}

/// The citizen with `username`, if any.
pub fn by_username(conn: &mut DbConnection, username: &Username) -> Result<Option<Citizen>, StoreError> {
    citizens::table
        .filter(citizens::username.eq(username.as_str()))
        .select(CitizenRow::as_select())
        .get_result(conn)
        .optional()?
        .map(CitizenRow::into_domain)
        .transpose()
}

/// Up to `limit` citizens ordered by username, starting after `after` (keyset pagination).
pub fn list(conn: &mut DbConnection, after: Option<&Username>, limit: u32) -> Result<Vec<Citizen>, StoreError> {
    let mut query = citizens::table.select(CitizenRow::as_select()).order(citizens::username.asc()).into_boxed();
    if let Some(after) = after {
        query = query.filter(citizens::username.gt(after.as_str().to_owned()));
    }
    query.limit(i64::from(limit)).load(conn)?.into_iter().map(CitizenRow::into_domain).collect()
}

/// Every citizen with `role` (for example the operators), ordered by username.
pub fn with_role(conn: &mut DbConnection, role: Role) -> Result<Vec<Citizen>, StoreError> {
    // Roles are stored as a sorted JSON list of names: match the quoted name.
    let pattern = format!("%\"{}\"%", role.as_str());
    citizens::table
        .filter(citizens::roles.like(pattern))
        .order(citizens::username.asc())
        .select(CitizenRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CitizenRow::into_domain)
        .collect::<Result<Vec<_>, _>>()
        .map(|all| all.into_iter().filter(|c| c.roles.contains(&role)).collect())
}

/// The profile of citizen `id`, if the citizen exists.
pub fn profile(conn: &mut DbConnection, id: CitizenId) -> Result<Option<Profile>, StoreError> {
    citizen_profiles::table
        .find(id.to_string())
        .select(ProfileRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ProfileRow::into_domain)
        .transpose()
}

/// Replaces the whole profile of citizen `id` and sets its `updated_at`, in one transaction.
/// `NotFound` if there is no such citizen.
pub fn update_profile(
    conn: &mut DbConnection,
    id: CitizenId,
    profile: &Profile,
    at: UnixTime,
) -> Result<(), StoreError> {
    let row = ProfileRow::from_domain(id, profile);
    conn.transaction(|conn| {
        touch(conn, id, at)?;
        diesel::update(citizen_profiles::table.find(id.to_string())).set(&row).execute(conn)?;
        Ok(())
    })
}

/// Replaces the roles of citizen `id` (duplicates dropped). `NotFound` if there is no such citizen.
pub fn set_roles(conn: &mut DbConnection, id: CitizenId, roles: &[Role], at: UnixTime) -> Result<(), StoreError> {
    let roles = encode_roles(roles)?;
    let n = diesel::update(citizens::table.find(id.to_string()))
        .set((citizens::roles.eq(roles), citizens::updated_at.eq(at.as_secs())))
        .execute(conn)?;
    found(n)
}

/// Enables or disables citizen `id`. `NotFound` if there is no such citizen.
pub fn set_status(
    conn: &mut DbConnection,
    id: CitizenId,
    status: CitizenStatus,
    at: UnixTime,
) -> Result<(), StoreError> {
    let n = diesel::update(citizens::table.find(id.to_string()))
        .set((citizens::status.eq(status.as_str()), citizens::updated_at.eq(at.as_secs())))
        .execute(conn)?;
    found(n)
}

fn touch(conn: &mut DbConnection, id: CitizenId, at: UnixTime) -> Result<(), StoreError> {
    let n = diesel::update(citizens::table.find(id.to_string()))
        .set(citizens::updated_at.eq(at.as_secs()))
        .execute(conn)?;
    found(n)
}

fn found(rows: usize) -> Result<(), StoreError> {
    if rows == 0 { Err(StoreError::NotFound("citizen")) } else { Ok(()) }
}

/// Deletes an account that was never finished: disabled, created before `created_before`,
/// with no password and no passkey (a passkey sign-up abandoned before its ceremony
/// completed). Returns whether it was deleted; any other account is left alone.
pub fn delete_abandoned(conn: &mut DbConnection, id: CitizenId, created_before: UnixTime) -> Result<bool, StoreError> {
    use crate::schema::{passkeys, password_credentials};
    let key = id.to_string();
    conn.transaction(|conn| {
        let has_password: i64 =
            password_credentials::table.filter(password_credentials::citizen_id.eq(&key)).count().get_result(conn)?;
        let has_passkey: i64 = passkeys::table.filter(passkeys::citizen_id.eq(&key)).count().get_result(conn)?;
        if has_password > 0 || has_passkey > 0 {
            return Ok(false);
        }
        let deleted = diesel::delete(
            citizens::table
                .filter(citizens::id.eq(&key))
                .filter(citizens::status.eq(CitizenStatus::Disabled.as_str()))
                .filter(citizens::created_at.lt(created_before.as_secs())),
        )
        .execute(conn)?;
        Ok(deleted == 1)
    })
}
