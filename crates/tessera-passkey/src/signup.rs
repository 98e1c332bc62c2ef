//! Creating a citizen's account: the sign-up form, its validation, and the writes.
//!
//! [`SignupForm`] holds the raw strings a person typed. [`SignupForm::validate`] is pure
//! (it takes `now`) and turns them into a [`ValidSignup`] of parsed values, or into every
//! problem found at once, each a [`FieldProblem`] that the web layer can show next to its
//! field in either language. [`SignupService`] then checks the username is free and writes.
//!
//! ## Why the writes are ordered as they are
//! Creating an account takes three writes: the citizen with their profile, the password
//! (through [`PasswordService::set_password`], which hashes and stores on its own
//! connection), and the audit event. They cannot share one transaction from here:
//! `PasswordService` offers no hash-only call and `tessera-store` no transaction spanning
//! repositories, nor a way to delete a citizen. So the account is made harmless until
//! it is complete instead:
//! 1. everything is validated first, the password policy included, so the later steps can
//!    fail only when the database or the hashing pool does;
//! 2. the citizen is inserted **disabled** (a disabled account cannot sign in);
//! 3. the password is set;
//! 4. the `citizen.created` event is appended, and the account is enabled.
//!
//! If step 3 or 4 fails, what remains is a disabled account that can never sign in, no
//! active account without its password or its audit record. It keeps its username until
//! an operator removes it; the failure is logged with its citizen id.

use diesel::Connection as _;
use std::fmt;

use tessera_crypto::{Cipher, CryptoError, MAX_PASSWORD_BYTES};
use tessera_domain::{
    AuditEvent, AuditKind, Birthdate, Citizen, CitizenId, CitizenStatus, DomainError, Email, Gender, Outcome, Phone,
    Profile, Role, UnixTime, Username,
};
use tessera_store::{Db, StoreError, audit, citizens};

use crate::hkid::{HKID_CHECK_DIGIT_REASON, Hkid, OpenHkidError};
use crate::password::{CredentialError, MIN_PASSWORD_CHARS, PasswordService};

/// Longest English or Chinese name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 500;
/// How long an unfinished passkey sign-up keeps its username.
pub const ABANDONED_SIGNUP_SECS: i64 = 15 * 60;
/// Earliest accepted year of birth.
pub const MIN_BIRTH_YEAR: u16 = 1900;

/// The sign-up form as typed: raw strings, untrimmed. An empty or blank optional field
/// counts as absent. `Debug` shows only which fields are filled in.
#[derive(Clone, Default)]
pub struct SignupForm {
    pub username: String,
    /// Taken exactly as typed (never trimmed).
    pub password: Option<String>,
    /// Must equal `password` when either is given.
    pub password_confirm: Option<String>,
    pub name_en: String,
    pub name_zh: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthdate: Option<String>,
    /// `female`, `male`, `other` or `undisclosed` (any case); absent means undisclosed.
    pub gender: Option<String>,
    pub email: Option<String>,
    /// A Hong Kong number of 8 digits, or an international number starting with `+`;
    /// spaces and hyphens are ignored.
    pub phone: Option<String>,
    pub residential_address: Option<String>,
    pub postal_address: Option<String>,
    pub hkid: Option<String>,
}

impl fmt::Debug for SignupForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let filled = |v: &Option<String>| if filled(v.as_deref()).is_some() { "<redacted>" } else { "None" };
        f.debug_struct("SignupForm")
            .field("username", &"<redacted>")
            .field("password", &filled(&self.password))
            .field("password_confirm", &filled(&self.password_confirm))
            .field("name_en", &"<redacted>")
            .field("name_zh", &filled(&self.name_zh))
            .field("birthdate", &filled(&self.birthdate))
            .field("gender", &filled(&self.gender))
            .field("email", &filled(&self.email))
            .field("phone", &filled(&self.phone))
            .field("residential_address", &filled(&self.residential_address))
            .field("postal_address", &filled(&self.postal_address))
            .field("hkid", &filled(&self.hkid))
            .finish()
    }
}

