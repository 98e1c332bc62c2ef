//! Departments' logos (`client_logos`), served by Tessera itself.

use diesel::prelude::*;
use tessera_domain::{ClientId, UnixTime};

use crate::schema::client_logos;
use crate::{DbConnection, StoreError};

/// A logo: its media type (`image/png` or `image/jpeg`) and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub updated_at: UnixTime,
}

/// Sets (or replaces) the logo of `client_id`.
pub fn set(conn: &mut DbConnection, client_id: &ClientId, logo: &Logo) -> Result<(), StoreError> {
    let id = client_id.as_str().to_owned();
    conn.transaction(|conn| {
        diesel::delete(client_logos::table.find(&id)).execute(conn)?;
        diesel::insert_into(client_logos::table)
            .values((
                client_logos::client_id.eq(&id),
                client_logos::content_type.eq(&logo.content_type),
                client_logos::bytes.eq(&logo.bytes),
                client_logos::updated_at.eq(logo.updated_at.as_secs()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// The logo of `client_id`, if it has one.
pub fn get(conn: &mut DbConnection, client_id: &ClientId) -> Result<Option<Logo>, StoreError> {
    let row: Option<(String, Vec<u8>, i64)> = client_logos::table
        .find(client_id.as_str())
        .select((client_logos::content_type, client_logos::bytes, client_logos::updated_at))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(content_type, bytes, at)| Logo { content_type, bytes, updated_at: UnixTime::from_secs(at) }))
}

/// Whether `client_id` has a logo (without reading it).
pub fn exists(conn: &mut DbConnection, client_id: &ClientId) -> Result<bool, StoreError> {
    let found: Option<String> =
        client_logos::table.find(client_id.as_str()).select(client_logos::client_id).get_result(conn).optional()?;
    Ok(found.is_some())
}

/// Removes the logo of `client_id`; returns whether there was one.
pub fn remove(conn: &mut DbConnection, client_id: &ClientId) -> Result<bool, StoreError> {
    Ok(diesel::delete(client_logos::table.find(client_id.as_str())).execute(conn)? > 0)
}
