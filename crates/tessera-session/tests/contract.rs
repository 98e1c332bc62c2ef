//! The session store contract: every case runs against `MemoryStore` (`memory::<case>`) and,
//! when the test command provides a Redis, against `RedisStore` (`redis::<case>`).
//!
//! Redis cannot pause time, so expiry cases use real, short TTLs and sleeps. Each
//! "still there" check leaves hundreds of milliseconds of slack; "gone" checks cannot flake.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use tessera_session::{MemoryStore, RedisStore, SessionError, SessionStore};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const LONG: Duration = Duration::from_secs(60);

fn memory_store() -> MemoryStore {
    MemoryStore::new()
}

/// A store on the test command's Redis with a fresh prefix, or `None` (skipped).
async fn redis_store() -> Option<RedisStore> {
    let url = tessera_testkit::redis_url()?;
    let prefix = tessera_testkit::unique_prefix();
    Some(RedisStore::connect(&url, &prefix).await.unwrap_or_else(|e| panic!("cannot connect to the test Redis: {e}")))
}

/// Generic cases: each takes a fresh store (fresh prefix for Redis).
mod cases {
    use std::sync::Arc;

    use tokio::sync::Barrier;

    use super::*;

    pub async fn put_get_overwrite<S: SessionStore + Clone>(s: S) {
        let binary: Vec<u8> = (0..=255).collect();
        s.put("sso:a", &binary, LONG).await.unwrap();
        assert_eq!(s.get("sso:a").await.unwrap(), Some(binary));
        s.put("sso:a", b"second", LONG).await.unwrap();
        assert_eq!(s.get("sso:a").await.unwrap(), Some(b"second".to_vec()));
        s.put("sso:empty", b"", LONG).await.unwrap();
        assert_eq!(s.get("sso:empty").await.unwrap(), Some(Vec::new()));
        // Reading does not consume.
        assert_eq!(s.get("sso:a").await.unwrap(), Some(b"second".to_vec()));
    }

    pub async fn missing_key_is_absent<S: SessionStore + Clone>(s: S) {
        assert_eq!(s.get("nope").await.unwrap(), None);
        assert_eq!(s.take("nope").await.unwrap(), None);
        assert!(!s.delete("nope").await.unwrap());
        assert!(!s.touch("nope", LONG).await.unwrap());
    }

    pub async fn put_expires<S: SessionStore + Clone>(s: S) {
        s.put("csrf:x", b"v", ms(200)).await.unwrap();
        assert_eq!(s.get("csrf:x").await.unwrap(), Some(b"v".to_vec()));
        tokio::time::sleep(ms(400)).await;
        assert_eq!(s.get("csrf:x").await.unwrap(), None);
        assert_eq!(s.take("csrf:x").await.unwrap(), None);
        assert!(!s.delete("csrf:x").await.unwrap());
        assert!(!s.touch("csrf:x", LONG).await.unwrap());
        // An overwrite restarts the lifetime.
        s.put("csrf:y", b"1", ms(200)).await.unwrap();
        s.put("csrf:y", b"2", ms(1500)).await.unwrap();
        tokio::time::sleep(ms(400)).await;
        assert_eq!(s.get("csrf:y").await.unwrap(), Some(b"2".to_vec()));
    }

    pub async fn take_is_single_use<S: SessionStore + Clone>(s: S) {
        s.put("code:1", b"grant", LONG).await.unwrap();
        assert_eq!(s.take("code:1").await.unwrap(), Some(b"grant".to_vec()));
        assert_eq!(s.take("code:1").await.unwrap(), None);
        assert_eq!(s.get("code:1").await.unwrap(), None);
        assert!(!s.delete("code:1").await.unwrap());
    }