/// What is wrong with one field. The web layer translates each into both languages;
/// [`ProblemKind::code`] is a stable name for templates and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Must be filled in.
    Required,
    /// Shorter than allowed (usernames: 3 characters).
    TooShort,
    /// Longer than allowed (usernames 64, names 200, addresses 500 characters).
    TooLong,
    /// Not in an accepted form.
    Invalid,
    /// The confirmation differs from the password.
    Mismatch,
    /// The username belongs to another account.
    Taken,
    /// The password has fewer than [`MIN_PASSWORD_CHARS`] characters.
    PasswordTooShort,
    /// The password has more than [`MAX_PASSWORD_BYTES`] bytes.
    PasswordTooLong,
    /// The password contains the username.
    PasswordContainsUsername,
    /// A date after today.
    InFuture,
    /// A birthdate before [`MIN_BIRTH_YEAR`].
    TooEarly,
    /// An HKID whose check digit does not match the rest of the number.
    BadCheckDigit,
}

impl ProblemKind {
    /// A stable snake_case name, e.g. `password_too_short`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::Invalid => "invalid",
            Self::Mismatch => "mismatch",
            Self::Taken => "taken",
            Self::PasswordTooShort => "password_too_short",
            Self::PasswordTooLong => "password_too_long",
            Self::PasswordContainsUsername => "password_contains_username",
            Self::InFuture => "in_future",
            Self::TooEarly => "too_early",
            Self::BadCheckDigit => "bad_check_digit",
        }
    }
}

impl fmt::Display for ProblemKind {
    /// A short English description, for the command line and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Required => "is required",
            Self::TooShort => "is too short",
            Self::TooLong => "is too long",
            Self::Invalid => "is not valid",
            Self::Mismatch => "does not match the password",
            Self::Taken => "is already taken",
            Self::PasswordTooShort => return write!(f, "must have at least {MIN_PASSWORD_CHARS} characters"),
            Self::PasswordTooLong => return write!(f, "must have at most {MAX_PASSWORD_BYTES} bytes"),
            Self::PasswordContainsUsername => "must not contain the username",
            Self::InFuture => "is in the future",
            Self::TooEarly => return write!(f, "is before {MIN_BIRTH_YEAR}"),
            Self::BadCheckDigit => "has a check digit that does not match",
        };
        f.write_str(text)
    }
}

/// One problem: the form field (its name in [`SignupForm`]) and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldProblem {
    pub field: &'static str,
    pub problem: ProblemKind,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

/// Why a sign-up failed.
#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// The form has problems; all of them are listed. Show the form again.
    #[error("the sign-up form has problems: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldProblem>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("setting the password failed: {0}")]
    Credential(#[from] CredentialError),
    #[error("sealing the HKID failed: {0}")]
    Crypto(#[from] CryptoError),
}

/// A sign-up form whose every field parsed. Only [`SignupForm::validate`] makes one.
#[derive(Clone, PartialEq, Eq)]
pub struct ValidSignup {
    pub username: Username,
    pub password: Option<String>,
    pub name_en: String,
    pub name_zh: Option<String>,
    pub birthdate: Option<Birthdate>,
    pub gender: Gender,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub residential_address: Option<String>,
    pub postal_address: Option<String>,
    pub hkid: Option<Hkid>,
}

impl fmt::Debug for ValidSignup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidSignup").field("username", &self.username).finish_non_exhaustive()
    }
}

impl SignupForm {
    /// Checks every field and returns the parsed values, or every problem found.
    /// `password_required`: whether an account without a password is refused.
    /// Whether the username is free is for [`SignupService`] to find out.
    pub fn validate(&self, now: UnixTime, password_required: bool) -> Result<ValidSignup, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut fail = |field: &'static str, problem: ProblemKind| problems.push(FieldProblem { field, problem });

