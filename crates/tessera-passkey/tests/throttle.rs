//! The sign-in throttle on the in-memory session store, with explicit times.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use tessera_crypto::{PasswordHasher, token_digest};
use tessera_domain::{Citizen, Clock, FixedClock, Profile, UnixTime, Username};
use tessera_passkey::{
    PasswordService, PasswordVerdict, SignInThrottle, ThrottleError, ThrottlePolicy, ThrottleReason, Throttled,
};
use tessera_session::{MemoryStore, SessionStore};
use tessera_store::{Db, DbOptions, citizens};

const T0: UnixTime = UnixTime::from_secs(1_800_000_000);
const IP: &str = "203.0.113.7";

fn throttle() -> (SignInThrottle<MemoryStore>, MemoryStore) {
    let store = MemoryStore::new();
    (SignInThrottle::new(store.clone(), ThrottlePolicy::default()), store)
}

fn refused(result: Result<(), ThrottleError>) -> Throttled {
    match result {
        Err(ThrottleError::Throttled(t)) => t,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn wait(secs: u64, reason: ThrottleReason) -> Throttled {
    Throttled { retry_after: Duration::from_secs(secs), reason }
}

/// Fails `n` times for `account` from `ip`, each attempt as early as the throttle allows,
/// and returns the time of the last failure.
async fn fail_as_fast_as_allowed(
    t: &SignInThrottle<MemoryStore>,
    account: &str,
    ip: &str,
    n: u32,
    clock: &FixedClock,
) -> UnixTime {
    for _ in 0..n {
        if let Err(ThrottleError::Throttled(w)) = t.check(account, ip, clock.now()).await {
            assert_eq!(w.reason, ThrottleReason::TooSoon);
            clock.advance(i64::try_from(w.retry_after.as_secs()).unwrap());
        }
        t.check(account, ip, clock.now()).await.unwrap();
        t.record_failure(account, ip, clock.now()).await.unwrap();
    }
    clock.now()
}

#[tokio::test]
async fn three_failures_are_free_then_the_delay_doubles_up_to_thirty_seconds() {
    let (t, _) = throttle();
    let clock = FixedClock::new(T0);
    let mut locks = 0;
    for _ in 0..3 {
        t.check("chan.taiman", IP, clock.now()).await.unwrap();
        assert!(!t.record_failure("chan.taiman", IP, clock.now()).await.unwrap());
    }
    let mut expected = vec![];
    let mut seen = vec![];
    for delay in [1, 2, 4, 8, 16, 30, 30] {
        let w = refused(t.check("chan.taiman", IP, clock.now()).await);
        seen.push(w);
        expected.push(wait(delay, ThrottleReason::TooSoon));
        // One second before the delay is over it is still refused, with one second left.
        clock.advance(i64::try_from(delay).unwrap() - 1);
        if delay > 1 {
            assert_eq!(refused(t.check("chan.taiman", IP, clock.now()).await), wait(1, ThrottleReason::TooSoon));
        }
        clock.advance(1);
        t.check("chan.taiman", IP, clock.now()).await.unwrap();
        locks += usize::from(t.record_failure("chan.taiman", IP, clock.now()).await.unwrap());
    }
    assert_eq!(seen, expected);
    assert_eq!(locks, 1, "the failure that locks says so, once (it is audited)");
    // That was the tenth failure: locked for 15 minutes.
    assert_eq!(refused(t.check("chan.taiman", IP, clock.now()).await), wait(900, ThrottleReason::Locked));
}

#[tokio::test]
async fn ten_failures_lock_the_account_for_fifteen_minutes() {
    let (t, _) = throttle();
    let clock = FixedClock::new(T0);
    let locked_at = fail_as_fast_as_allowed(&t, "chan.taiman", IP, 10, &clock).await;
    assert_eq!(refused(t.check("chan.taiman", IP, locked_at).await), wait(900, ThrottleReason::Locked));
    // From another address too: the lock belongs to the account.
    assert_eq!(
        refused(t.check("chan.taiman", "198.51.100.1", locked_at.plus_secs(600)).await),
        wait(300, ThrottleReason::Locked)
    );
    assert_eq!(refused(t.check(" CHAN.TaiMan", IP, locked_at.plus_secs(899)).await).reason, ThrottleReason::Locked);
    // Other accounts are not affected.
    t.check("lee.siuming", "198.51.100.1", locked_at).await.unwrap();
    // After the lock the window has passed too, so the account starts afresh.
    t.check("chan.taiman", IP, locked_at.plus_secs(900)).await.unwrap();
}

/// A password sign-in as a handler would do it: throttle, verify, count the outcome.
async fn sign_in(
    t: &SignInThrottle<MemoryStore>,
    passwords: &PasswordService,
    username: &str,
    password: &str,
    now: UnixTime,
) -> Result<PasswordVerdict, Throttled> {
    match t.check(username, IP, now).await {
        Ok(()) => {}
        Err(ThrottleError::Throttled(w)) => return Err(w),
        Err(e) => panic!("store failed: {e}"),
    }
    let verdict = passwords.verify(&Username::parse(username).unwrap(), password, now).await.unwrap();
    match verdict {
        PasswordVerdict::Accepted(_) => t.record_success(username).await.unwrap(),
        PasswordVerdict::Refused => {
            t.record_failure(username, IP, now).await.unwrap();
        }
    }
    Ok(verdict)
}

#[tokio::test]
async fn an_unknown_username_is_throttled_exactly_like_a_real_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()), &DbOptions::default()).unwrap();
    db.migrate().await.unwrap();
    let citizen = Citizen::new(Username::parse("chan.taiman").unwrap(), T0);
    let c = citizen.clone();
    db.run(move |conn| citizens::insert(conn, &c, &Profile::new("CHAN Tai Man"))).await.unwrap();
    let passwords = PasswordService::new(db.clone(), PasswordHasher::new(2).unwrap());
    passwords.set_password(citizen.id, "correct horse battery", T0).await.unwrap();

    // The same attempts, 20 s apart, with a wrong password for the real account and any
    // password for a name nobody has.
    let mut answers = vec![];
    for name in ["chan.taiman", "no.such.person"] {
        let (t, _) = throttle();
        let clock = FixedClock::new(T0);
        let mut seen = vec![];
        for _ in 0..13 {
            seen.push(sign_in(&t, &passwords, name, "wrong password!", clock.now()).await);
            clock.advance(20);
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1]);
    // Free, free, free, then delays of 1..16 s (shorter than the 20 s pace), then two 30 s
    // delays each costing an attempt, then the tenth failure locks the account.
    let refused = |reason| Err(Throttled { retry_after: Duration::from_secs(10), reason });
    let mut expected = vec![Ok(PasswordVerdict::Refused); 8];
    expected.extend([refused(ThrottleReason::TooSoon), Ok(PasswordVerdict::Refused)]);
    expected.extend([refused(ThrottleReason::TooSoon), Ok(PasswordVerdict::Refused)]);
    expected.push(Err(wait(880, ThrottleReason::Locked)));
    assert_eq!(answers[1], expected);

    // Even the right password waits out the lock.
    let (t, _) = throttle();
    let clock = FixedClock::new(T0);
    for _ in 0..13 {
        let _ = sign_in(&t, &passwords, "chan.taiman", "wrong password!", clock.now()).await;
        clock.advance(20);
    }
    let right = sign_in(&t, &passwords, "chan.taiman", "correct horse battery", clock.now()).await;
    assert_eq!(right.unwrap_err().reason, ThrottleReason::Locked);
    clock.advance(900);
    let right = sign_in(&t, &passwords, "chan.taiman", "correct horse battery", clock.now()).await;
    assert_eq!(right, Ok(PasswordVerdict::Accepted(citizen.id)));
}

