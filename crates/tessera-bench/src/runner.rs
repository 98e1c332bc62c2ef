//! Runs one operation in a closed loop: a fixed number of agents, each starting its next
//! flow when the previous one ends, for a fixed time after a short warm-up; then stops by
//! itself. Only flows that *started* after the warm-up are counted; the window ends when
//! the last counted flow ends.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

use crate::flows::{Agent, BenchPasskey, Steps, Target};
use crate::html::Jar;
use crate::stats::Recorder;
use crate::sys::{CpuSnapshot, CpuUse};

/// The operations the tool measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// (a) `POST /token` with `grant_type=client_credentials`.
    ClientCredentials,
    /// (b) `GET /authorize` with the SSO cookie → code, then `POST /token`.
    SilentSso,
    /// (c) authorize → sign-in page → password → continue → code → `POST /token`.
    PasswordSignin,
    /// (d) authorize → sign-in page → passkey start → (software authenticator) → passkey
    /// finish → continue → code → `POST /token`.
    PasskeySignin,
    /// (e) The passkey ceremony alone: passkey start → (software authenticator) → passkey
    /// finish without an authorization request (assertion, counter, SSO session), from a
    /// browser that has a CSRF cookie.
    PasskeyCeremony,
}

impl Operation {
    /// The name of the whole flow in the results.
    pub fn flow_name(self) -> &'static str {
        match self {
            Operation::ClientCredentials => "client-credentials grant",
            Operation::SilentSso => "silent SSO flow",
            Operation::PasswordSignin => "password sign-in flow",
            Operation::PasskeySignin => "passkey sign-in flow",
            Operation::PasskeyCeremony => "passkey ceremony",
        }
    }

    /// Whether the setup must register a software passkey for every citizen.
    pub fn needs_passkeys(self) -> bool {
        matches!(self, Operation::PasskeySignin | Operation::PasskeyCeremony)
    }
}