        let username = parse_username(&self.username).map_err(|p| fail("username", p)).ok();
        let password = filled_raw(self.password.as_deref());
        let confirm = filled_raw(self.password_confirm.as_deref());
        match password {
            None if password_required => fail("password", ProblemKind::Required),
            Some(pw) => {
                if let Err(p) = check_password(username.as_ref(), pw) {
                    fail("password", p);
                }
            }
            None => {}
        }
        if (password.is_some() || confirm.is_some()) && password != confirm {
            fail("password_confirm", ProblemKind::Mismatch);
        }
        let name_en = match filled(Some(&self.name_en)) {
            None => {
                fail("name_en", ProblemKind::Required);
                None
            }
            Some(name) => check_text(name, MAX_NAME_CHARS, false).map_err(|p| fail("name_en", p)).ok(),
        };
        let name_zh = optional(self.name_zh.as_deref(), |s| check_text(s, MAX_NAME_CHARS, false), "name_zh", &mut fail);
        let birthdate = optional(self.birthdate.as_deref(), |s| parse_birthdate(s, now), "birthdate", &mut fail);
        let gender = optional(
            self.gender.as_deref(),
            |s| s.to_ascii_lowercase().parse::<Gender>().map_err(|_| ProblemKind::Invalid),
            "gender",
            &mut fail,
        );
        let email =
            optional(self.email.as_deref(), |s| Email::parse(s).map_err(|_| ProblemKind::Invalid), "email", &mut fail);
        let phone = optional(self.phone.as_deref(), parse_phone, "phone", &mut fail);
        let residential_address = optional(
            self.residential_address.as_deref(),
            |s| check_text(s, MAX_ADDRESS_CHARS, true),
            "residential_address",
            &mut fail,
        );
        let postal_address = optional(
            self.postal_address.as_deref(),
            |s| check_text(s, MAX_ADDRESS_CHARS, true),
            "postal_address",
            &mut fail,
        );
        let hkid = optional(self.hkid.as_deref(), |s| Hkid::parse(s).map_err(hkid_problem), "hkid", &mut fail);

        match (username, name_en) {
            (Some(username), Some(name_en)) if problems.is_empty() => Ok(ValidSignup {
                username,
                password: password.map(str::to_owned),
                name_en,
                name_zh: name_zh.flatten(),
                birthdate: birthdate.flatten(),
                gender: gender.flatten().unwrap_or_default(),
                email: email.flatten(),
                phone: phone.flatten(),
                residential_address: residential_address.flatten(),
                postal_address: postal_address.flatten(),
                hkid: hkid.flatten(),
            }),
            _ => Err(problems),
        }
    }
}

/// Creates citizens' accounts.
#[derive(Clone)]
pub struct SignupService {
    db: Db,
    passwords: PasswordService,
    personal_data: Cipher,
    password_required: bool,
}

impl fmt::Debug for SignupService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupService").field("password_required", &self.password_required).finish_non_exhaustive()
    }
}

impl SignupService {
    /// `personal_data` must be the master key's `Purpose::PersonalData` cipher. A password is
    /// required by default (see [`SignupService::password_required`]).
    pub fn new(db: Db, passwords: PasswordService, personal_data: Cipher) -> Self {
        Self { db, passwords, personal_data, password_required: true }
    }

    /// Whether sign-up refuses a form without a password (default `true`; passkey-only
    /// accounts will turn it off).
    #[must_use]
    pub fn password_required(mut self, required: bool) -> Self {
        self.password_required = required;
        self
    }

    /// A citizen signs themselves up: no roles, the audit actor is the new citizen.
    ///
    /// # Errors
    /// [`SignupError::Invalid`] with every problem (including a taken username), or a
    /// store, hashing or sealing failure.
    pub async fn register(&self, form: SignupForm, now: UnixTime) -> Result<Citizen, SignupError> {
        self.register_with_roles(form, &[], None, now).await
    }

    /// Creates an account with `roles` (an operator's tool). `actor` names who did it in the
    /// audit trail (`operator:<name>`, `system`); `None` means the new citizen.
    ///
    /// # Errors
    /// As [`SignupService::register`].
    #[tracing::instrument(skip_all, fields(citizen_id))]
    pub async fn register_with_roles(
        &self,
        form: SignupForm,
        roles: &[Role],
        actor: Option<String>,
        now: UnixTime,
    ) -> Result<Citizen, SignupError> {
        let (mut citizen, password) = self.insert_disabled(form, roles, self.password_required, now).await?;
        let finished = self.finish(&citizen, password.as_deref(), actor, now).await;
        if let Err(e) = &finished {
            tracing::error!(citizen_id = %citizen.id, error = %e, "sign-up failed after the account was inserted; it stays disabled");
        }
        finished?;
        citizen.status = CitizenStatus::Active;
        tracing::info!(password = password.is_some(), "citizen created");
        Ok(citizen)
    }

    /// The first half of a passkey-only sign-up: validates the profile (no password) and
    /// stores the account disabled, so it can be bound to a passkey ceremony. It becomes
    /// usable only through [`SignupService::complete_passkey_signup`]; an account never
    /// completed frees its username after [`ABANDONED_SIGNUP_SECS`].
    pub async fn begin_passkey_signup(&self, form: SignupForm, now: UnixTime) -> Result<Citizen, SignupError> {
        self.begin_passkey_signup_with_roles(form, &[], now).await
    }

