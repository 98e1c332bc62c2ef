//! The `tessera` binary as an operator runs it: the embedded default, graceful shutdown,
//! `migrate`, and one clear error line for every bad start.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");

fn tessera(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(TESSERA);
    cmd.current_dir(dir).args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    // Never the default port 8080: tests run side by side (a test may override this).
    cmd.env("TESSERA__LISTEN", format!("127.0.0.1:{}", tessera_testkit::free_port()));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs to completion, failing the test if it takes longer than `limit` (a hang).
fn run_with_limit(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tessera did not exit within {limit:?}: it hung");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The error line: exactly one `tessera: error:` line, no panic, and a failing exit status.
fn error_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("tessera: error:")).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    lines[0].to_owned()
}

#[test]
fn a_malformed_configuration_file_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tessera.toml"), "issuer = \"http://localhost:8080\"\n[database\n").unwrap();
    let out = run_with_limit(tessera(dir.path(), &["serve"], &[]), Duration::from_secs(20));
    let line = error_line(&out);
    assert!(line.contains("configuration") && line.contains("tessera.toml"), "{line}");
}

#[test]
fn an_invalid_environment_setting_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with_limit(
        tessera(dir.path(), &["serve"], &[("TESSERA__ISSUER", "http://id.gov.example")]),
        Duration::from_secs(20),
    );
    let line = error_line(&out);
    assert!(line.contains("setting `issuer`") && line.contains("https"), "{line}");
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with_limit(
        tessera(
            dir.path(),
            &["serve"],
            &[
                ("TESSERA__DATABASE__URL", "postgres://tessera:s3cret@127.0.0.1:1/tessera"),
                ("TESSERA__DATABASE__CONNECT_TIMEOUT_SECS", "2"),
            ],
        ),
        Duration::from_secs(30),
    );
    let line = error_line(&out);
    assert!(line.contains("database") && line.contains("127.0.0.1:1"), "{line}");
    assert!(!line.contains("s3cret"), "the password leaked: {line}");
}

#[test]
fn an_unreachable_redis_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with_limit(
        tessera(dir.path(), &["serve"], &[("TESSERA__SESSION__STORE", "redis://:pw@127.0.0.1:1")]),
        Duration::from_secs(30),
    );
    let line = error_line(&out);
    assert!(line.contains("session store") && line.contains("127.0.0.1:1"), "{line}");
    assert!(!line.contains(":pw@"), "the password leaked: {line}");
}

#[test]
fn migrate_applies_once_then_reports_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_with_limit(tessera(dir.path(), &["migrate"], &[]), Duration::from_secs(60));
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stdout).contains("applied"));
    let second = run_with_limit(tessera(dir.path(), &["migrate"], &[]), Duration::from_secs(60));
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
}

#[test]
fn serve_with_no_configuration_runs_the_embedded_default_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = tessera_testkit::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = tessera(dir.path(), &["serve"], &[("TESSERA__LISTEN", listen.as_str())])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait for /healthz over plain HTTP/1.1 (no client library needed).
    let deadline = Instant::now() + Duration::from_secs(60);
    let body = loop {
        if let Some(body) = http_get(port, "/healthz") {
            break body;
        }
        assert!(child.try_wait().unwrap().is_none(), "tessera exited early");
        assert!(Instant::now() < deadline, "tessera did not serve /healthz");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(http_get(port, "/readyz").unwrap().starts_with("HTTP/1.1 200"));

    // The embedded default: SQLite and a private master key under ./data.
    use std::os::unix::fs::PermissionsExt;
    let key = std::fs::metadata(dir.path().join("data/master.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    assert!(dir.path().join("data/tessera.db").is_file());

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "tessera did not stop within 15 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status after SIGTERM: {exit:?}");
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    Some(out)
}
