//! Operators' enrolment: a one-time link, printed by `tessera admin invite` or made by an
//! operator on the admin page, with which a new operator creates their account and its
//! first passkey. No password is ever involved. Only the SHA-256 of the link's token is
//! stored; the link expires after [`ENROLMENT_TTL_SECS`] and works once.

use crate::signup::{SignupError, SignupForm, SignupService};
use serde_json::json;
use tessera_crypto::{random_token, token_digest};
use tessera_domain::{AuditEvent, AuditKind, Citizen, CitizenId, Enrolment, Outcome, Role, UnixTime, Username};
use tessera_store::{Db, StoreError, audit, citizens, enrolments};

/// How long an enrolment link works.
pub const ENROLMENT_TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    #[error("the username is not valid: {0}")]
    Username(tessera_domain::DomainError),
    #[error("the name must be 1 to 200 characters")]
    Name,
    #[error("the username is already taken")]
    Taken,
    #[error("the enrolment link is unknown, used or expired")]
    Invalid,
    #[error(transparent)]
    Signup(#[from] SignupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("randomness unavailable: {0}")]
    Randomness(String),
}

/// A new enrolment link's token (shown once) and what it enrols.
#[derive(Debug)]
pub struct Invitation {
    pub token: String,
    pub enrolment: Enrolment,
}

/// Creates an operator's enrolment link. `invited_by` is the operator who made it, `None`
/// from the command line. Audited as `operator.invited` (the username, never the token).
pub async fn invite(
    db: &Db,
    username: &str,
    name_en: &str,
    invited_by: Option<CitizenId>,
    now: UnixTime,
) -> Result<Invitation, EnrolmentError> {
    let username = Username::parse(username).map_err(EnrolmentError::Username)?;
    let name = name_en.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(EnrolmentError::Name);
    }
    let token = random_token().map_err(|e| EnrolmentError::Randomness(e.to_string()))?;
    let enrolment = Enrolment {
        digest: token_digest(&token),
        username: username.clone(),
        name_en: name.to_owned(),
        role: Role::Operator,
        created_by: invited_by,
        created_at: now,
        expires_at: now.plus_secs(ENROLMENT_TTL_SECS),
        used_at: None,
        citizen_id: None,
    };
    let event = AuditEvent {
        actor: Some(invited_by.map_or_else(|| "cli".to_owned(), |id| id.to_string())),
        outcome: Outcome::Success,
        detail: json!({ "username": username.as_str(), "role": "operator", "expires_at": enrolment.expires_at })
            .to_string(),
        ..AuditEvent::new(AuditKind::OPERATOR_INVITED, now)
    };
    let stored = enrolment.clone();
    let taken = db
        .transaction(move |conn| {
            if citizens::by_username(conn, &stored.username)?
                .is_some_and(|c| c.status == tessera_domain::CitizenStatus::Active)
            {
                return Ok(true);
            }
            enrolments::insert(conn, &stored)?;
            audit::append(conn, &event)?;
            Ok(false)
        })
        .await?;
    if taken {
        return Err(EnrolmentError::Taken);
    }
    Ok(Invitation { token, enrolment })
}

/// The enrolment a link's token stands for, if it is unused and not expired at `now`.
pub async fn find(db: &Db, token: &str, now: UnixTime) -> Result<Option<Enrolment>, EnrolmentError> {
    if token.len() > 64 {
        return Ok(None);
    }
    let digest = token_digest(token);
    let found = db.run(move |conn| enrolments::by_digest(conn, &digest)).await?;
    Ok(found.filter(|e| e.used_at.is_none() && e.expires_at > now))
}

/// Starts enrolling with a valid link: the operator's account is created disabled (with
/// the operator role), ready to be bound to a passkey ceremony. The link stays unused
/// until [`complete`]; starting again after an abandoned attempt works.
pub async fn start(
    db: &Db,
    signup: &SignupService,
    token: &str,
    now: UnixTime,
) -> Result<(Citizen, [u8; 32]), EnrolmentError> {
    let enrolment = find(db, token, now).await?.ok_or(EnrolmentError::Invalid)?;
    let form = SignupForm {
        username: enrolment.username.as_str().to_owned(),
        password: None,
        password_confirm: None,
        name_en: enrolment.name_en.clone(),
        name_zh: None,
        birthdate: None,
        gender: None,
        email: None,
        phone: None,
        residential_address: None,
        postal_address: None,
        hkid: None,
    };
    match signup.begin_passkey_signup_with_roles(form, &[enrolment.role], now).await {
        Ok(citizen) => Ok((citizen, enrolment.digest)),
        Err(SignupError::Invalid(problems)) if problems.iter().any(|p| p.field == "username") => {
            Err(EnrolmentError::Taken)
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks the link used by `citizen_id` once their passkey exists. `false` when another
/// attempt used it first (or it expired meanwhile): the account must not go live.
pub async fn complete(db: &Db, digest: [u8; 32], citizen_id: CitizenId, now: UnixTime) -> Result<bool, EnrolmentError> {
    Ok(db.run(move |conn| enrolments::mark_used(conn, &digest, citizen_id, now)).await?)
}