    /// [`SignupService::begin_passkey_signup`] for an account with `roles` (an operator
    /// enrolling through an invitation).
    pub async fn begin_passkey_signup_with_roles(
        &self,
        mut form: SignupForm,
        roles: &[Role],
        now: UnixTime,
    ) -> Result<Citizen, SignupError> {
        form.password = None;
        form.password_confirm = None;
        let (citizen, _) = self.insert_disabled(form, roles, false, now).await?;
        Ok(citizen)
    }

    /// The second half: the citizen's first passkey is registered, the account goes live.
    pub async fn complete_passkey_signup(&self, citizen: &Citizen, now: UnixTime) -> Result<(), SignupError> {
        self.finish(citizen, None, None, now).await?;
        tracing::info!(password = false, "citizen created with a passkey");
        Ok(())
    }

    /// Validates and inserts the account, disabled. A username held by an abandoned
    /// passkey sign-up (disabled, no credential, older than [`ABANDONED_SIGNUP_SECS`]) is
    /// released first.
    async fn insert_disabled(
        &self,
        form: SignupForm,
        roles: &[Role],
        password_required: bool,
        now: UnixTime,
    ) -> Result<(Citizen, Option<String>), SignupError> {
        let valid = form.validate(now, password_required);
        let username = match &valid {
            Ok(v) => Some(v.username.clone()),
            Err(_) => parse_username(&form.username).ok(),
        };
        let cutoff = now.plus_secs(-ABANDONED_SIGNUP_SECS);
        let taken = match username {
            Some(name) => {
                self.db
                    .run(move |conn| match citizens::by_username(conn, &name)? {
                        Some(existing) => Ok(!citizens::delete_abandoned(conn, existing.id, cutoff)?),
                        None => Ok(false),
                    })
                    .await?
            }
            None => false,
        };
        let valid = match (valid, taken) {
            (Ok(valid), false) => valid,
            (result, taken) => {
                let mut problems = result.err().unwrap_or_default();
                if taken {
                    problems.insert(0, FieldProblem { field: "username", problem: ProblemKind::Taken });
                }
                return Err(SignupError::Invalid(problems));
            }
        };

        let mut citizen = Citizen::new(valid.username.clone(), now);
        citizen.status = CitizenStatus::Disabled;
        for role in roles {
            if !citizen.roles.contains(role) {
                citizen.roles.push(*role);
            }
        }
        tracing::Span::current().record("citizen_id", tracing::field::display(citizen.id));
        let hkid_sealed = valid.hkid.as_ref().map(|h| h.seal(&self.personal_data, citizen.id)).transpose()?;
        let profile = Profile {
            name_en: valid.name_en,
            name_zh: valid.name_zh,
            birthdate: valid.birthdate,
            gender: valid.gender,
            email: valid.email,
            phone: valid.phone,
            residential_address: valid.residential_address,
            postal_address: valid.postal_address,
            hkid_sealed,
            ..Profile::default()
        };

        let inserted = citizen.clone();
        match self.db.run(move |conn| citizens::insert(conn, &inserted, &profile)).await {
            Ok(()) => {}
            // Taken between the check and the insert.
            Err(StoreError::Conflict(_)) => {
                return Err(SignupError::Invalid(vec![FieldProblem {
                    field: "username",
                    problem: ProblemKind::Taken,
                }]));
            }
            Err(e) => return Err(e.into()),
        }

        Ok((citizen, valid.password))
    }

    /// Steps 3 and 4 (see the module documentation).
    async fn finish(
        &self,
        citizen: &Citizen,
        password: Option<&str>,
        actor: Option<String>,
        now: UnixTime,
    ) -> Result<(), SignupError> {
        if let Some(password) = password {
            self.passwords.set_password(citizen.id, password, now).await?;
        }
        let event = AuditEvent {
            id: None,
            at: now,
            kind: AuditKind::CITIZEN_CREATED,
            actor: Some(actor.unwrap_or_else(|| citizen.id.to_string())),
            client_id: None,
            ip: None,
            outcome: Outcome::Success,
            detail: audit_detail(citizen, password.is_some()),
        };
        let id = citizen.id;
        self.db
            .run(move |conn| {
                audit::append(conn, &event)?;
                citizens::set_status(conn, id, CitizenStatus::Active, now)
            })
            .await?;
        Ok(())
    }