/// Everything an agent needs for one phase.
pub struct Phase {
    pub operation: Operation,
    pub target: Target,
    /// The cookies of a signed-in browser (silent SSO).
    pub sso: Jar,
    /// Usernames of the citizens to sign in (password sign-in), used in turn.
    pub users: Vec<String>,
    pub password: String,
    /// The citizens' registered software passkeys (passkey sign-in and ceremony), used in
    /// turn.
    pub passkeys: Arc<Vec<BenchPasskey>>,
    /// The origin the authenticator puts in the client data: the issuer's.
    pub webauthn_origin: String,
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// What one phase measured.
pub struct PhaseResult {
    pub operation: Operation,
    pub concurrency: usize,
    /// From the end of the warm-up to the end of the last counted flow.
    pub window: Duration,
    pub recorder: Recorder,
    /// CPU used during the window by the server, this process and everything else.
    pub cpu: CpuUse,
}

/// How long past the end of the phase a stuck request may hold it up.
const GRACE: Duration = Duration::from_secs(40);

/// Runs one phase; never runs longer than warm-up + duration + [`GRACE`].
pub async fn run(phase: Phase, server_pid: Option<u32>) -> anyhow::Result<PhaseResult> {
    let phase = Arc::new(phase);
    let started = Instant::now();
    let measure_from = started + phase.warmup;
    let until = measure_from + phase.duration;
    let mut agents = Vec::with_capacity(phase.concurrency);
    for index in 0..phase.concurrency {
        let agent = Agent::new(&phase.target)?;
        agents.push(tokio::spawn(agent_loop(agent, Arc::clone(&phase), index, measure_from, until)));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_before = CpuSnapshot::take(server_pid);

    let mut recorder = Recorder::default();
    let mut last_end = measure_from;
    let hard_stop = until + GRACE;
    for agent in agents {
        let abort = agent.abort_handle();
        match tokio::time::timeout_at(hard_stop.into(), agent).await {
            Ok(Ok((part, end))) => {
                recorder.merge(part);
                last_end = last_end.max(end);
            }
            Ok(Err(e)) => recorder.error(phase.operation.flow_name(), format!("agent task failed: {e}")),
            Err(_) => {
                abort.abort();
                recorder.error(phase.operation.flow_name(), "agent still busy at the hard stop".into());
            }
        }
    }
    let cpu_after = CpuSnapshot::take(server_pid);
    let window = last_end.saturating_duration_since(measure_from);
    Ok(PhaseResult {
        operation: phase.operation,
        concurrency: phase.concurrency,
        window,
        recorder,
        cpu: cpu_after.since(&cpu_before, window.as_secs_f64()),
    })
}

/// One agent: flows back to back until `until`. Returns what it recorded after
/// `measure_from`, and when its last counted flow ended.
async fn agent_loop(
    agent: Agent,
    phase: Arc<Phase>,
    index: usize,
    measure_from: Instant,
    until: Instant,
) -> (Recorder, Instant) {
    let mut recorder = Recorder::default();
    let mut last_end = measure_from;
    let flow = phase.operation.flow_name();
    // The passkey ceremony's browser: on the sign-in page once (CSRF cookie and token),
    // before any flow starts, so never measured.
    let browser = if phase.operation == Operation::PasskeyCeremony {
        match agent.csrf_browser().await {
            Ok(browser) => Some(browser),
            Err(e) => {
                recorder.error(flow, format!("{e:#}"));
                return (recorder, last_end);
            }
        }
    } else {
        None
    };
    let mut round = 0usize;
    while Instant::now() < until {
        let started = Instant::now();
        let mut steps: Steps = Vec::with_capacity(6);
        // The citizen of this round: each agent takes its own in turn, as a pool of browsers.
        let turn = index + round * phase.concurrency;
        let result = match phase.operation {
            Operation::ClientCredentials => agent.client_credentials(&mut steps).await,
            Operation::SilentSso => agent.silent_sso(&phase.sso, &mut steps).await,
            Operation::PasswordSignin => {
                let user = &phase.users[turn % phase.users.len()];
                agent.password_signin(user, &phase.password, false, &mut steps).await.map(|_| ())
            }
            Operation::PasskeySignin => match phase.passkeys.get(turn % phase.passkeys.len().max(1)) {
                Some(passkey) => agent
                    .passkey_signin(passkey, &phase.webauthn_origin, &mut steps)
                    .await
                    .with_context(|| format!("passkey of {}", passkey.username)),
                None => Err(anyhow::anyhow!("no passkey was registered in the setup")),
            },
            Operation::PasskeyCeremony => match (&browser, phase.passkeys.get(turn % phase.passkeys.len().max(1))) {
                (Some(browser), Some(passkey)) => agent
                    .passkey_ceremony(browser, passkey, &phase.webauthn_origin, &mut steps)
                    .await
                    .with_context(|| format!("passkey of {}", passkey.username)),
                (None, _) => Err(anyhow::anyhow!("the agent has no CSRF cookie")),
                (_, None) => Err(anyhow::anyhow!("no passkey was registered in the setup")),
            },
        };
        let ended = Instant::now();
        let failed = result.is_err();
        if started >= measure_from {
            last_end = ended;
            match result {
                Ok(()) => {
                    recorder.ok(flow, ended - started);
                    for (step, took) in steps {
                        recorder.ok(step, took);
                    }
                }
                Err(e) => recorder.error(flow, format!("{e:#}")),
            }
        }
        if failed {
            // Do not spin on a failing server.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        round += 1;
    }
    (recorder, last_end)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use clap::ValueEnum as _;

    use super::*;

    #[test]
    fn operations_have_kebab_case_names() {
        assert_eq!(Operation::from_str("passkey-signin", false).unwrap(), Operation::PasskeySignin);
        assert_eq!(serde_json::to_value(Operation::PasskeySignin).unwrap(), "passkey-signin");
        assert_eq!(Operation::PasskeySignin.flow_name(), "passkey sign-in flow");
        assert_eq!(Operation::from_str("passkey-ceremony", false).unwrap(), Operation::PasskeyCeremony);
        assert_eq!(serde_json::to_value(Operation::PasskeyCeremony).unwrap(), "passkey-ceremony");
        assert!(Operation::PasskeyCeremony.needs_passkeys() && Operation::PasskeySignin.needs_passkeys());
        assert!(!Operation::PasswordSignin.needs_passkeys());
    }
}
