//! Registered clients (`clients`).

use diesel::prelude::*;
use tessera_domain::{Client, ClientId, UnixTime};

use crate::codec::{decode_list, encode_list, parse, time};
use crate::error::{conflict_as, corrupt};
use crate::schema::clients;
use crate::{DbConnection, StoreError};

const TABLE: &str = "clients";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients)]
#[diesel(treat_none_as_null = true, treat_none_as_default_value = false)]
struct ClientRow {
    id: String,
    department_en: String,
    department_zh: String,
    name: String,
    name_zh: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    allowed_scopes: String,
    token_endpoint_auth_method: String,
    secret_digest: Option<Vec<u8>>,
    subject_type: String,
    sector_identifier: String,
    require_pkce: bool,
    id_token_alg: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl ClientRow {
    fn from_domain(c: &Client) -> Result<Self, StoreError> {
        Ok(Self {
            id: c.id.as_str().to_owned(),
            department_en: c.department_en.clone(),
            department_zh: c.department_zh.clone(),
            name: c.name.clone(),
            name_zh: c.name_zh.clone(),
            redirect_uris: encode_list(&c.redirect_uris)?,
            post_logout_redirect_uris: encode_list(&c.post_logout_redirect_uris)?,
            allowed_scopes: encode_list(&c.allowed_scopes)?,
            token_endpoint_auth_method: c.token_endpoint_auth_method.as_str().to_owned(),
            secret_digest: c.secret_digest.map(|d| d.to_vec()),
            subject_type: c.subject_type.as_str().to_owned(),
            sector_identifier: c.sector_identifier.clone(),
            require_pkce: c.require_pkce,
            id_token_alg: c.id_token_alg.clone(),
            enabled: c.enabled,
            created_at: c.created_at.as_secs(),
            updated_at: c.updated_at.as_secs(),
        })
    }

    fn into_domain(self) -> Result<Client, StoreError> {
        let secret_digest = self
            .secret_digest
            .map(|d| <[u8; 32]>::try_from(d).map_err(|_| corrupt(TABLE, "secret_digest")("not 32 bytes")))
            .transpose()?;
        Ok(Client {
            id: parse(TABLE, "id", &self.id)?,
            department_en: self.department_en,
            department_zh: self.department_zh,
            name: self.name,
            name_zh: self.name_zh,
            redirect_uris: decode_list(TABLE, "redirect_uris", &self.redirect_uris)?,
            post_logout_redirect_uris: decode_list(
                TABLE,
                "post_logout_redirect_uris",
                &self.post_logout_redirect_uris,
            )?,
            allowed_scopes: decode_list(TABLE, "allowed_scopes", &self.allowed_scopes)?,
            token_endpoint_auth_method: parse(TABLE, "token_endpoint_auth_method", &self.token_endpoint_auth_method)?,
            secret_digest,
            subject_type: parse(TABLE, "subject_type", &self.subject_type)?,
            sector_identifier: self.sector_identifier,
            require_pkce: self.require_pkce,
            id_token_alg: self.id_token_alg,
            enabled: self.enabled,
            created_at: time(self.created_at),
            updated_at: time(self.updated_at),
        })
    }
}

/// Registers a client. A taken client id is `Conflict`.
pub fn insert(conn: &mut DbConnection, client: &Client) -> Result<(), StoreError> {
    let row = ClientRow::from_domain(client)?;
    diesel::insert_into(clients::table)
        .values(&row)
        .execute(conn)
        .map_err(conflict_as("client id is already registered"))?;
    Ok(())
}

/// The client with `id`, if registered (enabled or not).
pub fn by_id(conn: &mut DbConnection, id: &ClientId) -> Result<Option<Client>, StoreError> {
    clients::table
        .find(id.as_str())
        .select(ClientRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ClientRow::into_domain)
        .transpose()
}

/// Every client, ordered by id.
pub fn list(conn: &mut DbConnection) -> Result<Vec<Client>, StoreError> {
    clients::table
        .order(clients::id.asc())
        .select(ClientRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ClientRow::into_domain)
        .collect()
}

/// Overwrites every field of the client with `client.id` except `created_at`.
/// `NotFound` if it is not registered.
pub fn update(conn: &mut DbConnection, client: &Client) -> Result<(), StoreError> {
    let row = ClientRow::from_domain(client)?;
    let n = diesel::update(clients::table.find(client.id.as_str()))
        .set((
            clients::department_en.eq(&row.department_en),
            clients::department_zh.eq(&row.department_zh),
            clients::name.eq(&row.name),
            clients::name_zh.eq(&row.name_zh),
            clients::redirect_uris.eq(&row.redirect_uris),
            clients::post_logout_redirect_uris.eq(&row.post_logout_redirect_uris),
            clients::allowed_scopes.eq(&row.allowed_scopes),
            clients::token_endpoint_auth_method.eq(&row.token_endpoint_auth_method),
            clients::secret_digest.eq(&row.secret_digest),
            clients::subject_type.eq(&row.subject_type),
            clients::sector_identifier.eq(&row.sector_identifier),
            clients::require_pkce.eq(row.require_pkce),
            clients::id_token_alg.eq(&row.id_token_alg),
            clients::enabled.eq(row.enabled),
            clients::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if n == 0 { Err(StoreError::NotFound("client")) } else { Ok(()) }
}

/// Enables or disables a client. `NotFound` if it is not registered.
pub fn set_enabled(conn: &mut DbConnection, id: &ClientId, enabled: bool, at: UnixTime) -> Result<(), StoreError> {
    let n = diesel::update(clients::table.find(id.as_str()))
        .set((clients::enabled.eq(enabled), clients::updated_at.eq(at.as_secs())))
        .execute(conn)?;
    if n == 0 { Err(StoreError::NotFound("client")) } else { Ok(()) }
}