    /// The citizen's profile, and their HKID masked (`A123***(*)`) when they gave one.
    ///
    /// # Errors
    /// [`SignupError::Store`]; a sealed HKID that does not open is shown as absent and logged.
    pub async fn profile(&self, citizen: &Citizen) -> Result<Option<(Profile, Option<String>)>, SignupError> {
        let id = citizen.id;
        let Some(profile) = self.db.run(move |conn| citizens::profile(conn, id)).await? else { return Ok(None) };
        let masked = match &profile.hkid_sealed {
            Some(sealed) => match self.open_hkid(id, sealed) {
                Ok(hkid) => Some(hkid.masked()),
                Err(e) => {
                    tracing::error!(citizen_id = %id, error = %e, "a sealed HKID does not open");
                    None
                }
            },
            None => None,
        };
        Ok(Some((profile, masked)))
    }

    /// The citizen edits the data Tessera can share: the same rules as at sign-up (the
    /// username, password and HKID are not part of this form and stay as they are). A
    /// changed email or phone is no longer verified. Audited (`citizen.updated`) with the
    /// names of the fields that changed, never their values. Returns those names.
    ///
    /// # Errors
    /// [`SignupError::Invalid`] with every problem found; [`SignupError::Store`].
    pub async fn update_profile(
        &self,
        citizen: &Citizen,
        mut form: SignupForm,
        now: UnixTime,
    ) -> Result<Vec<&'static str>, SignupError> {
        form.username = citizen.username.as_str().to_owned();
        form.password = None;
        form.password_confirm = None;
        form.hkid = None;
        let valid = form.validate(now, false).map_err(SignupError::Invalid)?;
        let id = citizen.id;
        let current = self.db.run(move |conn| citizens::profile(conn, id)).await?.unwrap_or_default();
        let updated = Profile {
            email_verified: current.email_verified && current.email == valid.email,
            phone_verified: current.phone_verified && current.phone == valid.phone,
            hkid_sealed: current.hkid_sealed.clone(),
            name_en: valid.name_en,
            name_zh: valid.name_zh,
            birthdate: valid.birthdate,
            gender: valid.gender,
            email: valid.email,
            phone: valid.phone,
            residential_address: valid.residential_address,
            postal_address: valid.postal_address,
        };
        let mut changed = Vec::new();
        let mut note = |field: &'static str, differs: bool| {
            if differs {
                changed.push(field);
            }
        };
        note("name_en", current.name_en != updated.name_en);
        note("name_zh", current.name_zh != updated.name_zh);
        note("birthdate", current.birthdate != updated.birthdate);
        note("gender", current.gender != updated.gender);
        note("email", current.email != updated.email);
        note("phone", current.phone != updated.phone);
        note("residential_address", current.residential_address != updated.residential_address);
        note("postal_address", current.postal_address != updated.postal_address);
        if changed.is_empty() {
            return Ok(changed);
        }
        let event = AuditEvent {
            actor: Some(id.to_string()),
            detail: serde_json::json!({ "fields": changed }).to_string(),
            ..AuditEvent::new(AuditKind::CITIZEN_UPDATED, now)
        };
        self.db
            .run(move |conn| {
                conn.transaction::<_, StoreError, _>(|conn| {
                    citizens::update_profile(conn, id, &updated, now)?;
                    audit::append(conn, &event)
                })
            })
            .await?;
        Ok(changed)
    }

    /// Reads back an HKID sealed at sign-up (for the userinfo endpoint).
    ///
    /// # Errors
    /// [`OpenHkidError`] if it does not open for this citizen or is not an HKID.
    pub fn open_hkid(&self, citizen_id: CitizenId, sealed: &[u8]) -> Result<Hkid, OpenHkidError> {
        Hkid::open(&self.personal_data, citizen_id, sealed)
    }
}

/// The audit detail: the citizen id, roles and whether a password was set; no personal data.
fn audit_detail(citizen: &Citizen, password: bool) -> String {
    let roles: Vec<String> = citizen.roles.iter().map(|r| format!("\"{}\"", r.as_str())).collect();
    format!(r#"{{"citizen_id":"{}","roles":[{}],"password":{password}}}"#, citizen.id, roles.join(","))
}

fn filled(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|s| !s.is_empty())
}

