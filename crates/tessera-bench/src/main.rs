//! `tessera-load`: drives a running Tessera over loopback with real HTTP and reports, per
//! operation, flows per second and p50/p99 latency, next to what one core can do with the
//! underlying cryptography (the baseline), and the ratios the project tracks.
//!
//! - `tessera-load baseline`: ES256 signatures/s, ES256 verifications/s of a passkey
//!   assertion and Argon2id hashes/s on this process's core(s), through the calls the server
//!   makes; run it under `taskset -c N` to pin it.
//! - `tessera-load run --target http://127.0.0.1:PORT ...`: the baseline (in a child pinned
//!   with `--baseline-cpu`), setup (signs each test citizen in once and gives consent, and
//!   registers a software passkey for each when a passkey phase runs), then each phase
//!   for a fixed time at a fixed concurrency.
//! - `perf script ... | tessera-load perf-groups`: the server's CPU by group of work, from a
//!   `perf` recording (see `run.sh`, `PERF=1`).
//!
//! Only `http://` targets on `localhost`, `127.0.0.0/8` or `[::1]` are accepted; every
//! phase stops by itself. `crates/tessera-bench/run.sh` does the whole measurement.

mod baseline;
mod flows;
mod html;
mod perf_groups;
mod runner;
mod stats;
mod sys;
mod target;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::baseline::Baseline;
use crate::flows::{Agent, BenchPasskey, SSO_COOKIE, Target};
use crate::runner::{Operation, Phase, PhaseResult};
use crate::stats::Summary;
use crate::sys::CpuUse;

#[derive(Debug, Parser)]
#[command(name = "tessera-load", about = "End-to-end load of a Tessera on this machine's loopback interface")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure ES256 signatures/s, ES256 verifications/s and Argon2id
    /// hashes/s on the allowed core(s).
    Baseline(BaselineArgs),
    /// Set up, measure the baseline, load the server, report.
    Run(Box<RunArgs>),
    /// Read `perf script -F comm,tid,ip,sym,dso` output on stdin and print the share of
    /// the samples per group of work (SQLite, JSON, signature checks, ...) as Markdown.
    PerfGroups(PerfGroupsArgs),
}

#[derive(Debug, Args)]
struct PerfGroupsArgs {
    /// The server's CPU time per operation in µs, to print each group's share of it.
    #[arg(long)]
    micros_per_op: Option<f64>,
}

#[derive(Debug, Args)]
struct BaselineArgs {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    secs: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The server's origin: http:// on localhost, 127.0.0.0/8 or [::1] only.
    #[arg(long)]
    target: String,
    /// A confidential client (client_secret_basic) allowed to use `--redirect-uri`.
    #[arg(long)]
    client_id: String,
    #[arg(long, env = "TESSERA_LOAD_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    #[arg(long, default_value = "http://localhost:9/cb")]
    redirect_uri: String,
    #[arg(long, default_value = "openid")]
    scope: String,
    /// Test citizens are `<prefix>000`, `<prefix>001`, ...
    #[arg(long, default_value = "bench-")]
    user_prefix: String,
    /// How many test citizens exist (the pool for password and passkey sign-ins).
    #[arg(long, default_value_t = 32)]
    users: usize,
    /// Every test citizen's password.
    #[arg(long, env = "TESSERA_LOAD_PASSWORD", hide_env_values = true)]
    password: String,
    /// Which operations to run, in order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "client-credentials,silent-sso,password-signin,passkey-signin,passkey-ceremony"
    )]
    phases: Vec<Operation>,
    /// Seconds each phase is measured.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of unmeasured load before each phase.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Agents (each with its own keep-alive connection) per phase.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Run the baseline in a child pinned to this CPU with `taskset` (the server's core).
    #[arg(long)]
    baseline_cpu: Option<usize>,
    /// Seconds per baseline measurement.
    #[arg(long, default_value_t = 3.0)]
    baseline_secs: f64,
    /// Skip the baseline (and so the ratios), e.g. while profiling the server.
    #[arg(long, conflicts_with = "baseline_cpu")]
    no_baseline: bool,
    /// The server's process id, to report the CPU it used during each phase.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also write the results as JSON here.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Also write the results as Markdown here.
    #[arg(long)]
    markdown_out: Option<PathBuf>,
}

