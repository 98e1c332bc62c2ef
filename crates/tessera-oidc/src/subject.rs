//! Subject identifiers (OIDC Core §8): public, or pairwise per sector (§8.1) so that two
//! departments cannot join their records on `sub`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_crypto::MacKey;
use tessera_domain::{CitizenId, Client, SubjectType};

/// The `sub` of `citizen` for `client`.
///
/// - [`SubjectType::Public`]: the citizen id (lower-case hyphenated UUID), the same for every
///   client.
/// - [`SubjectType::Pairwise`]: `BASE64URL(HMAC-SHA256(key, sector_identifier || 0x00 ||
///   citizen uuid bytes))`, 43 characters (OIDC Core §8.1 suggests a keyed hash of the sector
///   and the local account id). The same for every client of one sector, unrelated across
///   sectors, and not reversible without the key. The `0x00` separator keeps
///   (sector, citizen) pairs from colliding through concatenation. `pairwise_key` must be
///   `MasterKey::mac_key(Purpose::PairwiseSubject)`: changing it changes every pairwise `sub`.
#[must_use]
pub fn subject_for(client: &Client, citizen: CitizenId, pairwise_key: &MacKey) -> String {
    match client.subject_type {
        SubjectType::Public => citizen.to_string(),
        SubjectType::Pairwise => {
            let sector = client.sector_identifier.as_bytes();
            let mut input = Vec::with_capacity(sector.len() + 1 + 16);
            input.extend_from_slice(sector);
            input.push(0);
            input.extend_from_slice(citizen.as_uuid().as_bytes());
            URL_SAFE_NO_PAD.encode(pairwise_key.sign(&input))
        }
    }
}

/// The default sector identifier of a client (OIDC Core §8.1: without a
/// `sector_identifier_uri`, the host of the redirect URI): the host shared by all
/// `redirect_uris`, lower case. `None` when the list is empty, a URI does not parse or has no
/// host, or the URIs are on more than one host (then the operator must name the sector).
#[must_use]
pub fn sector_of(redirect_uris: &[String]) -> Option<String> {
    let mut hosts = redirect_uris.iter().map(|u| url::Url::parse(u).ok().and_then(|u| u.host_str().map(str::to_owned)));
    let first = hosts.next()??;
    for host in hosts {
        if host.as_deref() != Some(first.as_str()) {
            return None;
        }
    }
    Some(first)
}

#[cfg(test)]
#[path = "subject_tests.rs"]
mod tests;
