//! Sign-up on a real SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_crypto::{MasterKey, PasswordHasher, Purpose};
use tessera_domain::{AuditKind, Birthdate, CitizenStatus, Gender, Role, UnixTime, Username};
use tessera_passkey::{
    FieldProblem, PasswordService, PasswordVerdict, ProblemKind, SignupError, SignupForm, SignupService,
};
use tessera_store::audit::{self, AuditFilter};
use tessera_store::{Db, DbOptions, citizens, credentials};

/// 2027-01-15T00:00:00Z.
const NOW: UnixTime = UnixTime::from_secs(1_799_971_200);
const PASSWORD: &str = "correct horse battery";

struct Setup {
    signup: SignupService,
    passwords: PasswordService,
    db: Db,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()), &DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    let passwords = PasswordService::new(db.clone(), PasswordHasher::new(2).unwrap());
    let cipher = MasterKey::generate().unwrap().cipher(Purpose::PersonalData).unwrap();
    let signup = SignupService::new(db.clone(), passwords.clone(), cipher);
    Setup { signup, passwords, db, _dir: dir }
}

fn form() -> SignupForm {
    SignupForm {
        username: "chan.taiman".into(),
        password: Some(PASSWORD.into()),
        password_confirm: Some(PASSWORD.into()),
        name_en: "CHAN, Tai Man".into(),
        ..SignupForm::default()
    }
}

fn full_form() -> SignupForm {
    SignupForm {
        username: "  Chan.TaiMan ".into(),
        name_zh: Some("陳大文".into()),
        birthdate: Some("1990-05-06".into()),
        gender: Some("Male".into()),
        email: Some(" Tai.Man@Example.HK ".into()),
        phone: Some("9123 4567".into()),
        residential_address: Some("Flat A, 1/F\n1 Queen's Road Central".into()),
        postal_address: Some("".into()),
        hkid: Some("a123456(3)".into()),
        ..form()
    }
}

fn problems(result: Result<impl std::fmt::Debug, SignupError>) -> Vec<FieldProblem> {
    match result {
        Err(SignupError::Invalid(p)) => p,
        other => panic!("expected invalid, got {other:?}"),
    }
}

fn problem(field: &'static str, problem: ProblemKind) -> FieldProblem {
    FieldProblem { field, problem }
}

#[tokio::test]
async fn a_complete_form_creates_an_active_citizen_with_a_password() {
    let s = setup().await;
    let citizen = s.signup.register(full_form(), NOW).await.unwrap();
    assert_eq!(citizen.username.as_str(), "chan.taiman");
    assert_eq!(citizen.status, CitizenStatus::Active);
    assert!(citizen.roles.is_empty());

    let id = citizen.id;
    let stored = s.db.run(move |c| citizens::by_id(c, id)).await.unwrap().unwrap();
    assert_eq!(stored, citizen);
    let profile = s.db.run(move |c| citizens::profile(c, id)).await.unwrap().unwrap();
    assert_eq!(profile.name_en, "CHAN, Tai Man");
    assert_eq!(profile.name_zh.as_deref(), Some("陳大文"));
    assert_eq!(profile.birthdate, Some(Birthdate::parse("1990-05-06").unwrap()));
    assert_eq!(profile.gender, Gender::Male);
    assert_eq!(profile.email.as_ref().unwrap().as_str(), "Tai.Man@example.hk");
    assert!(!profile.email_verified);
    assert_eq!(profile.phone.as_ref().unwrap().as_str(), "+85291234567");
    assert_eq!(profile.residential_address.as_deref(), Some("Flat A, 1/F\n1 Queen's Road Central"));
    assert_eq!(profile.postal_address, None);

    // The HKID is stored sealed, bound to this citizen.
    let sealed = profile.hkid_sealed.unwrap();
    assert!(!sealed.windows(6).any(|w| w == b"123456"));
    assert_eq!(s.signup.open_hkid(id, &sealed).unwrap().as_str(), "A123456(3)");
    assert!(s.signup.open_hkid(tessera_domain::CitizenId::generate(), &sealed).is_err());

    assert_eq!(
        s.passwords.verify(&citizen.username, PASSWORD, NOW).await.unwrap(),
        PasswordVerdict::Accepted(citizen.id)
    );
}

#[tokio::test]
async fn creation_is_audited_without_personal_data() {
    let s = setup().await;
    let citizen = s.signup.register(full_form(), NOW).await.unwrap();
    let filter = AuditFilter { kind: Some(AuditKind::CITIZEN_CREATED), ..AuditFilter::default() };
    let events = s.db.run(move |c| audit::list(c, &filter)).await.unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.at, NOW);
    assert_eq!(event.actor.as_deref(), Some(citizen.id.to_string().as_str()));
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap();
    assert_eq!(detail, serde_json::json!({"citizen_id": citizen.id.to_string(), "roles": [], "password": true}));
    for secret in ["chan", "CHAN", "陳", "123456", "Queen", "9123", "Tai.Man", PASSWORD] {
        assert!(!format!("{event:?}").contains(secret), "{secret}");
    }
}