/// Upper bounds that keep a mistyped option from turning into a long or heavy load.
const MAX_DURATION_SECS: u64 = 300;
const MAX_CONCURRENCY: usize = 256;
const MAX_USERS: usize = 1000;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Baseline(args) => baseline_command(&args),
        Command::Run(args) => run_command(*args),
        Command::PerfGroups(args) => perf_groups_command(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-load: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn baseline_command(args: &BaselineArgs) -> anyhow::Result<()> {
    ensure!(args.secs > 0.0 && args.secs <= 60.0, "--secs must be in (0, 60]");
    let b = baseline::measure(args.secs)?;
    if args.json {
        println!("{}", serde_json::to_string(&b)?);
    } else {
        println!("CPUs allowed:         {}", b.cpus);
        println!("ES256 signatures/s:   {:.0}", b.es256_signs_per_sec);
        println!("ES256 access JWTs/s:  {:.0}", b.es256_jws_per_sec);
        println!("ES256 verifications/s: {:.0}", b.es256_verifies_per_sec);
        println!("Argon2id hashes/s:    {:.1}", b.argon2id_hashes_per_sec);
        println!("CPU share:            {:.0} %", b.cpu_share * 100.0);
    }
    Ok(())
}

fn perf_groups_command(args: &PerfGroupsArgs) -> anyhow::Result<()> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input).context("cannot read stdin")?;
    let groups = perf_groups::tally(&input);
    ensure!(groups.samples > 0, "no samples in the input (expected `perf script` output)");
    print!("{}", perf_groups::markdown(&groups, args.micros_per_op));
    Ok(())
}

