//! `tessera citizen add`: creates a citizen's account from the command line, for operators'
//! scripts and for tests. It goes through the same [`SignupService`] as the web sign-up, so
//! the same rules apply; it never prints the password or the HKID.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tessera_crypto::{PasswordHasher, Purpose};
use tessera_domain::{Citizen, Clock, Role, SystemClock};
use tessera_passkey::{FieldProblem, PasswordService, SignupError, SignupForm, SignupService};

use crate::config::Settings;
use crate::keyfile;

/// `tessera citizen add`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CitizenAddArgs {
    /// Sign-in name: 3 to 64 characters of a-z, 0-9, '.', '_' and '-'.
    #[arg(long)]
    pub username: String,
    /// The password. Visible to other users in the process list: prefer --password-file
    /// or --password-stdin.
    #[arg(long, conflicts_with_all = ["password_file", "password_stdin"])]
    pub password: Option<String>,
    /// Read the password from this file (one trailing line break is dropped).
    #[arg(long, value_name = "PATH", conflicts_with = "password_stdin")]
    pub password_file: Option<PathBuf>,
    /// Read the password from standard input (one trailing line break is dropped).
    #[arg(long)]
    pub password_stdin: bool,
    /// Name in English, as on the identity card.
    #[arg(long)]
    pub name_en: String,
    /// Name in Chinese.
    #[arg(long)]
    pub name_zh: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long)]
    pub birthdate: Option<String>,
    /// female, male, other or undisclosed.
    #[arg(long)]
    pub gender: Option<String>,
    /// Email address (stored unverified).
    #[arg(long)]
    pub email: Option<String>,
    /// An 8-digit Hong Kong number or an international number starting with '+'.
    #[arg(long)]
    pub phone: Option<String>,
    /// Residential address; may span lines.
    #[arg(long)]
    pub residential_address: Option<String>,
    /// Postal address; may span lines.
    #[arg(long)]
    pub postal_address: Option<String>,
    /// Hong Kong identity card number, such as A123456(3). Stored encrypted, never printed;
    /// like --password it is visible in the process list while the command runs.
    #[arg(long)]
    pub hkid: Option<String>,
    /// Give the citizen the operator role.
    #[arg(long)]
    pub operator: bool,
    /// Print the result as one JSON object: {"id": "...", "username": "..."}.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tessera citizen add`: prints `created citizen <username> (<id>)`, or with `--json`
/// one JSON object, on standard output.
///
/// # Errors
/// An error naming every invalid option, or why the key, database or store failed.
pub async fn citizen_add(settings: &Settings, args: CitizenAddArgs) -> anyhow::Result<()> {
    let json = args.json;
    let citizen = add(settings, args, &mut std::io::stdin()).await?;
    if json {
        let out = serde_json::json!({ "id": citizen.id.to_string(), "username": citizen.username.as_str() });
        println!("{out}");
    } else {
        println!("created citizen {} ({})", citizen.username.as_str(), citizen.id);
    }
    Ok(())
}

/// Creates the citizen; `stdin` is read only with `--password-stdin`.
async fn add(settings: &Settings, args: CitizenAddArgs, stdin: &mut impl Read) -> anyhow::Result<Citizen> {
    let password = read_password(&args, stdin)?;
    let master_key = keyfile::load_master_key(&settings.master_key)?;
    let cipher = master_key.cipher(Purpose::PersonalData).context("cannot derive the personal-data cipher")?;
    let db = crate::startup::connect_database(settings).await?;
    db.migrate().await.context("database migrations failed")?;
    // One hash at a time is plenty for one command.
    let hasher = PasswordHasher::new(1).context("cannot set up password hashing")?;
    let signup = SignupService::new(db.clone(), PasswordService::new(db, hasher), cipher);

    let roles = if args.operator { vec![Role::Operator] } else { Vec::new() };
    let form = SignupForm {
        username: args.username,
        password_confirm: password.clone(),
        password,
        name_en: args.name_en,
        name_zh: args.name_zh,
        birthdate: args.birthdate,
        gender: args.gender,
        email: args.email,
        phone: args.phone,
        residential_address: args.residential_address,
        postal_address: args.postal_address,
        hkid: args.hkid,
    };
    match signup.register_with_roles(form, &roles, Some("operator:cli".to_owned()), SystemClock.now()).await {
        Ok(citizen) => Ok(citizen),
        Err(SignupError::Invalid(problems)) => bail!("cannot create the citizen: {}", describe(&problems)),
        Err(e) => Err(e).context("cannot create the citizen"),
    }
}

fn read_password(args: &CitizenAddArgs, stdin: &mut impl Read) -> anyhow::Result<Option<String>> {
    let raw = if let Some(password) = &args.password {
        password.clone()
    } else if let Some(path) = &args.password_file {
        read_file(path)?
    } else if args.password_stdin {
        let mut text = String::new();
        stdin.read_to_string(&mut text).context("cannot read the password from standard input")?;
        text
    } else {
        return Ok(None);
    };
    let password = raw.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&raw);
    Ok(Some(password.to_owned()))
}