#[tokio::test]
async fn every_problem_is_reported_at_once() {
    let s = setup().await;
    let bad = SignupForm {
        username: "x!".into(),
        password: Some("short".into()),
        password_confirm: Some("shorter".into()),
        name_en: "   ".into(),
        name_zh: Some("a\u{7}b".into()),
        birthdate: Some("1990-02-30".into()),
        gender: Some("unknown".into()),
        email: Some("not-an-email".into()),
        phone: Some("12345".into()),
        residential_address: Some("x".repeat(501)),
        postal_address: Some("line\u{0}".into()),
        hkid: Some("A123456(4)".into()),
    };
    let got = problems(s.signup.register(bad, NOW).await);
    let expected = vec![
        problem("username", ProblemKind::TooShort),
        problem("password", ProblemKind::PasswordTooShort),
        problem("password_confirm", ProblemKind::Mismatch),
        problem("name_en", ProblemKind::Required),
        problem("name_zh", ProblemKind::Invalid),
        problem("birthdate", ProblemKind::Invalid),
        problem("gender", ProblemKind::Invalid),
        problem("email", ProblemKind::Invalid),
        problem("phone", ProblemKind::Invalid),
        problem("residential_address", ProblemKind::TooLong),
        problem("postal_address", ProblemKind::Invalid),
        problem("hkid", ProblemKind::BadCheckDigit),
    ];
    assert_eq!(got, expected);
    // Nothing was written.
    let all = s.db.run(|c| citizens::list(c, None, 10)).await.unwrap();
    assert!(all.is_empty());
}

#[tokio::test]
async fn username_problems() {
    let s = setup().await;
    let cases = [
        ("", ProblemKind::Required),
        ("   ", ProblemKind::Required),
        ("ab", ProblemKind::TooShort),
        (&"a".repeat(65), ProblemKind::TooLong),
        ("has space", ProblemKind::Invalid),
        ("-dash", ProblemKind::Invalid),
        ("陳大文", ProblemKind::Invalid),
    ];
    for (username, kind) in cases {
        let got = problems(s.signup.register(SignupForm { username: username.into(), ..form() }, NOW).await);
        assert_eq!(got, [problem("username", kind)], "{username:?}");
    }
}

