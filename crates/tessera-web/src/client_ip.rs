//! The client's address, for per-address throttling and the audit trail.
//!
//! By default it is the TCP peer. Behind a load balancer or reverse proxy every request
//! comes from the proxy, so all citizens would share one per-address throttle (30 failures
//! in 5 minutes from anyone would lock everyone out) and the audit trail would name the
//! proxy. The `trusted_proxies` setting lists the proxies' addresses or networks; only when
//! the peer is one of them is `X-Forwarded-For` read, from the right (the hop the nearest
//! proxy added) to the left, skipping further trusted proxies: the first address that is
//! not a trusted proxy is the client. A header from anyone else is ignored, so a client
//! cannot pick its own address. Proxies must append to `X-Forwarded-For` (nginx:
//! `$proxy_add_x_forwarded_for`; cloud load balancers do by default).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;

/// One address or network in CIDR notation: `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    network: IpAddr,
    prefix: u8,
}

/// Why a `trusted_proxies` entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or a network such as 10.0.0.0/8 or 2001:db8::/32")]
pub struct BadNetwork(String);

impl FromStr for IpNetwork {
    type Err = BadNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadNetwork(s.to_owned());
        let (address, prefix) = match s.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (s.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        // Host bits must be zero, as in `10.0.0.0/8`: `10.1.2.3/8` is most likely a mistake.
        if mask(network, prefix) != bits(network) {
            return Err(bad());
        }
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl IpNetwork {
    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.network.is_ipv4() && mask(ip, self.prefix) == bits(self.network)
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn mask(ip: IpAddr, prefix: u8) -> u128 {
    let width = if ip.is_ipv4() { 32 } else { 128 };
    let host_bits = u32::from(width - prefix.min(width));
    if host_bits >= 128 { 0 } else { bits(ip) >> host_bits << host_bits }
}

/// The proxies whose `X-Forwarded-For` is believed. Empty (the default): none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNetwork>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNetwork>) -> Self {
        Self(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request from `peer` carrying these `X-Forwarded-For` values.
    pub fn client_of<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // A hop a trusted proxy wrote but nobody can read: stop at the last good one.
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip().to_canonical())
}

/// The client address of `req` (see the module docs), as text; `unknown` without a peer.
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> String {
    let Some(peer) = req.peer_addr() else { return "unknown".into() };
    let headers = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok());
    trusted.client_of(peer.ip(), headers).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn net(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_contain() {
        assert!(net("10.0.0.0/8").contains(ip("10.255.1.2")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(net("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!net("192.0.2.7").contains(ip("192.0.2.8")));
        assert!(net("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!net("0.0.0.0/0").contains(ip("2001:db8::1")), "IPv4 networks hold no IPv6 address");
        assert!(net("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!net("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(net("::/0").contains(ip("::1")));
        assert!(net("127.0.0.1").contains(ip("::ffff:127.0.0.1")), "IPv4-mapped counts as IPv4");
        assert_eq!(net(" 10.0.0.0/8 ").to_string(), "10.0.0.0/8");
        for bad in [
            "",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.1.2.3/8",
            "10.0.0/8",
            "example.org",
            "10.0.0.0/+8",
            "1.2.3.4/08x",
        ] {
            assert!(bad.parse::<IpNetwork>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(none.client_of(ip("198.51.100.4"), ["203.0.113.9"].into_iter()), ip("198.51.100.4"));
    }

    #[test]
    fn a_trusted_proxys_header_is_read_from_the_right() {
        let trusted = TrustedProxies::new(vec![net("10.0.0.0/8"), net("192.0.2.1")]);
        let client = |peer: &str, headers: &[&str]| trusted.client_of(ip(peer), headers.iter().copied());
        // The load balancer appended the client's address.
        assert_eq!(client("10.0.0.2", &["203.0.113.9"]), ip("203.0.113.9"));
        // Whatever the client wrote itself stays to the left and is not believed.
        assert_eq!(client("10.0.0.2", &["1.1.1.1, 203.0.113.9"]), ip("203.0.113.9"));
        // Two trusted hops (a CDN edge in 192.0.2.1, then the load balancer).
        assert_eq!(client("10.0.0.2", &["1.1.1.1, 203.0.113.9, 192.0.2.1"]), ip("203.0.113.9"));
        // Several header lines are one list, in order.
        assert_eq!(client("10.0.0.2", &["1.1.1.1", "203.0.113.9"]), ip("203.0.113.9"));
        // Ports and IPv6.
        assert_eq!(client("10.0.0.2", &["[2001:db8::7]:4711"]), ip("2001:db8::7"));
        assert_eq!(client("10.0.0.2", &["203.0.113.9:4711"]), ip("203.0.113.9"));
        // No header, or only trusted hops: the nearest address known.
        assert_eq!(client("10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.2", &["10.0.0.7"]), ip("10.0.0.7"));
        // Unreadable: stop at the last address a trusted proxy vouched for.
        assert_eq!(client("10.0.0.2", &["203.0.113.9, garbage"]), ip("10.0.0.2"));
        assert_eq!(client("10.0.0.2", &["garbage, 192.0.2.1"]), ip("192.0.2.1"));
        // A peer outside the trusted networks cannot choose its address.
        assert_eq!(client("198.51.100.4", &["203.0.113.9"]), ip("198.51.100.4"));
    }
}