#[tokio::test]
async fn failures_outside_the_window_are_forgotten() {
    let (t, _) = throttle();
    let clock = FixedClock::new(T0);
    fail_as_fast_as_allowed(&t, "chan.taiman", IP, 5, &clock).await;
    assert_eq!(refused(t.check("chan.taiman", IP, clock.now()).await).reason, ThrottleReason::TooSoon);
    // 15 minutes after the first failure the window is over (the store has not expired the
    // keys yet: the logic follows `now`).
    clock.set(T0.plus_secs(900));
    t.check("chan.taiman", IP, clock.now()).await.unwrap();
    // A new window: three more free failures.
    for _ in 0..3 {
        t.check("chan.taiman", IP, clock.now()).await.unwrap();
        t.record_failure("chan.taiman", IP, clock.now()).await.unwrap();
    }
    assert_eq!(refused(t.check("chan.taiman", IP, clock.now()).await), wait(1, ThrottleReason::TooSoon));
}

#[tokio::test]
async fn success_clears_the_account_counter() {
    let (t, _) = throttle();
    let clock = FixedClock::new(T0);
    fail_as_fast_as_allowed(&t, "chan.taiman", IP, 6, &clock).await;
    assert_eq!(refused(t.check("chan.taiman", IP, clock.now()).await), wait(8, ThrottleReason::TooSoon));
    t.record_success("Chan.TaiMan").await.unwrap();
    t.check("chan.taiman", IP, clock.now()).await.unwrap();
    // The count starts again from zero: three free failures before any delay.
    for _ in 0..3 {
        t.check("chan.taiman", IP, clock.now()).await.unwrap();
        t.record_failure("chan.taiman", IP, clock.now()).await.unwrap();
    }
    assert_eq!(refused(t.check("chan.taiman", IP, clock.now()).await), wait(1, ThrottleReason::TooSoon));
    // Success on an account that never failed is harmless.
    t.record_success("lee.siuming").await.unwrap();
}

