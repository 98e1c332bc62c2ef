//! The audit trail (`audit_events`): append-only, listed newest first.

use diesel::prelude::*;
use tessera_domain::{AuditEvent, AuditKind, UnixTime};

use crate::codec::{parse, time};
use crate::schema::audit_events;
use crate::{DbConnection, MultiBackend, StoreError};

const TABLE: &str = "audit_events";

/// The most events one [`list`] call returns.
pub const MAX_PAGE: u32 = 1000;

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(treat_none_as_default_value = false)]
struct NewEvent<'a> {
    at: i64,
    kind: &'a str,
    actor: Option<&'a str>,
    client_id: Option<&'a str>,
    ip: Option<&'a str>,
    outcome: &'a str,
    detail: &'a str,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    id: i64,
    at: i64,
    kind: String,
    actor: Option<String>,
    client_id: Option<String>,
    ip: Option<String>,
    outcome: String,
    detail: String,
}

impl EventRow {
    fn into_domain(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: Some(self.id),
            at: time(self.at),
            kind: parse(TABLE, "kind", &self.kind)?,
            actor: self.actor,
            client_id: self.client_id,
            ip: self.ip,
            outcome: parse(TABLE, "outcome", &self.outcome)?,
            detail: self.detail,
        })
    }
}

/// Which events [`list`] returns. All conditions must hold; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub kind: Option<AuditKind>,
    pub actor: Option<String>,
    pub client_id: Option<String>,
    /// Events at or after this time.
    pub since: Option<UnixTime>,
    /// Events before this time (exclusive).
    pub until: Option<UnixTime>,
    /// Page size, clamped to 1..=[`MAX_PAGE`]; 0 means 100.
    pub limit: u32,
    /// Pagination cursor: only events with a smaller id (pass the last id of the previous page).
    pub before_id: Option<i64>,
}

/// Appends an event (its `id` is ignored; the database assigns one).
pub fn append(conn: &mut DbConnection, event: &AuditEvent) -> Result<(), StoreError> {
    let row = NewEvent {
        at: event.at.as_secs(),
        kind: event.kind.as_str(),
        actor: event.actor.as_deref(),
        client_id: event.client_id.as_deref(),
        ip: event.ip.as_deref(),
        outcome: event.outcome.as_str(),
        detail: &event.detail,
    };
    diesel::insert_into(audit_events::table).values(&row).execute(conn)?;
    Ok(())
}

/// Events matching `filter`, newest first (by id, i.e. by order of appending). For the next
/// page pass the last returned id as `before_id`.
pub fn list(conn: &mut DbConnection, filter: &AuditFilter) -> Result<Vec<AuditEvent>, StoreError> {
    let limit = match filter.limit {
        0 => 100,
        n => n.min(MAX_PAGE),
    };
    let mut query = audit_events::table.select(EventRow::as_select()).into_boxed::<MultiBackend>();
    if let Some(kind) = &filter.kind {
        query = query.filter(audit_events::kind.eq(kind.as_str().to_owned()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_events::actor.eq(actor.clone()));
    }
    if let Some(client_id) = &filter.client_id {
        query = query.filter(audit_events::client_id.eq(client_id.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_events::at.ge(since.as_secs()));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::at.lt(until.as_secs()));
    }
    if let Some(before) = filter.before_id {
        query = query.filter(audit_events::id.lt(before));
    }
    query
        .order(audit_events::id.desc())
        .limit(i64::from(limit))
        .load(conn)?
        .into_iter()
        .map(EventRow::into_domain)
        .collect()
}
