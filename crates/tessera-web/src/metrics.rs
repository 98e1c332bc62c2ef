//! `/metrics`: request counts and latencies in the Prometheus text format (version 0.0.4),
//! for the operators' monitoring. Hand-written: two metric families and a few gauges do not
//! need a metrics framework.
//!
//! - `tessera_http_requests_total{route, method, status}`: requests answered;
//! - `tessera_http_request_duration_seconds{route}`: a histogram of the time to answer;
//! - `tessera_build_info{version}` and `tessera_start_time_seconds`.
//!
//! `route` is the matched route pattern (`/account/passkeys/{id}/rename`), never the path, so
//! no identifier, token or personal data reaches a label and the number of series is bounded
//! by the route table; a request that matches no route is `unmatched`. `method` is one of the
//! methods Tessera serves, or `other`.
//!
//! Only peers in `metrics.allow` (by default loopback) may read the page; anyone else gets a
//! plain 404. The check uses the TCP peer, never `X-Forwarded-For`: Prometheus scrapes each
//! node directly.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::http::Method;

use crate::client_ip::IpNetwork;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Who may read `/metrics`: the default is loopback only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsAccess(Vec<IpNetwork>);

impl MetricsAccess {
    pub fn new(allow: Vec<IpNetwork>) -> Self {
        Self(allow)
    }

    /// Whether a peer at `ip` may read the metrics.
    pub fn allows(&self, ip: std::net::IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}

impl Default for MetricsAccess {
    fn default() -> Self {
        let loopback = ["127.0.0.0/8", "::1"].iter().filter_map(|n| n.parse().ok()).collect();
        Self(loopback)
    }
}

/// One latency histogram, in microseconds so that it can live in atomics.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&le| secs <= le)
            && let Some(bucket) = self.buckets.get(i)
        {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Everything recorded for one route pattern.
#[derive(Debug, Default)]
struct RouteSeries {
    /// Requests answered, by method and status.
    counts: RwLock<HashMap<(&'static str, u16), Arc<AtomicU64>>>,
    durations: Histogram,
}

/// What one node has answered since it started.
#[derive(Debug)]
pub struct Metrics {
    started_at: f64,
    routes: RwLock<HashMap<String, Arc<RouteSeries>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        let started_at =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        Self { started_at, routes: RwLock::default() }
    }
}

impl Metrics {
    /// Counts one answered request. `route` is the matched pattern, or `None` for no match.
    /// After the first request of a kind, this takes two read locks and allocates nothing.
    pub fn record(&self, route: Option<&str>, method: &Method, status: u16, elapsed: Duration) {
        let route = route.unwrap_or(UNMATCHED);
        let series = match self.routes.read().ok().and_then(|m| m.get(route).cloned()) {
            Some(series) => series,
            None => match self.routes.write() {
                Ok(mut map) => Arc::clone(map.entry(route.to_owned()).or_default()),
                Err(_) => return,
            },
        };
        series.durations.observe(elapsed);
        let key = (method_label(method), status);
        if let Some(counter) = series.counts.read().ok().and_then(|m| m.get(&key).cloned()) {
            counter.fetch_add(1, Ordering::Relaxed);
        } else if let Ok(mut map) = series.counts.write() {
            map.entry(key).or_default().fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition of everything recorded, series in a stable order.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP tessera_build_info The running Tessera version.");
        let _ = writeln!(out, "# TYPE tessera_build_info gauge");
        let _ = writeln!(out, "tessera_build_info{{version=\"{}\"}} 1", escape(env!("CARGO_PKG_VERSION")));
        let _ = writeln!(out, "# HELP tessera_start_time_seconds When this process started, in Unix time.");
        let _ = writeln!(out, "# TYPE tessera_start_time_seconds gauge");
        let _ = writeln!(out, "tessera_start_time_seconds {}", self.started_at);

        let mut routes: Vec<(String, Arc<RouteSeries>)> =
            self.routes.read().map(|m| m.iter().map(|(k, v)| (escape(k), Arc::clone(v))).collect()).unwrap_or_default();
        routes.sort_by(|a, b| a.0.cmp(&b.0));

        let _ = writeln!(out, "# HELP tessera_http_requests_total HTTP requests answered, by route pattern.");
        let _ = writeln!(out, "# TYPE tessera_http_requests_total counter");
        for (route, series) in &routes {
            let mut counts: Vec<_> = series
                .counts
                .read()
                .map(|m| m.iter().map(|(k, v)| (*k, v.load(Ordering::Relaxed))).collect())
                .unwrap_or_default();
            counts.sort();
            for ((method, status), count) in counts {
                let _ = writeln!(
                    out,
                    "tessera_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {count}"
                );
            }
        }

        let _ = writeln!(out, "# HELP tessera_http_request_duration_seconds Time to answer, by route pattern.");
        let _ = writeln!(out, "# TYPE tessera_http_request_duration_seconds histogram");
        for (route, series) in &routes {
            let histogram = &series.durations;
            let mut cumulative = 0;
            for (le, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = histogram.count.load(Ordering::Relaxed);
            let sum = histogram.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ =
                writeln!(out, "tessera_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "tessera_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "tessera_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        out
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

/// A label value as the text format wants it: `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn requests_and_latencies_render_in_the_text_format() {
        let metrics = Metrics::default();
        let ms = Duration::from_millis;
        metrics.record(Some("/token"), &Method::POST, 200, ms(2));
        metrics.record(Some("/token"), &Method::POST, 200, ms(30));
        metrics.record(Some("/token"), &Method::POST, 401, ms(7));
        metrics.record(None, &Method::from_bytes(b"BREW").unwrap(), 404, Duration::from_secs(9));
        let text = metrics.render();
        assert!(
            text.contains("tessera_http_requests_total{route=\"/token\",method=\"POST\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("tessera_http_requests_total{route=\"/token\",method=\"POST\",status=\"401\"} 1\n"));
        assert!(text.contains("tessera_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 1\n"));
        // Cumulative buckets: 2 ms, 7 ms and 30 ms.
        for (le, n) in [("0.001", 0), ("0.0025", 1), ("0.005", 1), ("0.01", 2), ("0.025", 2), ("0.05", 3), ("+Inf", 3)]
        {
            let line = format!("tessera_http_request_duration_seconds_bucket{{route=\"/token\",le=\"{le}\"}} {n}\n");
            assert!(text.contains(&line), "{line}{text}");
        }
        assert!(text.contains("tessera_http_request_duration_seconds_sum{route=\"/token\"} 0.039\n"), "{text}");
        assert!(text.contains("tessera_http_request_duration_seconds_count{route=\"/token\"} 3\n"));
        // Beyond the last bucket: counted only in +Inf.
        assert!(text.contains("tessera_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"5\"} 0\n"));
        assert!(text.contains("tessera_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"} 1\n"));
        // Every family has its HELP and TYPE; every other line is a sample.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                line.starts_with("tessera_") && line.rsplit_once(' ').is_some_and(|(_, v)| v.parse::<f64>().is_ok()),
                "{line}"
            );
        }
        assert_eq!(text.matches("# TYPE ").count(), 4);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn only_loopback_may_read_by_default() {
        let access = MetricsAccess::default();
        assert!(access.allows("127.0.0.1".parse().unwrap()));
        assert!(access.allows("::1".parse().unwrap()));
        assert!(access.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!access.allows("10.0.0.1".parse().unwrap()));
        assert!(!MetricsAccess::new(Vec::new()).allows("127.0.0.1".parse().unwrap()));
    }
}
