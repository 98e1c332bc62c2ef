//! How `RedisStore` behaves when Redis is missing, silent, killed, paused or restarted:
//! always an error within a few seconds, never a hang, and recovery without a restart of
//! our side. The tests that need a Redis start their own `redis-server` child on a free
//! port (skipped when `redis-server` is not installed, unless
//! `TESSERA_TEST_REQUIRE_SERVICES=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tessera_session::{AnySessionStore, RedisStore, RedisTls, SessionError, SessionStore};

/// Every failure must arrive within this bound (the store's own limits are 2–5 s).
const FAST: Duration = Duration::from_secs(7);
const LONG: Duration = Duration::from_secs(60);

/// A loopback port that nothing listens on (just released by us).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `redis-server` child process, killed (by its own handle) when dropped.
struct RedisChild {
    child: Child,
}

impl RedisChild {
    /// `None` (test skipped) when `redis-server` is not installed.
    fn available() -> bool {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            if std::env::var(tessera_testkit::REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("redis-server is required ({}=1) but not on PATH", tessera_testkit::REQUIRE_ENV);
            }
            eprintln!("SKIPPED: redis-server not on PATH");
        }
        found
    }

    fn start(port: u16) -> Self {
        Self::start_with(port, &[])
    }

    fn start_with(port: u16, extra: &[&str]) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no"])
            .args(extra)
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let me = Self { child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server on port {port} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        me
    }

    fn stop(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn assert_unavailable_fast<T: std::fmt::Debug>(what: &str, op: impl Future<Output = Result<T, SessionError>>) {
    let started = Instant::now();
    let result = op.await;
    let took = started.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(matches!(result, Err(SessionError::Unavailable(_))), "{what}: expected Unavailable, got {result:?}");
    assert!(took < FAST, "{what}: took {took:?}");
}

async fn wait_until_ready(s: &RedisStore) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match s.ping().await {
            Ok(()) => return,
            Err(e) => assert!(Instant::now() < deadline, "the store did not recover: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn connect_to_an_unreachable_port_fails_fast_naming_the_server() {
    let port = free_port();
    let url = format!("redis://:hunter2@127.0.0.1:{port}/0");
    let started = Instant::now();
    let err = RedisStore::connect(&url, "t:").await.unwrap_err();
    assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
    let SessionError::Unavailable(msg) = &err else { panic!("expected Unavailable, got {err:?}") };
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("could not be reached"), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "the cause should be named: {msg}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

#[tokio::test]
async fn connect_to_a_server_that_never_answers_fails_fast() {
    // Accepts connections and holds them open without ever replying.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let err = RedisStore::connect(&format!("redis://127.0.0.1:{port}"), "t:").await.unwrap_err();
    assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
    assert!(matches!(err, SessionError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn from_config_rejects_what_it_cannot_serve_with_clear_errors() {
    // TLS without certificate checks is refused before any connection.
    let err = AnySessionStore::from_config("rediss://:pw-secret@127.0.0.1:1/#insecure", "t:").await.unwrap_err();
    let SessionError::InvalidConfig(msg) = &err else { panic!("{err:?}") };
    assert!(msg.contains("insecure") && msg.contains("tls_ca_file"), "{msg}");
    assert!(!msg.contains("pw-secret"), "{msg}");
    // A certificate authority only makes sense for rediss://.
    let tls = RedisTls { ca_pem: Some(b"-----BEGIN CERTIFICATE-----".to_vec()) };
    let err = AnySessionStore::from_config_with("redis://127.0.0.1:1/", "t:", &tls).await.unwrap_err();
    assert!(matches!(&err, SessionError::InvalidConfig(m) if m.contains("not rediss://")), "{err:?}");

    for spec in ["postgres://db", "memcached", "", "redis:/nohost"] {
        let err = AnySessionStore::from_config(spec, "t:").await.unwrap_err();
        let SessionError::InvalidConfig(msg) = &err else { panic!("{spec:?}: {err:?}") };
        assert!(msg.contains("\"memory\"") && msg.contains("redis://"), "{spec:?}: {msg}");
    }

    let err = AnySessionStore::from_config("redis://:pw-secret@127.0.0.1:1/", "t:").await.unwrap_err();
    assert!(matches!(&err, SessionError::Unavailable(m) if !m.contains("pw-secret")), "{err:?}");

    let any = AnySessionStore::from_config(" memory ", "t:").await.unwrap();
    assert_eq!(any.backend_name(), "memory");
}

#[tokio::test]
async fn from_config_connects_to_redis() {
    let Some(url) = tessera_testkit::redis_url() else {
        return;
    };
    let any = AnySessionStore::from_config(&url, &tessera_testkit::unique_prefix()).await.unwrap();
    assert_eq!(any.backend_name(), "redis");
    any.ping().await.unwrap();
    any.put("k", b"v", LONG).await.unwrap();
    assert_eq!(any.take("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_gives_unavailable_fast_and_recovers_after_restart() {
    if !RedisChild::available() {
        return;
    }
    let port = free_port();
    let server = RedisChild::start(port);
    let s = RedisStore::connect(&format!("redis://127.0.0.1:{port}"), "t:").await.unwrap();
    s.ping().await.unwrap();
    s.put("code:1", b"v", LONG).await.unwrap();

    server.stop();
    assert_unavailable_fast("ping after kill", s.ping()).await;
    for _ in 0..3 {
        assert_unavailable_fast("take while down", s.take("code:1")).await;
        assert_unavailable_fast("put while down", s.put("k", b"v", LONG)).await;
        assert_unavailable_fast("incr while down", s.incr("rl", LONG)).await;
        assert_unavailable_fast("index_list while down", s.index_list("user:1")).await;
    }

    let _server = RedisChild::start(port);
    wait_until_ready(&s).await;
    // A fresh server without persistence: the old data is gone, the store works again.
    assert_eq!(s.get("code:1").await.unwrap(), None);
    s.put("code:2", b"again", LONG).await.unwrap();
    assert_eq!(s.take("code:2").await.unwrap(), Some(b"again".to_vec()));
    s.index_add("user:1", "sid", LONG).await.unwrap();
    assert_eq!(s.index_list("user:1").await.unwrap(), ["sid"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_redis_times_out_and_replies_stay_matched_afterwards() {
    if !RedisChild::available() {
        return;
    }
    let port = free_port();
    let _server = RedisChild::start(port);
    let url = format!("redis://127.0.0.1:{port}");
    let s = RedisStore::connect(&url, "t:").await.unwrap();
    s.put("a", b"value-a", LONG).await.unwrap();

    // Stall every client for 6 s: replies to our commands arrive only after they timed out.
    let mut admin = redis::Client::open(url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
    redis::cmd("CLIENT").arg("PAUSE").arg(6000).arg("ALL").query_async::<()>(&mut admin).await.unwrap();
    assert_unavailable_fast("get while paused", s.get("a")).await;
    assert_unavailable_fast("ping while paused", s.ping()).await;

    wait_until_ready(&s).await;
    // The late replies to the timed-out commands must not be handed to later commands.
    s.put("b", b"value-b", LONG).await.unwrap();
    for _ in 0..5 {
        assert_eq!(s.get("a").await.unwrap(), Some(b"value-a".to_vec()));
        assert_eq!(s.get("b").await.unwrap(), Some(b"value-b".to_vec()));
        assert_eq!(s.get("none").await.unwrap(), None);
    }
}

#[tokio::test]
async fn credentials_are_used_and_never_shown() {
    if !RedisChild::available() {
        return;
    }
    let port = free_port();
    let _server = RedisChild::start_with(port, &["--requirepass", "pw-secret-1"]);

    let err = RedisStore::connect(&format!("redis://127.0.0.1:{port}"), "t:").await.unwrap_err();
    assert!(matches!(&err, SessionError::InvalidConfig(_)), "no password: {err:?}");

    let err = RedisStore::connect(&format!("redis://:pw-wrong-2@127.0.0.1:{port}"), "t:").await.unwrap_err();
    let SessionError::InvalidConfig(msg) = &err else { panic!("wrong password: {err:?}") };
    assert!(!msg.contains("pw-wrong-2"), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");

    let s = RedisStore::connect(&format!("redis://:pw-secret-1@127.0.0.1:{port}"), "t:").await.unwrap();
    assert!(!format!("{s:?}").contains("pw-secret-1"), "{s:?}");
    s.put("k", b"v", LONG).await.unwrap();
    assert_eq!(s.take("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test]
async fn unix_sockets_are_supported() {
    if !RedisChild::available() {
        return;
    }
    let port = free_port();
    let socket = std::env::temp_dir().join(format!("tessera-session-test-{port}.sock"));
    let socket_str = socket.to_str().unwrap();
    let server = RedisChild::start_with(port, &["--unixsocket", socket_str, "--unixsocketperm", "700"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "no unix socket at {socket_str}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let any = AnySessionStore::from_config(&format!("redis+unix://{socket_str}"), "t:").await.unwrap();
    assert_eq!(any.backend_name(), "redis");
    assert_eq!(any.incr("n", LONG).await.unwrap(), 1);
    drop(server);
    // A killed redis-server leaves its socket file behind.
    let _ = std::fs::remove_file(&socket);
}

/// A private certificate authority and a certificate it issued for 127.0.0.1, made with the
/// `openssl` command in a temporary directory; `None` (test skipped) without `openssl`.
struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    fn make() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        // Each command is one line of words (no word has a space).
        let run = |command: &str| {
            Command::new("openssl")
                .args(command.split_whitespace())
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        let new_key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
        let made = run(&format!(
            "req -x509 {new_key} -keyout ca.key -out ca.pem -days 2 -subj /CN=tessera-test-ca \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        )) && run(&format!("req {new_key} -keyout server.key -out server.csr -subj /CN=localhost"))
            && run("x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
                    -extfile server.ext");
        if !made {
            if std::env::var(tessera_testkit::REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("openssl is required ({}=1) to make the test certificates", tessera_testkit::REQUIRE_ENV);
            }
            eprintln!("SKIPPED: openssl could not make test certificates");
            return None;
        }
        Some(Self { dir })
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("ca.pem")).unwrap()
    }
}

#[tokio::test]
async fn rediss_connects_with_the_configured_authority_and_refuses_an_unknown_one() {
    if !RedisChild::available() {
        return;
    }
    let Some(pki) = TestPki::make() else { return };
    let port = free_port();
    // Only the TLS port listens (the later --port 0 replaces start_with's plain port).
    let tls = format!(
        "--port 0 --tls-port {port} --tls-cert-file {} --tls-key-file {} --tls-ca-cert-file {} --tls-auth-clients no",
        pki.path("server.pem"),
        pki.path("server.key"),
        pki.path("ca.pem")
    );
    let _server = RedisChild::start_with(port, &tls.split_whitespace().collect::<Vec<_>>());
    let url = format!("rediss://127.0.0.1:{port}/");

    // Trusting the private CA: the whole store works over TLS.
    let tls = RedisTls { ca_pem: Some(pki.ca_pem()) };
    let store = AnySessionStore::from_config_with(&url, "t:", &tls).await.unwrap();
    assert_eq!(store.backend_name(), "redis");
    store.put("k", b"over tls", LONG).await.unwrap();
    assert_eq!(store.take("k").await.unwrap(), Some(b"over tls".to_vec()));
    assert_eq!(store.take("k").await.unwrap(), None);

    // The system's authorities do not know this CA: refused, quickly, saying why.
    let started = Instant::now();
    let err = RedisStore::connect(&url, "t:").await.unwrap_err();
    assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
    let SessionError::Unavailable(msg) = &err else { panic!("{err:?}") };
    eprintln!("unknown authority: {msg}");
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");

    // Plain redis:// to a TLS port does not get through either.
    let err = RedisStore::connect(&format!("redis://127.0.0.1:{port}/"), "t:").await.unwrap_err();
    assert!(matches!(err, SessionError::Unavailable(_)), "{err:?}");

    // A file that holds no certificate is a configuration error, named as such.
    let junk = RedisTls { ca_pem: Some(b"not a certificate".to_vec()) };
    let err = RedisStore::connect_with(&url, "t:", &junk).await.unwrap_err();
    assert!(matches!(&err, SessionError::InvalidConfig(m) if m.contains("no PEM certificate")), "{err:?}");
}
