//! Changes to department clients waiting for a second operator (`client_changes`).

use diesel::prelude::*;
use tessera_domain::{ChangeId, ChangeStatus, ClientChange, ClientId, UnixTime};

use crate::codec::{opt_time, parse, parse_opt, time};
use crate::error::conflict_as;
use crate::schema::client_changes;
use crate::{DbConnection, StoreError};

const TABLE: &str = "client_changes";

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = client_changes)]
#[diesel(treat_none_as_default_value = false)]
struct ChangeRow {
    id: String,
    client_id: String,
    kind: String,
    proposal: String,
    previous: String,
    proposed_by: String,
    proposed_at: i64,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

impl ChangeRow {
    fn from_domain(c: &ClientChange) -> Self {
        Self {
            id: c.id.to_string(),
            client_id: c.client_id.as_str().to_owned(),
            kind: c.kind.as_str().to_owned(),
            proposal: c.proposal.clone(),
            previous: c.previous.clone(),
            proposed_by: c.proposed_by.to_string(),
            proposed_at: c.proposed_at.as_secs(),
            status: c.status.as_str().to_owned(),
            decided_by: c.decided_by.map(|d| d.to_string()),
            decided_at: c.decided_at.map(UnixTime::as_secs),
        }
    }

    fn into_domain(self) -> Result<ClientChange, StoreError> {
        Ok(ClientChange {
            id: parse(TABLE, "id", &self.id)?,
            client_id: parse(TABLE, "client_id", &self.client_id)?,
            kind: parse(TABLE, "kind", &self.kind)?,
            proposal: self.proposal,
            previous: self.previous,
            proposed_by: parse(TABLE, "proposed_by", &self.proposed_by)?,
            proposed_at: time(self.proposed_at),
            status: parse(TABLE, "status", &self.status)?,
            decided_by: parse_opt(TABLE, "decided_by", self.decided_by.as_deref())?,
            decided_at: opt_time(self.decided_at),
        })
    }
}

/// Records a proposed change. A client with a change already pending is `Conflict`.
pub fn insert(conn: &mut DbConnection, change: &ClientChange) -> Result<(), StoreError> {
    diesel::insert_into(client_changes::table)
        .values(&ChangeRow::from_domain(change))
        .execute(conn)
        .map_err(conflict_as("this client already has a change waiting for approval"))?;
    Ok(())
}

/// The change `id`, if any.
pub fn by_id(conn: &mut DbConnection, id: ChangeId) -> Result<Option<ClientChange>, StoreError> {
    client_changes::table
        .find(id.to_string())
        .select(ChangeRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ChangeRow::into_domain)
        .transpose()
}

/// The change waiting for approval for `client_id`, if any.
pub fn pending_for(conn: &mut DbConnection, client_id: &ClientId) -> Result<Option<ClientChange>, StoreError> {
    client_changes::table
        .filter(client_changes::client_id.eq(client_id.as_str()))
        .filter(client_changes::status.eq(ChangeStatus::Pending.as_str()))
        .select(ChangeRow::as_select())
        .get_result(conn)
        .optional()?
        .map(ChangeRow::into_domain)
        .transpose()
}

/// Every change waiting for approval, oldest first.
pub fn pending(conn: &mut DbConnection) -> Result<Vec<ClientChange>, StoreError> {
    client_changes::table
        .filter(client_changes::status.eq(ChangeStatus::Pending.as_str()))
        .order((client_changes::proposed_at.asc(), client_changes::id.asc()))
        .select(ChangeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ChangeRow::into_domain)
        .collect()
}

/// Decides a pending change: sets its status, decider and time, only if it is still
/// pending (one decision wins when two operators decide at once). Returns whether it did.
pub fn decide(
    conn: &mut DbConnection,
    id: ChangeId,
    status: ChangeStatus,
    decided_by: tessera_domain::CitizenId,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        client_changes::table
            .filter(client_changes::id.eq(id.to_string()))
            .filter(client_changes::status.eq(ChangeStatus::Pending.as_str())),
    )
    .set((
        client_changes::status.eq(status.as_str()),
        client_changes::decided_by.eq(Some(decided_by.to_string())),
        client_changes::decided_at.eq(Some(at.as_secs())),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
