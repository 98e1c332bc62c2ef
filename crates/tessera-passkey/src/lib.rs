//! tessera-passkey: the credential service. Citizens prove who they are with a passkey
//! (WebAuthn, arriving in its own issue) or, as a fallback, a password.
//!
//! [`password::PasswordService`] owns the password fallback: the policy, Argon2id hashing
//! on the bounded blocking pool, and verification that answers an unknown username with
//! the same work as a wrong password.

pub mod enrolment;
pub mod hkid;
pub mod password;
pub mod signin;
pub mod signup;
pub mod throttle;
pub mod webauthn;

pub use hkid::{Hkid, OpenHkidError};
pub use password::{CredentialError, PasswordChange, PasswordService, PasswordVerdict};
pub use signin::{ACR_PASSKEY, ACR_PASSWORD, ACR_VALUES, SignInError, SignInOutcome, SignInService, SignedIn};
pub use signup::{FieldProblem, ProblemKind, SignupError, SignupForm, SignupService, ValidSignup};
pub use throttle::{SignInThrottle, ThrottleError, ThrottlePolicy, ThrottleReason, Throttled};
pub use webauthn::{
    AMR_DEVICE_BOUND_PASSKEY, AMR_SYNCED_PASSKEY, CEREMONY_TTL, Ceremony, MAX_PASSKEY_NAME_CHARS, PasskeyError,
    PasskeyService,
};
