#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use tessera_session::MemoryStore;

const T0: UnixTime = UnixTime::from_secs(1_800_000_000);

fn sessions() -> SsoSessions {
    SsoSessions::new(AnySessionStore::Memory(MemoryStore::new()), SsoPolicy::default())
}

fn auth(citizen: CitizenId) -> Authentication {
    Authentication {
        citizen_id: citizen,
        amr: vec!["pwd".into()],
        acr: "urn:tessera:acr:password".into(),
        user_agent: None,
    }
}

#[tokio::test]
async fn a_session_is_found_by_its_token_only() {
    let s = sessions();
    let citizen = CitizenId::generate();
    let (token, session) = s.start(auth(citizen), None, T0).await.unwrap();
    assert_eq!(token.len(), 43);
    assert_ne!(session.sid, token, "the public sid is not the cookie secret");
    let found = s.find(&token, T0.plus_secs(5)).await.unwrap().unwrap();
    assert_eq!(found.citizen_id, citizen);
    assert_eq!(found.auth_time, T0);
    assert!(s.find("not-a-token", T0).await.unwrap().is_none());
}

#[tokio::test]
async fn idle_and_absolute_timeouts_are_enforced_by_the_server() {
    let s = sessions();
    let (token, _) = s.start(auth(CitizenId::generate()), None, T0).await.unwrap();
    // Used every 20 minutes, it lives on...
    let mut now = T0;
    for _ in 0..5 {
        now = now.plus_secs(20 * 60);
        assert!(s.find(&token, now).await.unwrap().is_some(), "at {now:?}");
    }
    // ...but 31 idle minutes end it.
    assert!(s.find(&token, now.plus_secs(31 * 60)).await.unwrap().is_none());

    let (token, _) = s.start(auth(CitizenId::generate()), None, T0).await.unwrap();
    let mut now = T0;
    while now.secs_since(T0) < 12 * 3600 - 600 {
        now = now.plus_secs(25 * 60);
        if now.secs_since(T0) >= 12 * 3600 {
            break;
        }
        assert!(s.find(&token, now).await.unwrap().is_some());
    }
    assert!(s.find(&token, T0.plus_secs(12 * 3600)).await.unwrap().is_none(), "absolute timeout");
}

#[tokio::test]
async fn signing_in_again_rotates_the_token_and_ends_the_old_session() {
    let s = sessions();
    let citizen = CitizenId::generate();
    let (old, _) = s.start(auth(citizen), None, T0).await.unwrap();
    s.add_client(&old, "portal", T0).await.unwrap();
    let (new, session) = s.start(auth(citizen), Some(&old), T0.plus_secs(10)).await.unwrap();
    assert_ne!(old, new);
    assert!(s.find(&old, T0.plus_secs(11)).await.unwrap().is_none());
    assert_eq!(session.auth_time, T0.plus_secs(10));
    assert!(session.clients.contains("portal"), "same citizen keeps the clients list");
    let (other, session) = s.start(auth(CitizenId::generate()), Some(&new), T0.plus_secs(20)).await.unwrap();
    assert!(session.clients.is_empty(), "another citizen starts afresh");
    assert!(s.find(&new, T0.plus_secs(21)).await.unwrap().is_none());
    assert!(s.find(&other, T0.plus_secs(21)).await.unwrap().is_some());
}

#[tokio::test]
async fn sign_out_ends_one_session_and_everywhere_ends_all() {
    let s = sessions();
    let citizen = CitizenId::generate();
    let (a, _) = s.start(auth(citizen), None, T0).await.unwrap();
    let (b, _) = s.start(auth(citizen), None, T0).await.unwrap();
    let (c, _) = s.start(auth(citizen), None, T0).await.unwrap();
    let (other, _) = s.start(auth(CitizenId::generate()), None, T0).await.unwrap();
    assert!(s.end(&a).await.unwrap().is_some());
    assert!(s.end(&a).await.unwrap().is_none());
    assert_eq!(s.end_all(citizen).await.unwrap(), 2);
    assert!(s.find(&b, T0).await.unwrap().is_none());
    assert!(s.find(&c, T0).await.unwrap().is_none());
    assert!(s.find(&other, T0).await.unwrap().is_some(), "another citizen's session survives");
}