/// For passwords: untrimmed, but empty counts as absent.
fn filled_raw(value: Option<&str>) -> Option<&str> {
    value.filter(|s| !s.is_empty())
}

/// Parses an optional field; `Some(None)` when it is blank, `None` when it is invalid
/// (the problem is recorded).
fn optional<T>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, ProblemKind>,
    field: &'static str,
    fail: &mut impl FnMut(&'static str, ProblemKind),
) -> Option<Option<T>> {
    match filled(value) {
        None => Some(None),
        Some(s) => match parse(s) {
            Ok(v) => Some(Some(v)),
            Err(p) => {
                fail(field, p);
                None
            }
        },
    }
}

fn parse_username(raw: &str) -> Result<Username, ProblemKind> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ProblemKind::Required);
    }
    Username::parse(trimmed).map_err(|_| match trimmed.chars().count() {
        0..3 => ProblemKind::TooShort,
        65.. => ProblemKind::TooLong,
        _ => ProblemKind::Invalid,
    })
}

fn check_password(username: Option<&Username>, password: &str) -> Result<(), ProblemKind> {
    let checked = match username {
        Some(username) => PasswordService::check_policy(username, password),
        // Without a valid username, check what does not depend on it.
        None if password.chars().count() < MIN_PASSWORD_CHARS => Err(CredentialError::PasswordTooShort),
        None if password.len() > MAX_PASSWORD_BYTES => Err(CredentialError::PasswordTooLong),
        None => Ok(()),
    };
    checked.map_err(|e| match e {
        CredentialError::PasswordTooShort => ProblemKind::PasswordTooShort,
        CredentialError::PasswordTooLong => ProblemKind::PasswordTooLong,
        CredentialError::PasswordContainsUsername => ProblemKind::PasswordContainsUsername,
        _ => ProblemKind::Invalid,
    })
}

/// Free text (a name or an address), already trimmed: bounded, no control characters
/// except line breaks where `multiline`.
fn check_text(s: &str, max_chars: usize, multiline: bool) -> Result<String, ProblemKind> {
    if s.chars().count() > max_chars {
        return Err(ProblemKind::TooLong);
    }
    if s.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r'))) {
        return Err(ProblemKind::Invalid);
    }
    Ok(s.to_owned())
}

fn parse_birthdate(s: &str, now: UnixTime) -> Result<Birthdate, ProblemKind> {
    let date = Birthdate::parse(s).map_err(|_| ProblemKind::Invalid)?;
    if date.year() < MIN_BIRTH_YEAR {
        return Err(ProblemKind::TooEarly);
    }
    if latest_date(now).is_some_and(|today| date > today) {
        return Err(ProblemKind::InFuture);
    }
    Ok(date)
}

/// Today's date where it is latest on Earth (UTC+14), so that nobody's "today" is refused.
/// `None` only for a `now` outside the years 1000 to 9999.
fn latest_date(now: UnixTime) -> Option<Birthdate> {
    let (year, month, day, ..) = now.civil(14 * 3600);
    Birthdate::from_parts(u16::try_from(year).ok()?, u8::try_from(month).ok()?, u8::try_from(day).ok()?).ok()
}

/// A Hong Kong number of 8 digits (first digit 2 to 9) becomes `+852` and the digits;
/// anything starting with `+` is an international number. Spaces and hyphens are ignored.
fn parse_phone(s: &str) -> Result<Phone, ProblemKind> {
    let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let international = if compact.starts_with('+') {
        compact
    } else if compact.len() == 8 && compact.chars().all(|c| c.is_ascii_digit()) && !compact.starts_with(['0', '1']) {
        format!("+852{compact}")
    } else {
        return Err(ProblemKind::Invalid);
    };
    Phone::parse(&international).map_err(|_| ProblemKind::Invalid)
}

fn hkid_problem(e: DomainError) -> ProblemKind {
    if e.reason == HKID_CHECK_DIGIT_REASON { ProblemKind::BadCheckDigit } else { ProblemKind::Invalid }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn latest_date_is_utc_plus_14() {
        // 2026-11-29T09:59:59Z is already 2026-11-29 23:59:59 in UTC+14; a second later, the 30th.
        let t = UnixTime::from_secs(1_795_946_399);
        assert_eq!(latest_date(t).unwrap().to_string(), "2026-11-29");
        assert_eq!(latest_date(t.plus_secs(1)).unwrap().to_string(), "2026-11-30");
    }
}