    pub async fn concurrent_takes_have_exactly_one_winner<S: SessionStore + Clone>(s: S) {
        const TASKS: usize = 16;
        for round in 0..25 {
            let key = format!("code:race:{round}");
            s.put(&key, b"the code", LONG).await.unwrap();
            let barrier = Arc::new(Barrier::new(TASKS));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (s, key, barrier) = (s.clone(), key.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        s.take(&key).await.unwrap()
                    })
                })
                .collect();
            let mut winners = 0;
            for t in tasks {
                if let Some(v) = t.await.unwrap() {
                    assert_eq!(v, b"the code");
                    winners += 1;
                }
            }
            assert_eq!(winners, 1, "round {round}: {winners} takes got the value");
        }
    }

    pub async fn put_if_absent_stores_only_once<S: SessionStore + Clone>(s: S) {
        assert!(s.put_if_absent("req:1", b"first", LONG).await.unwrap());
        assert!(!s.put_if_absent("req:1", b"second", LONG).await.unwrap());
        assert_eq!(s.get("req:1").await.unwrap(), Some(b"first".to_vec()));
        assert!(s.delete("req:1").await.unwrap());
        assert!(s.put_if_absent("req:1", b"third", LONG).await.unwrap());
        assert_eq!(s.get("req:1").await.unwrap(), Some(b"third".to_vec()));
        // An expired value counts as absent.
        assert!(s.put_if_absent("req:2", b"old", ms(200)).await.unwrap());
        tokio::time::sleep(ms(400)).await;
        assert!(s.put_if_absent("req:2", b"new", LONG).await.unwrap());
        assert_eq!(s.get("req:2").await.unwrap(), Some(b"new".to_vec()));
    }

    pub async fn concurrent_put_if_absent_has_exactly_one_winner<S: SessionStore + Clone>(s: S) {
        const TASKS: usize = 16;
        let barrier = Arc::new(Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let (s, barrier) = (s.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    s.put_if_absent("jti:x", format!("{i}").as_bytes(), LONG).await.unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            winners += usize::from(t.await.unwrap());
        }
        assert_eq!(winners, 1);
    }

    pub async fn delete_removes<S: SessionStore + Clone>(s: S) {
        s.put("sso:d", b"v", LONG).await.unwrap();
        assert!(s.delete("sso:d").await.unwrap());
        assert_eq!(s.get("sso:d").await.unwrap(), None);
        assert!(!s.delete("sso:d").await.unwrap());
    }

    pub async fn touch_extends_and_shortens<S: SessionStore + Clone>(s: S) {
        s.put("sso:t", b"v", ms(600)).await.unwrap();
        tokio::time::sleep(ms(200)).await;
        assert!(s.touch("sso:t", ms(1500)).await.unwrap());
        tokio::time::sleep(ms(600)).await; // past the original 600 ms
        assert_eq!(s.get("sso:t").await.unwrap(), Some(b"v".to_vec()));
        assert!(s.touch("sso:t", ms(100)).await.unwrap());
        tokio::time::sleep(ms(300)).await;
        assert_eq!(s.get("sso:t").await.unwrap(), None);
        assert!(!s.touch("sso:t", LONG).await.unwrap());
        assert!(!s.touch("sso:never", LONG).await.unwrap());
        assert_eq!(s.get("sso:never").await.unwrap(), None, "touch must not create");
    }

    pub async fn index_add_list_remove<S: SessionStore + Clone>(s: S) {
        for m in ["sid-c", "sid-a", "sid-b"] {
            s.index_add("user:1", m, LONG).await.unwrap();
        }
        s.index_add("user:1", "sid-a", LONG).await.unwrap(); // re-add: no duplicate
        assert_eq!(s.index_list("user:1").await.unwrap(), ["sid-a", "sid-b", "sid-c"]);
        assert!(s.index_remove("user:1", "sid-b").await.unwrap());
        assert!(!s.index_remove("user:1", "sid-b").await.unwrap());
        assert!(!s.index_remove("user:none", "sid-b").await.unwrap());
        assert_eq!(s.index_list("user:1").await.unwrap(), ["sid-a", "sid-c"]);
        assert!(s.index_list("user:2").await.unwrap().is_empty());
        // Indexes and plain keys are separate name spaces.
        s.put("user:1", b"plain", LONG).await.unwrap();
        assert_eq!(s.index_list("user:1").await.unwrap(), ["sid-a", "sid-c"]);
        assert!(s.delete("user:1").await.unwrap());
        assert_eq!(s.index_list("user:1").await.unwrap(), ["sid-a", "sid-c"]);
        assert!(s.index_remove("user:1", "sid-a").await.unwrap());
        assert!(s.index_remove("user:1", "sid-c").await.unwrap());
        assert!(s.index_list("user:1").await.unwrap().is_empty());
    }

    pub async fn index_members_expire_individually<S: SessionStore + Clone>(s: S) {
        s.index_add("user:e", "short", ms(300)).await.unwrap();
        s.index_add("user:e", "long", LONG).await.unwrap();
        assert_eq!(s.index_list("user:e").await.unwrap(), ["long", "short"]);
        tokio::time::sleep(ms(500)).await;
        assert_eq!(s.index_list("user:e").await.unwrap(), ["long"]);
        assert!(!s.index_remove("user:e", "short").await.unwrap());
        // Re-adding sets a member's expiry anew (here: shorter).
        s.index_add("user:e", "long", ms(200)).await.unwrap();
        tokio::time::sleep(ms(400)).await;
        assert!(s.index_list("user:e").await.unwrap().is_empty());
        // The index is gone with its last member, and can be used again.
        assert!(s.index_take_all("user:e").await.unwrap().is_empty());
        s.index_add("user:e", "again", LONG).await.unwrap();
        assert_eq!(s.index_list("user:e").await.unwrap(), ["again"]);
    }

    pub async fn index_take_all_empties_the_index<S: SessionStore + Clone>(s: S) {
        s.index_add("user:t", "b", LONG).await.unwrap();
        s.index_add("user:t", "a", LONG).await.unwrap();
        s.index_add("user:t", "gone", ms(200)).await.unwrap();
        s.index_add("user:other", "z", LONG).await.unwrap();
        tokio::time::sleep(ms(400)).await;
        assert_eq!(s.index_take_all("user:t").await.unwrap(), ["a", "b"]);
        assert!(s.index_list("user:t").await.unwrap().is_empty());
        assert!(s.index_take_all("user:t").await.unwrap().is_empty());
        assert_eq!(s.index_list("user:other").await.unwrap(), ["z"]);
    }

    pub async fn concurrent_index_take_all_returns_each_member_once<S: SessionStore + Clone>(s: S) {
        const TASKS: usize = 8;
        let members: Vec<String> = (0..20).map(|i| format!("sid-{i:02}")).collect();
        for m in &members {
            s.index_add("user:race", m, LONG).await.unwrap();
        }
        let barrier = Arc::new(Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (s, barrier) = (s.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    s.index_take_all("user:race").await.unwrap()
                })
            })
            .collect();
        let mut got = Vec::new();
        let mut non_empty = 0;
        for t in tasks {
            let part = t.await.unwrap();
            non_empty += usize::from(!part.is_empty());
            got.extend(part);
        }
        got.sort();
        assert_eq!(got, members);
        assert_eq!(non_empty, 1);
    }

    pub async fn incr_counts<S: SessionStore + Clone>(s: S) {
        assert_eq!(s.incr("rl:ip", LONG).await.unwrap(), 1);
        assert_eq!(s.incr("rl:ip", LONG).await.unwrap(), 2);
        assert_eq!(s.incr("rl:ip", LONG).await.unwrap(), 3);
        assert_eq!(s.get("rl:ip").await.unwrap(), Some(b"3".to_vec()));
        assert!(s.delete("rl:ip").await.unwrap());
        assert_eq!(s.incr("rl:ip", LONG).await.unwrap(), 1);
        s.put("rl:text", b"not a number", LONG).await.unwrap();
        assert_eq!(s.incr("rl:text", LONG).await, Err(SessionError::NotACounter));
        assert_eq!(s.get("rl:text").await.unwrap(), Some(b"not a number".to_vec()));
    }

    pub async fn incr_window_is_fixed<S: SessionStore + Clone>(s: S) {
        assert_eq!(s.incr("rl:w", ms(800)).await.unwrap(), 1);
        tokio::time::sleep(ms(400)).await;
        assert_eq!(s.incr("rl:w", ms(800)).await.unwrap(), 2);
        // 1000 ms after creation: the window (800 ms) is over. Had the second increment
        // extended it, the counter would live until 1200 ms.
        tokio::time::sleep(ms(600)).await;
        assert_eq!(s.incr("rl:w", ms(800)).await.unwrap(), 1);
    }

    pub async fn concurrent_incr_loses_no_update<S: SessionStore + Clone>(s: S) {
        const TASKS: u64 = 16;
        const EACH: u64 = 10;
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    for _ in 0..EACH {
                        s.incr("rl:many", LONG).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(s.incr("rl:many", LONG).await.unwrap(), TASKS * EACH + 1);
    }

    pub async fn ttl_bounds_are_enforced<S: SessionStore + Clone>(s: S) {
        let too_long = tessera_session::MAX_TTL + ms(1);
        for ttl in [Duration::ZERO, too_long] {
            assert_eq!(s.put("k", b"v", ttl).await, Err(SessionError::InvalidTtl(ttl)));
            assert_eq!(s.put_if_absent("k", b"v", ttl).await, Err(SessionError::InvalidTtl(ttl)));
            assert_eq!(s.index_add("i", "m", ttl).await, Err(SessionError::InvalidTtl(ttl)));
            assert_eq!(s.incr("c", ttl).await, Err(SessionError::InvalidTtl(ttl)));
        }
        assert_eq!(s.get("k").await.unwrap(), None);
        s.put("k", b"v", tessera_session::MAX_TTL).await.unwrap();
        assert_eq!(s.touch("k", Duration::ZERO).await, Err(SessionError::InvalidTtl(Duration::ZERO)));
        assert_eq!(s.get("k").await.unwrap(), Some(b"v".to_vec()), "a rejected touch changes nothing");
        // Sub-millisecond TTLs round up rather than fail.
        s.put("k", b"w", Duration::from_micros(10)).await.unwrap();
    }

    pub async fn ping_answers<S: SessionStore + Clone>(s: S) {
        s.ping().await.unwrap();
    }
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::cases::$case(super::memory_store()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    if let Some(store) = super::redis_store().await {
                        super::cases::$case(store).await;
                    }
                }
            )*
        }
        mod any_memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let store = tessera_session::AnySessionStore::from_config("memory", "unused:").await.unwrap();
                    super::cases::$case(store).await;
                }
            )*
        }
    };
}

