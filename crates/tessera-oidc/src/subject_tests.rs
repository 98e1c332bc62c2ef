#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use crate::clients::test_client;
use tessera_crypto::{MasterKey, Purpose};

fn key() -> MacKey {
    MasterKey::from_bytes([9; 32]).mac_key(Purpose::PairwiseSubject).unwrap()
}

fn pairwise(sector: &str) -> Client {
    let mut c = test_client("rp");
    c.subject_type = SubjectType::Pairwise;
    c.sector_identifier = sector.to_owned();
    c
}

#[test]
fn public_subject_is_the_citizen_id() {
    let mut c = test_client("rp");
    c.subject_type = SubjectType::Public;
    let citizen = CitizenId::generate();
    assert_eq!(subject_for(&c, citizen, &key()), citizen.to_string());
}

#[test]
fn pairwise_subject_matches_its_definition() {
    let citizen = CitizenId::parse("0b5f3c6e-8d7a-4f2b-9c1d-2e3f4a5b6c7d").unwrap();
    let mut input = b"td.gov.hk".to_vec();
    input.push(0);
    input.extend_from_slice(citizen.as_uuid().as_bytes());
    let expected = URL_SAFE_NO_PAD.encode(key().sign(&input));
    let sub = subject_for(&pairwise("td.gov.hk"), citizen, &key());
    assert_eq!(sub, expected);
    assert_eq!(sub.len(), 43);
    assert!(sub.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(!sub.contains(&citizen.to_string()));
}

#[test]
fn pairwise_is_stable_per_sector_and_differs_across_sectors() {
    let citizen = CitizenId::generate();
    let other = CitizenId::generate();
    let td = subject_for(&pairwise("td.gov.hk"), citizen, &key());
    let mut td_second_client = pairwise("td.gov.hk");
    td_second_client.id = tessera_domain::ClientId::parse("td-other-app").unwrap();
    assert_eq!(subject_for(&td_second_client, citizen, &key()), td, "same sector, same sub");
    assert_eq!(subject_for(&pairwise("td.gov.hk"), citizen, &key()), td, "stable");
    assert_ne!(subject_for(&pairwise("ird.gov.hk"), citizen, &key()), td, "other sector, other sub");
    assert_ne!(subject_for(&pairwise("td.gov.hk"), other, &key()), td, "other citizen, other sub");
    let other_key = MasterKey::from_bytes([10; 32]).mac_key(Purpose::PairwiseSubject).unwrap();
    assert_ne!(subject_for(&pairwise("td.gov.hk"), citizen, &other_key), td, "other key, other sub");
}

#[test]
fn sector_is_the_single_shared_host() {
    let uris = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        sector_of(&uris(&["https://td.gov.hk/cb", "https://td.gov.hk/other?x=1", "https://td.gov.hk:8443/cb"])),
        Some("td.gov.hk".to_owned())
    );
    assert_eq!(sector_of(&uris(&["https://TD.gov.hk/cb"])), Some("td.gov.hk".to_owned()));
    assert_eq!(sector_of(&uris(&["http://[::1]:8080/cb"])), Some("[::1]".to_owned()));
    assert_eq!(sector_of(&uris(&["https://td.gov.hk/cb", "https://ird.gov.hk/cb"])), None);
    assert_eq!(sector_of(&uris(&["https://td.gov.hk/cb", "not a url"])), None);
    assert_eq!(sector_of(&uris(&["not a url", "https://td.gov.hk/cb"])), None);
    assert_eq!(sector_of(&[]), None);
}