fn read_file(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read the password file {}", path.display()))
}

/// `--username is already taken; --password is required`: each problem under its option.
fn describe(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            let option = match p.field {
                // The command fills the confirmation in itself.
                "password" | "password_confirm" => "--password".to_owned(),
                field => format!("--{}", field.replace('_', "-")),
            };
            format!("{option} {}", p.problem)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::config::{RawConfig, validate};
    use clap::Parser;
    use tessera_domain::CitizenStatus;
    use tessera_passkey::PasswordVerdict;
    use tessera_store::citizens;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: CitizenAddArgs,
    }

    fn parse(argv: &[&str]) -> Result<CitizenAddArgs, clap::Error> {
        Wrapper::try_parse_from(std::iter::once("citizen-add").chain(argv.iter().copied())).map(|w| w.args)
    }

    fn settings(dir: &Path) -> Settings {
        validate(RawConfig { data_dir: dir.to_path_buf(), ..RawConfig::default() }).unwrap()
    }

    fn args(username: &str) -> CitizenAddArgs {
        CitizenAddArgs {
            username: username.into(),
            password: Some("correct horse battery".into()),
            name_en: "CHAN, Tai Man".into(),
            ..CitizenAddArgs::default()
        }
    }

    #[test]
    fn options_parse_and_password_sources_exclude_each_other() {
        let a = parse(&[
            "--username",
            "chan.taiman",
            "--password-stdin",
            "--name-en",
            "CHAN, Tai Man",
            "--hkid",
            "A123456(3)",
            "--operator",
            "--json",
        ])
        .unwrap();
        assert_eq!(a.username, "chan.taiman");
        assert!(a.password_stdin && a.operator && a.json);
        assert_eq!(a.hkid.as_deref(), Some("A123456(3)"));
        assert!(parse(&["--username", "u", "--name-en", "n", "--password", "p", "--password-stdin"]).is_err());
        assert!(parse(&["--username", "u", "--name-en", "n", "--password", "p", "--password-file", "f"]).is_err());
        assert!(parse(&["--username", "u", "--name-en", "n", "--password-file", "f", "--password-stdin"]).is_err());
        assert!(parse(&["--name-en", "n"]).is_err());
    }

    #[test]
    fn passwords_lose_one_trailing_line_break_only() {
        let stdin_args = CitizenAddArgs { password_stdin: true, ..CitizenAddArgs::default() };
        let read = |input: &str| read_password(&stdin_args, &mut input.as_bytes()).unwrap().unwrap();
        assert_eq!(read("secret words here\n"), "secret words here");
        assert_eq!(read("secret words here\r\n"), "secret words here");
        assert_eq!(read(" spaced \n\n"), " spaced \n");
        assert_eq!(read("no newline"), "no newline");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "from a file\n").unwrap();
        let file_args = CitizenAddArgs { password_file: Some(path), ..CitizenAddArgs::default() };
        assert_eq!(read_password(&file_args, &mut std::io::empty()).unwrap().unwrap(), "from a file");
        assert_eq!(read_password(&CitizenAddArgs::default(), &mut std::io::empty()).unwrap(), None);
    }

    #[tokio::test]
    async fn adds_a_citizen_and_names_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        let citizen = add(
            &settings,
            CitizenAddArgs { operator: true, hkid: Some("A123456(3)".into()), ..args("chan.taiman") },
            &mut std::io::empty(),
        )
        .await
        .unwrap();
        assert_eq!(citizen.status, CitizenStatus::Active);
        assert!(citizen.has_role(Role::Operator));

        let db = crate::startup::connect_database(&settings).await.unwrap();
        let id = citizen.id;
        let profile = db.run(move |c| citizens::profile(c, id)).await.unwrap().unwrap();
        assert!(profile.hkid_sealed.is_some());
        let passwords = PasswordService::new(db.clone(), PasswordHasher::new(1).unwrap());
        assert_eq!(
            passwords.verify(&citizen.username, "correct horse battery", SystemClock.now()).await.unwrap(),
            PasswordVerdict::Accepted(id)
        );

        let bad = CitizenAddArgs {
            password: Some("short".into()),
            name_en: String::new(),
            hkid: Some("A123456(4)".into()),
            residential_address: Some("x".repeat(501)),
            ..args("chan.taiman")
        };
        let err = add(&settings, bad, &mut std::io::empty()).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot create the citizen: --username is already taken; --password must have at least 12 characters; \
             --name-en is required; --residential-address is too long; --hkid has a check digit that does not match"
        );
        assert!(!err.contains("short") && !err.contains("123456"));

        let none = CitizenAddArgs { password: None, ..args("lee.siuming") };
        let err = add(&settings, none, &mut std::io::empty()).await.unwrap_err().to_string();
        assert_eq!(err, "cannot create the citizen: --password is required");
    }
}