contract!(
    put_get_overwrite,
    missing_key_is_absent,
    put_expires,
    take_is_single_use,
    concurrent_takes_have_exactly_one_winner,
    put_if_absent_stores_only_once,
    concurrent_put_if_absent_has_exactly_one_winner,
    delete_removes,
    touch_extends_and_shortens,
    index_add_list_remove,
    index_members_expire_individually,
    index_take_all_empties_the_index,
    concurrent_index_take_all_returns_each_member_once,
    incr_counts,
    incr_window_is_fixed,
    concurrent_incr_loses_no_update,
    ttl_bounds_are_enforced,
    ping_answers,
);

/// Cases that only `MemoryStore` has: its memory bound.
mod memory_bound {
    use super::*;

    #[tokio::test]
    async fn full_after_capacity_then_reclaimed_after_expiry() {
        let s = MemoryStore::with_max_entries(10);
        for i in 0..5 {
            s.put(&format!("k{i}"), b"v", ms(300)).await.unwrap();
        }
        for i in 0..3 {
            s.index_add("user:1", &format!("m{i}"), ms(300)).await.unwrap();
        }
        s.incr("c0", ms(300)).await.unwrap();
        s.incr("c1", ms(300)).await.unwrap();
        assert_eq!(s.stored_entries(), 10);

        assert_eq!(s.put("new", b"v", LONG).await, Err(SessionError::Full));
        assert_eq!(s.put_if_absent("new", b"v", LONG).await, Err(SessionError::Full));
        assert_eq!(s.index_add("user:1", "m9", LONG).await, Err(SessionError::Full));
        assert_eq!(s.index_add("user:2", "m0", LONG).await, Err(SessionError::Full));
        assert_eq!(s.incr("c2", LONG).await, Err(SessionError::Full));
        // What already exists can still be changed: no growth.
        s.put("k0", b"w", ms(300)).await.unwrap();
        s.index_add("user:1", "m0", ms(300)).await.unwrap();
        assert_eq!(s.incr("c0", ms(300)).await.unwrap(), 2);
        assert_eq!(s.get("new").await.unwrap(), None);
        assert_eq!(s.stored_entries(), 10);

        tokio::time::sleep(ms(500)).await;
        s.put("new", b"v", LONG).await.unwrap();
        assert_eq!(s.stored_entries(), 1, "expired entries were reclaimed");
        assert_eq!(s.get("new").await.unwrap(), Some(b"v".to_vec()));
    }