#[tokio::test]
async fn a_taken_username_is_reported_with_the_other_problems() {
    let s = setup().await;
    s.signup.register(form(), NOW).await.unwrap();
    let again = SignupForm { username: "CHAN.TAIMAN".into(), email: Some("nope".into()), ..form() };
    assert_eq!(
        problems(s.signup.register(again, NOW).await),
        [problem("username", ProblemKind::Taken), problem("email", ProblemKind::Invalid)]
    );
    let users = s.db.run(|c| citizens::list(c, None, 10)).await.unwrap();
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn password_rules() {
    let s = setup().await;
    let with = |pw: Option<&str>, confirm: Option<&str>| SignupForm {
        password: pw.map(Into::into),
        password_confirm: confirm.map(Into::into),
        ..form()
    };
    let cases: Vec<(SignupForm, Vec<FieldProblem>)> = vec![
        (with(None, None), vec![problem("password", ProblemKind::Required)]),
        (with(Some(""), Some("")), vec![problem("password", ProblemKind::Required)]),
        (
            with(None, Some(PASSWORD)),
            vec![problem("password", ProblemKind::Required), problem("password_confirm", ProblemKind::Mismatch)],
        ),
        (with(Some(PASSWORD), None), vec![problem("password_confirm", ProblemKind::Mismatch)]),
        (
            with(Some(PASSWORD), Some("correct horse battery ")),
            vec![problem("password_confirm", ProblemKind::Mismatch)],
        ),
        (
            with(Some("I am Chan.TaiMan!"), Some("I am Chan.TaiMan!")),
            vec![problem("password", ProblemKind::PasswordContainsUsername)],
        ),
        (
            with(Some(&"長".repeat(400)), Some(&"長".repeat(400))),
            vec![problem("password", ProblemKind::PasswordTooLong)],
        ),
    ];
    for (form, expected) in cases {
        assert_eq!(problems(s.signup.register(form, NOW).await), expected);
    }
    // A password is taken as typed: surrounding spaces are part of it.
    let spaced = " correct horse battery ";
    let citizen = s.signup.register(with(Some(spaced), Some(spaced)), NOW).await.unwrap();
    assert_eq!(
        s.passwords.verify(&citizen.username, spaced, NOW).await.unwrap(),
        PasswordVerdict::Accepted(citizen.id)
    );
    assert_eq!(s.passwords.verify(&citizen.username, PASSWORD, NOW).await.unwrap(), PasswordVerdict::Refused);
}

#[tokio::test]
async fn without_a_required_password_the_account_has_none() {
    let s = setup().await;
    let signup = s.signup.clone().password_required(false);
    let form = SignupForm { password: None, password_confirm: None, ..form() };
    let citizen = signup.register(form, NOW).await.unwrap();
    let id = citizen.id;
    assert!(s.db.run(move |c| credentials::password_for(c, id)).await.unwrap().is_none());
    assert_eq!(citizen.status, CitizenStatus::Active);
}

#[tokio::test]
async fn birthdates_must_be_from_1900_until_today() {
    let s = setup().await;
    // NOW is 2027-01-15 00:00 UTC: already the 15th from UTC+14 westward to UTC.
    let cases = [
        ("1900-01-01", None),
        ("2027-01-15", None),
        ("2027-01-16", Some(ProblemKind::InFuture)),
        ("2100-01-01", Some(ProblemKind::InFuture)),
        ("1899-12-31", Some(ProblemKind::TooEarly)),
        ("1990-13-01", Some(ProblemKind::Invalid)),
        ("06/05/1990", Some(ProblemKind::Invalid)),
    ];
    for (i, (date, kind)) in cases.into_iter().enumerate() {
        let form = SignupForm { username: format!("user{i}"), birthdate: Some(date.into()), ..form() };
        match kind {
            None => {
                s.signup.register(form, NOW).await.unwrap();
            }
            Some(kind) => {
                assert_eq!(problems(s.signup.register(form, NOW).await), [problem("birthdate", kind)], "{date}")
            }
        }
    }
}

#[tokio::test]
async fn phone_numbers_are_normalised() {
    let s = setup().await;
    let cases = [
        ("91234567", Some("+85291234567")),
        ("2345-6789", Some("+85223456789")),
        ("+852 9123 4567", Some("+85291234567")),
        ("+44 20 7946 0958", Some("+442079460958")),
        ("01234567", None),
        ("9123456", None),
        ("912345678", None),
        ("85291234567", None),
        ("+852 9123 456a", None),
        ("(852) 91234567", None),
    ];
    for (i, (input, expected)) in cases.into_iter().enumerate() {
        let form = SignupForm { username: format!("user{i}"), phone: Some(input.into()), ..form() };
        match expected {
            Some(normal) => {
                let citizen = s.signup.register(form, NOW).await.unwrap();
                let id = citizen.id;
                let profile = s.db.run(move |c| citizens::profile(c, id)).await.unwrap().unwrap();
                assert_eq!(profile.phone.unwrap().as_str(), normal, "{input}");
            }
            None => assert_eq!(
                problems(s.signup.register(form, NOW).await),
                [problem("phone", ProblemKind::Invalid)],
                "{input}"
            ),
        }
    }
}

#[tokio::test]
async fn gender_and_blank_optional_fields() {
    let s = setup().await;
    for (i, (input, expected)) in [
        ("female", Gender::Female),
        (" OTHER ", Gender::Other),
        ("", Gender::Undisclosed),
        ("undisclosed", Gender::Undisclosed),
    ]
    .into_iter()
    .enumerate()
    {
        let form = SignupForm {
            username: format!("user{i}"),
            gender: Some(input.into()),
            name_zh: Some("  ".into()),
            email: Some("".into()),
            hkid: Some(" ".into()),
            ..form()
        };
        let citizen = s.signup.register(form, NOW).await.unwrap();
        let id = citizen.id;
        let profile = s.db.run(move |c| citizens::profile(c, id)).await.unwrap().unwrap();
        assert_eq!(profile.gender, expected);
        assert_eq!((profile.name_zh, profile.email, profile.hkid_sealed), (None, None, None));
    }
}

#[tokio::test]
async fn an_operator_account_carries_its_role_and_actor() {
    let s = setup().await;
    let citizen = s
        .signup
        .register_with_roles(form(), &[Role::Operator, Role::Operator], Some("operator:cli".into()), NOW)
        .await
        .unwrap();
    assert_eq!(citizen.roles, [Role::Operator]);
    let id = citizen.id;
    assert!(s.db.run(move |c| citizens::by_id(c, id)).await.unwrap().unwrap().has_role(Role::Operator));
    let events = s.db.run(|c| audit::list(c, &AuditFilter::default())).await.unwrap();
    assert_eq!(events[0].actor.as_deref(), Some("operator:cli"));
    assert!(events[0].detail.contains(r#""roles":["operator"]"#));
}

#[tokio::test]
async fn the_form_debug_output_reveals_nothing() {
    let text = format!("{:?}", full_form());
    for secret in ["chan", "Chan", "陳", "123456", "Queen", "9123", "Tai.Man", PASSWORD, "1990"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("postal_address: \"None\""));
    let valid = full_form().validate(NOW, true).unwrap();
    assert!(!format!("{valid:?}").contains(PASSWORD));
    assert_eq!(valid.username, Username::parse("chan.taiman").unwrap());
}

#[tokio::test]
async fn problem_kinds_have_stable_codes_and_english_text() {
    assert_eq!(ProblemKind::PasswordTooShort.code(), "password_too_short");
    assert_eq!(problem("username", ProblemKind::Taken).to_string(), "username is already taken");
    assert_eq!(
        problem("password", ProblemKind::PasswordTooShort).to_string(),
        "password must have at least 12 characters"
    );
    let err =
        SignupError::Invalid(vec![problem("username", ProblemKind::Taken), problem("hkid", ProblemKind::Invalid)]);
    assert_eq!(err.to_string(), "the sign-up form has problems: username is already taken; hkid is not valid");
}