#[tokio::test]
async fn one_address_may_fail_thirty_times_in_five_minutes() {
    let (t, _) = throttle();
    // Thirty different accounts (so no account limit applies), one address.
    for i in 0..30 {
        let at = T0.plus_secs(i);
        t.check(&format!("user{i}"), IP, at).await.unwrap();
        t.record_failure(&format!("user{i}"), IP, at).await.unwrap();
    }
    let now = T0.plus_secs(60);
    // The window opened at T0 and lasts 5 minutes.
    assert_eq!(refused(t.check("someone.else", IP, now).await), wait(240, ThrottleReason::IpLimited));
    // Another address is not limited, and the limit lifts when the window ends.
    t.check("someone.else", "198.51.100.1", now).await.unwrap();
    t.check("someone.else", IP, T0.plus_secs(300)).await.unwrap();
    // A success does not reset an address's count.
    t.record_success("user0").await.unwrap();
    assert_eq!(refused(t.check("user0", IP, now).await).reason, ThrottleReason::IpLimited);
}

#[tokio::test]
async fn the_longest_wait_is_reported() {
    let (t, _) = throttle();
    let clock = FixedClock::new(T0);
    let locked_at = fail_as_fast_as_allowed(&t, "chan.taiman", IP, 10, &clock).await;
    for i in 0..30 {
        t.record_failure(&format!("user{i}"), IP, locked_at).await.unwrap();
    }
    // Locked for 900 s beats the address limit's remaining window.
    assert_eq!(refused(t.check("chan.taiman", IP, locked_at).await).reason, ThrottleReason::Locked);
}

#[tokio::test]
async fn store_keys_do_not_reveal_the_username_or_address() {
    let (t, store) = throttle();
    t.record_failure("chan.taiman", IP, T0).await.unwrap();
    // The keys are digests: the plain names are nowhere in the store.
    for key in ["throttle:acct:chan.taiman:start", "chan.taiman", IP] {
        assert_eq!(store.get(key).await.unwrap(), None);
    }
    assert!(store.stored_entries() >= 5, "account start, count, last; address start, count");
}

#[tokio::test]
async fn a_failing_store_fails_closed() {
    // A store with room for nothing: the failure cannot be counted, and the caller hears so.
    let full = SignInThrottle::new(MemoryStore::with_max_entries(0), ThrottlePolicy::default());
    assert!(full.record_failure("chan.taiman", IP, T0).await.is_err());

    // Something unreadable where the window start should be: an error, never "no failures".
    let (t, store) = throttle();
    let start_key = format!("throttle:acct:{}:start", hex(&token_digest("acct:chan.taiman")));
    t.record_failure("chan.taiman", IP, T0).await.unwrap();
    assert!(store.get(&start_key).await.unwrap().is_some(), "the key format changed");
    store.put(&start_key, b"garbage", Duration::from_secs(60)).await.unwrap();
    assert!(matches!(t.check("chan.taiman", IP, T0).await, Err(ThrottleError::Unavailable(_))));
    assert!(t.record_failure("chan.taiman", IP, T0).await.is_err());
    assert!(t.record_success("chan.taiman").await.is_err());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