    #[tokio::test]
    async fn freed_room_is_reusable_without_expiry() {
        let s = MemoryStore::with_max_entries(2);
        s.put("a", b"v", LONG).await.unwrap();
        s.index_add("i", "m", LONG).await.unwrap();
        assert_eq!(s.put("b", b"v", LONG).await, Err(SessionError::Full));
        assert_eq!(s.take("a").await.unwrap(), Some(b"v".to_vec()));
        s.put("b", b"v", LONG).await.unwrap();
        assert_eq!(s.index_add("i", "m2", LONG).await, Err(SessionError::Full));
        assert_eq!(s.index_take_all("i").await.unwrap(), ["m"]);
        s.index_add("i", "m2", LONG).await.unwrap();
        assert_eq!(s.stored_entries(), 2);
    }

    #[tokio::test]
    async fn explicit_sweep_and_clones_share_state() {
        let s = MemoryStore::new();
        assert_eq!(s.max_entries(), tessera_session::DEFAULT_MAX_ENTRIES);
        let clone = s.clone();
        clone.put("a", b"v", ms(100)).await.unwrap();
        clone.put("b", b"v", LONG).await.unwrap();
        assert_eq!(s.get("b").await.unwrap(), Some(b"v".to_vec()));
        tokio::time::sleep(ms(250)).await;
        assert_eq!(s.stored_entries(), 2, "expired but not yet swept");
        assert_eq!(s.sweep(), 1);
        assert_eq!(s.stored_entries(), 1);
    }

