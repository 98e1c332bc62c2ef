//! `tessera-load perf-groups`: reads `perf script -F comm,tid,ip,sym,dso` output (samples
//! with their call chains) and attributes every sample to one group of the server's work:
//! the first rule below, in order, that one of the sample's frames matches. Subsystems
//! come first, so that an allocation made by SQLite counts as SQLite; the leaf-only rules
//! (malloc, memcpy) and the kernel's networking and scheduling only take what is left.
//! Used by `run.sh` (`PERF=1`) for the breakdowns in docs/performance.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Which frames of a sample a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Any frame of the call chain.
    Anywhere,
    /// Only the innermost frame (where the instruction ran).
    Leaf,
    /// Any frame in the kernel (`[kernel.kallsyms]`).
    Kernel,
}

struct Rule {
    group: &'static str,
    place: Place,
    /// A frame matches when its symbol contains one of these.
    patterns: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        group: "ES256 verification of passkey assertions",
        place: Place::Anywhere,
        patterns: &[
            "verify_p256_der",
            "ecdsa::verification",
            "COSEKey>::verify_signature",
            "ecdsa::hazmat::verify_prehashed",
            "wnaf_multi_exp",
            "p256::arithmetic",
        ],
    },
    Rule { group: "Argon2id", place: Place::Anywhere, patterns: &["argon2::"] },
    Rule { group: "tera rendering (context and template)", place: Place::Anywhere, patterns: &["tera::"] },
    Rule {
        group: "SQLite, diesel, r2d2 (the `Db::run` closures)",
        place: Place::Anywhere,
        patterns: &["sqlite3", "diesel::", "r2d2::", "tessera_store::"],
    },
    Rule { group: "JSON (serde_json)", place: Place::Anywhere, patterns: &["serde_json::"] },
    Rule {
        group: "webauthn-rs besides the signature (CBOR, client data, origin)",
        place: Place::Anywhere,
        patterns: &["webauthn_rs", "serde_cbor", "crypto_glue"],
    },
    Rule {
        group: "session store (ceremonies, SSO sessions, throttle, codes)",
        place: Place::Anywhere,
        patterns: &["tessera_session::", "SsoSessions", "tessera_oidc::sso::", "SignInThrottle", "throttle::"],
    },
    Rule {
        group: "ES256 signing (ring)",
        place: Place::Anywhere,
        patterns: &["ring::ec::suite_b::ecdsa::signing", "_p256_point_mul", "SigningKeyPair>::sign", "sign_jws"],
    },
    Rule {
        group: "SHA-256 and other hashing",
        place: Place::Anywhere,
        patterns: &["sha2::", "ring::digest", "token_digest", "sha256_block"],
    },
    Rule { group: "base64", place: Place::Anywhere, patterns: &["base64::"] },
    Rule {
        group: "random tokens, UUIDs (getrandom)",
        place: Place::Anywhere,
        patterns: &["getrandom", "Uuid::new_v4", "random_token", "SystemRandom", "rand_chacha", "rand::"],
    },
    Rule { group: "tracing", place: Place::Anywhere, patterns: &["tracing_subscriber::", "tracing_core::"] },
    Rule { group: "glibc malloc/free (not inside the groups above)", place: Place::Leaf, patterns: MALLOC },
    Rule { group: "memcpy/memmove/memcmp", place: Place::Leaf, patterns: &["__mem", "memcpy", "memmove", "memset"] },
    Rule {
        group: "kernel: TCP over loopback",
        place: Place::Kernel,
        patterns: &[
            "tcp_",
            "sock_",
            "sys_sendto",
            "sys_recvfrom",
            "inet_",
            "ip_",
            "dev_queue_xmit",
            "net_rx_action",
            "netif_",
            "process_backlog",
            "skb_",
        ],
    },
    Rule {
        group: "kernel: scheduling, futex wait/wake",
        place: Place::Kernel,
        patterns: &[
            "schedule",
            "finish_task_switch",
            "futex",
            "try_to_wake_up",
            "wake_up_q",
            "sched_yield",
            "ep_poll",
            "epoll_wait",
            "exit_to_user_mode",
        ],
    },
    Rule {
        group: "tokio blocking-pool hand-off (spawn_blocking, condvar)",
        place: Place::Anywhere,
        patterns: &["tokio::runtime::blocking", "spawn_blocking", "parking_lot::condvar"],
    },
    Rule {
        group: "actix-web, actix-http (parsing, routing, middleware, handlers)",
        place: Place::Anywhere,
        patterns: &["actix_", "httparse", "cookie::"],
    },
    Rule { group: "tokio runtime, other", place: Place::Anywhere, patterns: &["tokio::"] },
];