/// Runs `taskset -c CPU <this binary> baseline --json` and reads its answer.
fn pinned_baseline(cpu: usize, secs: f64) -> anyhow::Result<Baseline> {
    let exe = std::env::current_exe().context("cannot find this binary")?;
    let output = std::process::Command::new("taskset")
        .arg("-c")
        .arg(cpu.to_string())
        .arg(exe)
        .args(["baseline", "--json", "--secs", &secs.to_string()])
        .output()
        .context("cannot run taskset (util-linux)")?;
    ensure!(output.status.success(), "the baseline failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).context("the baseline printed no JSON")
}

fn run_command(args: RunArgs) -> anyhow::Result<()> {
    let base = target::loopback_origin(&args.target)?;
    ensure!(args.duration >= 1 && args.duration <= MAX_DURATION_SECS, "--duration must be 1..={MAX_DURATION_SECS}");
    ensure!(args.warmup <= 60, "--warmup must be at most 60");
    ensure!(
        args.concurrency >= 1 && args.concurrency <= MAX_CONCURRENCY,
        "--concurrency must be 1..={MAX_CONCURRENCY}"
    );
    ensure!(args.users >= 1 && args.users <= MAX_USERS, "--users must be 1..={MAX_USERS}");
    ensure!(args.baseline_secs > 0.0 && args.baseline_secs <= 60.0, "--baseline-secs must be in (0, 60]");
    let target = Target {
        base,
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        redirect_uri: args.redirect_uri.clone(),
        scope: args.scope.clone(),
    };
    let users: Vec<String> = (0..args.users).map(|i| format!("{}{i:03}", args.user_prefix)).collect();

    // The baseline first, while the server is idle.
    let baseline = if args.no_baseline {
        None
    } else {
        eprintln!("baseline: measuring ES256 and Argon2id for {} s per measurement ...", args.baseline_secs);
        let measured = match args.baseline_cpu {
            Some(cpu) => pinned_baseline(cpu, args.baseline_secs)?,
            None => {
                eprintln!("baseline: not pinned (no --baseline-cpu): the ratios are only indicative");
                baseline::measure(args.baseline_secs)?
            }
        };
        eprintln!(
            "baseline (CPUs {}): {:.0} ES256 signatures/s, {:.0} ES256 verifications/s, \
             {:.1} Argon2id hashes/s",
            measured.cpus,
            measured.es256_signs_per_sec,
            measured.es256_verifies_per_sec,
            measured.argon2id_hashes_per_sec
        );
        Some(measured)
    };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let results = runtime.block_on(async {
        let needs_citizens = args.phases.iter().any(|p| *p != Operation::ClientCredentials);
        let needs_passkeys = args.phases.iter().any(|p| p.needs_passkeys());
        let prepared = if needs_citizens {
            setup(&target, &users, &args.password, needs_passkeys).await?
        } else {
            Prepared::default()
        };
        let mut results = Vec::new();
        for &operation in &args.phases {
            eprintln!(
                "{}: {} agents, {} s warm-up + {} s ...",
                operation.flow_name(),
                args.concurrency,
                args.warmup,
                args.duration
            );
            let phase = Phase {
                operation,
                target: target.clone(),
                sso: prepared.sso.clone(),
                users: users.clone(),
                password: args.password.clone(),
                passkeys: Arc::clone(&prepared.passkeys),
                webauthn_origin: prepared.webauthn_origin.clone(),
                concurrency: args.concurrency,
                warmup: Duration::from_secs(args.warmup),
                duration: Duration::from_secs(args.duration),
            };
            let result = runner::run(phase, args.server_pid).await?;
            for sample in &result.recorder.error_samples {
                eprintln!("  error: {sample}");
            }
            results.push(result);
        }
        anyhow::Ok(results)
    })?;

    let report = Report::new(&args, baseline, &results);
    let markdown = report.markdown();
    println!("{markdown}");
    if let Some(path) = &args.markdown_out {
        std::fs::write(path, &markdown).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.json_out {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// What the setup prepared for the phases.
#[derive(Default)]
struct Prepared {
    /// The cookies of the first citizen's browser, whose SSO session the silent SSO phase
    /// uses.
    sso: html::Jar,
    /// One registered software passkey per citizen (passkey phases only).
    passkeys: Arc<Vec<BenchPasskey>>,
    /// The issuer's origin, which the passkeys put in their client data.
    webauthn_origin: String,
}

/// Signs every test citizen in once and gives consent to the client, so that the measured
/// flows never see a consent page; with `passkeys`, then registers a software passkey for
/// each citizen in the browser session that sign-in opened.
async fn setup(target: &Target, users: &[String], password: &str, passkeys: bool) -> anyhow::Result<Prepared> {
    eprintln!("setup: signing in {} citizens once and giving consent ...", users.len());
    let agent = Agent::new(target)?;
    let webauthn_origin = if passkeys { agent.issuer_origin().await? } else { String::new() };
    let mut first = None;
    let mut keys = Vec::new();
    for user in users {
        let mut steps = Vec::new();
        let jar = agent
            .password_signin(user, password, true, &mut steps)
            .await
            .with_context(|| format!("setup of citizen {user} failed"))?;
        if passkeys {
            let key = agent
                .register_passkey(&jar, &webauthn_origin)
                .await
                .with_context(|| format!("registering a passkey for citizen {user} failed"))?;
            keys.push(BenchPasskey::new(user.clone(), key));
        }
        first.get_or_insert(jar);
    }
    let Some(jar) = first else { bail!("no citizen to set up") };
    ensure!(jar.get(SSO_COOKIE).is_some(), "the first citizen has no SSO session");
    if passkeys {
        eprintln!("setup: {} software passkeys registered (origin {webauthn_origin})", keys.len());
    }
    Ok(Prepared { sso: jar, passkeys: Arc::new(keys), webauthn_origin })
}

/// A ratio: an end-to-end rate over a per-core baseline rate. Tracked ratios have a
/// target; the others (`target: None`) are shown to explain a tracked one.
#[derive(Debug, Serialize)]
struct Ratio {
    name: &'static str,
    numerator_per_sec: f64,
    denominator_per_sec: f64,
    ratio: f64,
    target: Option<f64>,
    met: Option<bool>,
}

#[derive(Debug, Serialize)]
struct OperationReport {
    operation: Operation,
    name: &'static str,
    concurrency: usize,
    window_secs: f64,
    flow: Summary,
    http_requests_per_sec: f64,
    /// CPU used during the window, in % of one core.
    cpu_percent: CpuUse,
    steps: Vec<(String, Summary)>,
    error_samples: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Report {
    target: String,
    duration_secs: u64,
    warmup_secs: u64,
    concurrency: usize,
    baseline: Option<Baseline>,
    operations: Vec<OperationReport>,
    ratios: Vec<Ratio>,
}

impl Report {
    fn new(args: &RunArgs, baseline: Option<Baseline>, results: &[PhaseResult]) -> Report {
        let operations: Vec<OperationReport> = results
            .iter()
            .map(|r| {
                let name = r.operation.flow_name();
                let mut all = r.recorder.summaries(r.window);
                let flow = all.remove(name).unwrap_or_else(|| Summary::of(Vec::new(), 0, r.window));
                let requests: u64 = all.values().map(|s| s.ok).sum();
                let secs = r.window.as_secs_f64();
                OperationReport {
                    operation: r.operation,
                    name,
                    concurrency: r.concurrency,
                    window_secs: secs,
                    flow,
                    http_requests_per_sec: if secs > 0.0 { requests as f64 / secs } else { 0.0 },
                    cpu_percent: r.cpu,
                    steps: all.into_iter().collect(),
                    error_samples: r.recorder.error_samples.clone(),
                }
            })
            .collect();
        let rate = |op: Operation| operations.iter().find(|o| o.operation == op).map(|o| o.flow.per_sec);
        let mut ratios = Vec::new();
        let mut ratio = |name, op, denominator: Option<f64>, target: Option<f64>| {
            if let (Some(numerator), Some(denominator)) = (rate(op), denominator) {
                let value = if denominator > 0.0 { numerator / denominator } else { 0.0 };
                ratios.push(Ratio {
                    name,
                    numerator_per_sec: numerator,
                    denominator_per_sec: denominator,
                    ratio: value,
                    target,
                    met: target.map(|t| value >= t),
                });
            }
        };
        ratio(
            "client-credentials grants/s ÷ ES256 signatures/s",
            Operation::ClientCredentials,
            baseline.as_ref().map(|b| b.es256_signs_per_sec),
            Some(0.50),
        );
        ratio(
            "silent SSO flows/s ÷ ES256 signatures/s",
            Operation::SilentSso,
            baseline.as_ref().map(|b| b.es256_signs_per_sec),
            Some(0.25),
        );
        ratio(
            "password sign-ins/s ÷ Argon2id hashes/s",
            Operation::PasswordSignin,
            baseline.as_ref().map(|b| b.argon2id_hashes_per_sec),
            Some(0.80),
        );
        // The target: passkey sign-ins per core at least 30 % of ES256 verifications
        // per core (ring, as the server verifies), for the whole OIDC flow and for the
        // ceremony alone.
        let verifies = baseline.as_ref().map(|b| b.es256_verifies_per_sec);
        ratio("passkey sign-in flows/s ÷ ES256 verifications/s", Operation::PasskeySignin, verifies, Some(0.30));
        ratio("passkey ceremonies/s ÷ ES256 verifications/s", Operation::PasskeyCeremony, verifies, Some(0.30));
        Report {
            target: args.target.clone(),
            duration_secs: args.duration,
            warmup_secs: args.warmup,
            concurrency: args.concurrency,
            baseline,
            operations,
            ratios,
        }
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let pct = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.0} %"));
        if let Some(b) = &self.baseline {
            let _ = writeln!(
                out,
                "Baseline (per CPU-second on CPUs {}, which it had {:.0} % of the time): \
                 {:.0} ES256 signatures/s ({:.0} whole access JWTs/s), \
                 {:.0} ES256 verifications/s of a passkey assertion (ring), {:.1} Argon2id hashes/s\n",
                b.cpus,
                b.cpu_share * 100.0,
                b.es256_signs_per_sec,
                b.es256_jws_per_sec,
                b.es256_verifies_per_sec,
                b.argon2id_hashes_per_sec
            );
        }
        let _ = writeln!(
            out,
            "| Operation | Agents | Flows | Errors | Flows/s | HTTP req/s | p50 | p99 | Server CPU | Load CPU | Other CPU |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for o in &self.operations {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.1} | {:.0} | {:.2} ms | {:.2} ms | {} | {} | {} |",
                o.name,
                o.concurrency,
                o.flow.ok,
                o.flow.errors,
                o.flow.per_sec,
                o.http_requests_per_sec,
                o.flow.p50_ms,
                o.flow.p99_ms,
                pct(o.cpu_percent.server),
                pct(o.cpu_percent.load),
                pct(o.cpu_percent.other),
            );
        }
        let _ = writeln!(out, "\nPer HTTP step:\n");
        let _ = writeln!(out, "| Step | Requests | Errors | req/s | p50 | p99 | mean |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for o in &self.operations {
            for (step, s) in &o.steps {
                let _ = writeln!(
                    out,
                    "| {step} | {} | {} | {:.1} | {:.2} ms | {:.2} ms | {:.2} ms |",
                    s.ok, s.errors, s.per_sec, s.p50_ms, s.p99_ms, s.mean_ms
                );
            }
        }
        let _ = writeln!(out, "\n| Ratio | Measured | Target | Met |");
        let _ = writeln!(out, "|---|---:|---:|---|");
        for r in &self.ratios {
            let target = r.target.map_or_else(|| "–".to_owned(), |t| format!("≥ {:.0} %", t * 100.0));
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "(not a target)",
            };
            let _ = writeln!(
                out,
                "| {} ({:.1} / {:.1}) | {:.1} % | {target} | {met} |",
                r.name,
                r.numerator_per_sec,
                r.denominator_per_sec,
                r.ratio * 100.0,
            );
        }
        out
    }
}