    #[test]
    fn constructing_needs_no_runtime() {
        let s = MemoryStore::with_max_entries(3);
        assert_eq!(s.stored_entries(), 0);
    }
}

/// Cases that only `RedisStore` has: how it lays out keys.
mod redis_layout {
    use super::*;

    async fn raw(url: &str) -> ::redis::aio::MultiplexedConnection {
        ::redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap()
    }

    #[tokio::test]
    async fn keys_live_under_the_prefix_and_indexes_expire_with_their_last_member() {
        let Some(url) = tessera_testkit::redis_url() else {
            return;
        };
        let prefix = tessera_testkit::unique_prefix();
        let s = RedisStore::connect(&url, &prefix).await.unwrap();
        assert_eq!(s.prefix(), prefix);
        s.put("sso:1", b"v", LONG).await.unwrap();
        s.index_add("user:1", "a", Duration::from_secs(5)).await.unwrap();
        s.index_add("user:1", "b", Duration::from_secs(20)).await.unwrap();
        s.index_add("user:1", "c", Duration::from_secs(10)).await.unwrap();

        let mut conn = raw(&url).await;
        let exists: bool = ::redis::cmd("EXISTS").arg(format!("{prefix}k:sso:1")).query_async(&mut conn).await.unwrap();
        assert!(exists);
        let pttl: i64 = ::redis::cmd("PTTL").arg(format!("{prefix}i:user:1")).query_async(&mut conn).await.unwrap();
        assert!((15_000..=20_000).contains(&pttl), "index ttl {pttl} ms should be that of its longest member");
        assert!(s.index_remove("user:1", "b").await.unwrap());
        let pttl: i64 = ::redis::cmd("PTTL").arg(format!("{prefix}i:user:1")).query_async(&mut conn).await.unwrap();
        assert!((5_000..=10_000).contains(&pttl), "index ttl {pttl} ms should shrink with its longest member");
        let keys: Vec<String> = ::redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
        assert!(keys.iter().all(|k| k.starts_with(&prefix)));
    }

    #[tokio::test]
    async fn prefixes_isolate_stores() {
        let Some(url) = tessera_testkit::redis_url() else {
            return;
        };
        let a = RedisStore::connect(&url, &tessera_testkit::unique_prefix()).await.unwrap();
        let b = RedisStore::connect(&url, &tessera_testkit::unique_prefix()).await.unwrap();
        a.put("k", b"a", LONG).await.unwrap();
        a.index_add("i", "m", LONG).await.unwrap();
        assert_eq!(b.get("k").await.unwrap(), None);
        assert!(b.index_list("i").await.unwrap().is_empty());
        assert_eq!(a.take("k").await.unwrap(), Some(b"a".to_vec()));
    }
}