/// glibc's allocator, by symbol prefix.
const MALLOC: &[&str] =
    &["_int_malloc", "_int_free", "_int_realloc", "malloc", "free", "realloc", "cfree", "unlink_chunk", "tcache"];

const OTHER: &str = "other";

/// One frame of a call chain.
#[derive(Debug, PartialEq, Eq)]
struct Frame<'a> {
    symbol: &'a str,
    kernel: bool,
}

/// Parses one frame line: `<address> <symbol> (<dso>)`.
fn frame(line: &str) -> Option<Frame<'_>> {
    let line = line.trim();
    let (_address, rest) = line.split_once(char::is_whitespace)?;
    let (symbol, dso) = rest.trim_start().rsplit_once(" (")?;
    Some(Frame { symbol, kernel: dso.trim_end_matches(')') == "[kernel.kallsyms]" })
}

fn matches(rule: &Rule, frames: &[Frame<'_>]) -> bool {
    let hit = |f: &Frame<'_>| rule.patterns.iter().any(|p| f.symbol.contains(p));
    match rule.place {
        Place::Anywhere => frames.iter().any(hit),
        Place::Leaf => {
            frames.first().is_some_and(|f| !f.kernel && rule.patterns.iter().any(|p| f.symbol.starts_with(p)))
        }
        Place::Kernel => frames.iter().filter(|f| f.kernel).any(hit),
    }
}

/// The group of one sample, from its frames (innermost first).
fn group(frames: &[Frame<'_>]) -> &'static str {
    RULES.iter().find(|r| matches(r, frames)).map_or(OTHER, |r| r.group)
}

/// What the samples add up to.
#[derive(Debug, Default, PartialEq)]
pub struct Groups {
    pub samples: u64,
    /// Samples per group.
    pub counts: BTreeMap<&'static str, u64>,
    /// Samples whose innermost frame is glibc's allocator, whatever their group.
    pub malloc_leaf: u64,
}

/// Reads `perf script` output: samples separated by blank lines, each a header line
/// (command, thread) and then one line per frame, innermost first.
pub fn tally(perf_script: &str) -> Groups {
    let mut groups = Groups::default();
    let mut frames = Vec::new();
    let mut in_sample = false;
    let finish = |frames: &mut Vec<Frame<'_>>, groups: &mut Groups| {
        groups.samples += 1;
        *groups.counts.entry(group(frames)).or_default() += 1;
        if frames.first().is_some_and(|f| !f.kernel && MALLOC.iter().any(|p| f.symbol.starts_with(p))) {
            groups.malloc_leaf += 1;
        }
        frames.clear();
    };
    for line in perf_script.lines() {
        if line.trim().is_empty() {
            if in_sample {
                finish(&mut frames, &mut groups);
                in_sample = false;
            }
        } else if line.starts_with(char::is_whitespace) {
            if let Some(f) = frame(line) {
                frames.push(f);
            }
        } else {
            if in_sample {
                finish(&mut frames, &mut groups);
            }
            in_sample = true;
        }
    }
    if in_sample {
        finish(&mut frames, &mut groups);
    }
    groups
}

/// A Markdown table, largest group first; with `micros_per_op` (the server's CPU time per
/// operation, from the load run) also each group's share of it.
pub fn markdown(groups: &Groups, micros_per_op: Option<f64>) -> String {
    let mut out = String::new();
    let total = groups.samples.max(1) as f64;
    let mut rows: Vec<(&str, u64)> = groups.counts.iter().map(|(g, n)| (*g, *n)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    match micros_per_op {
        Some(_) => {
            let _ = writeln!(out, "| Group | Samples | Share | ≈ µs per operation |\n|---|---:|---:|---:|");
        }
        None => {
            let _ = writeln!(out, "| Group | Samples | Share |\n|---|---:|---:|");
        }
    }
    for (group, n) in rows {
        let share = n as f64 / total;
        match micros_per_op {
            Some(us) => {
                let _ = writeln!(out, "| {group} | {n} | {:.1} % | {:.0} |", share * 100.0, share * us);
            }
            None => {
                let _ = writeln!(out, "| {group} | {n} | {:.1} % |", share * 100.0);
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} samples. glibc malloc/free as the innermost frame, whatever the group: {:.1} %.",
        groups.samples,
        groups.malloc_leaf as f64 / total * 100.0
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SCRIPT: &str = "\
actix-server wo 15959 
\t          c81213 p256::arithmetic::field::field_impl::add (/x/tessera)
\t          c12207 webauthn_rs_core::crypto::<impl webauthn_rs_core::interface::COSEKey>::verify_signature (/x/tessera)
\tffffffffffffffff [unknown] ([unknown])

tokio-rt-worker 22814 
\t          77aa10 _int_malloc (/usr/lib/libc.so.6)
\t          5a0000 sqlite3VdbeExec (/x/tessera)

actix-server wo 15959 
\t          77aa10 _int_malloc (/usr/lib/libc.so.6)
\t          6b0000 <actix_http::h1::dispatcher::Dispatcher<T,S,B,X,U> as core::future::future::Future>::poll (/x/tessera)

actix-server wo 15959 
\tffffffff81000000 finish_task_switch.isra.0 ([kernel.kallsyms])
\tffffffff81000100 __schedule ([kernel.kallsyms])
\t          6b0000 tokio::runtime::scheduler::current_thread::CurrentThread::block_on (/x/tessera)

actix-server wo 15959 
\tffffffff81000200 tcp_sendmsg ([kernel.kallsyms])
\t          6b0000 <actix_http::h1::dispatcher::Dispatcher<T,S,B,X,U> as core::future::future::Future>::poll (/x/tessera)
";

    #[test]
    fn frames_parse_symbol_and_kernel() {
        assert_eq!(
            frame("\t  ffffffff81000200 tcp_sendmsg ([kernel.kallsyms])"),
            Some(Frame { symbol: "tcp_sendmsg", kernel: true })
        );
        assert_eq!(
            frame("\t  c81213 <a as b>::c (d) (/x/tessera)"),
            Some(Frame { symbol: "<a as b>::c (d)", kernel: false })
        );
        assert_eq!(frame("\tnothing"), None);
    }

    #[test]
    fn samples_go_to_the_first_matching_group() {
        let g = tally(SCRIPT);
        assert_eq!(g.samples, 5);
        assert_eq!(g.counts["ES256 verification of passkey assertions"], 1);
        // The allocation inside SQLite counts as SQLite; the one in actix as malloc.
        assert_eq!(g.counts["SQLite, diesel, r2d2 (the `Db::run` closures)"], 1);
        assert_eq!(g.counts["glibc malloc/free (not inside the groups above)"], 1);
        // "schedule" in a tokio (user-space) frame is not the kernel's scheduler, but the
        // kernel frames of this sample are.
        assert_eq!(g.counts["kernel: scheduling, futex wait/wake"], 1);
        assert_eq!(g.counts["kernel: TCP over loopback"], 1);
        assert_eq!(g.malloc_leaf, 2);
    }

    #[test]
    fn markdown_has_shares_and_micros() {
        let text = markdown(&tally(SCRIPT), Some(500.0));
        assert!(text.contains("| kernel: TCP over loopback | 1 | 20.0 % | 100 |"), "{text}");
        assert!(text.contains("5 samples. glibc malloc/free as the innermost frame, whatever the group: 40.0 %."));
    }
}
