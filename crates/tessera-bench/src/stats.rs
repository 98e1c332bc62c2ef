//! Latency samples and their summary: count, throughput, p50 and p99.
//!
//! Percentiles use the nearest-rank method on the sorted samples: the p-th percentile of
//! n samples is the sample of rank ⌈p/100 · n⌉ (1-based). It always returns a value that
//! was actually measured, and p100 is the maximum.

use std::collections::BTreeMap;
use std::time::Duration;

/// The nearest-rank percentile `p` (0 < p ≤ 100) of `sorted` (ascending), or `None` when
/// there is no sample or `p` is out of range.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() || !(p > 0.0 && p <= 100.0) {
        return None;
    }
    let n = sorted.len();
    // ⌈p/100 · n⌉, computed so that exact products are not pushed up by rounding noise.
    let exact = p / 100.0 * n as f64;
    let rank = (exact - 1e-9).ceil().max(1.0) as usize;
    sorted.get(rank.min(n) - 1).copied()
}

/// What one operation (a whole flow, or one HTTP step of it) measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Completed without error.
    pub ok: u64,
    /// Failed (any error: transport, status, unexpected body).
    pub errors: u64,
    /// Completed per second over the measured window.
    pub per_sec: f64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency in milliseconds.
    pub p99_ms: f64,
    /// Mean latency in milliseconds.
    pub mean_ms: f64,
}

impl Summary {
    /// Summarises latencies in microseconds (any order) measured over `window`.
    pub fn of(mut micros: Vec<u64>, errors: u64, window: Duration) -> Summary {
        micros.sort_unstable();
        let ms = |v: Option<u64>| v.map_or(0.0, |us| us as f64 / 1000.0);
        let secs = window.as_secs_f64();
        let ok = micros.len() as u64;
        let mean_ms =
            if micros.is_empty() { 0.0 } else { micros.iter().sum::<u64>() as f64 / micros.len() as f64 / 1000.0 };
        Summary {
            ok,
            errors,
            per_sec: if secs > 0.0 { ok as f64 / secs } else { 0.0 },
            p50_ms: ms(percentile(&micros, 50.0)),
            p99_ms: ms(percentile(&micros, 99.0)),
            mean_ms,
        }
    }
}

/// Latencies and errors per operation name, recorded by one worker and merged at the end.
#[derive(Debug, Default)]
pub struct Recorder {
    latencies: BTreeMap<String, Vec<u64>>,
    errors: BTreeMap<String, u64>,
    /// A few error messages, to show what went wrong.
    pub error_samples: Vec<String>,
}

/// How many error messages a recorder keeps.
const ERROR_SAMPLES: usize = 5;

impl Recorder {
    /// Records one successful operation.
    pub fn ok(&mut self, op: &str, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latencies.entry(op.to_owned()).or_default().push(micros);
    }

    /// Records one failed operation.
    pub fn error(&mut self, op: &str, message: String) {
        *self.errors.entry(op.to_owned()).or_default() += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            self.error_samples.push(format!("{op}: {message}"));
        }
    }

    /// Adds everything `other` recorded.
    pub fn merge(&mut self, other: Recorder) {
        for (op, mut samples) in other.latencies {
            self.latencies.entry(op).or_default().append(&mut samples);
        }
        for (op, n) in other.errors {
            *self.errors.entry(op).or_default() += n;
        }
        for sample in other.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES {
                self.error_samples.push(sample);
            }
        }
    }

    /// The summary of every operation seen, by name.
    pub fn summaries(&self, window: Duration) -> BTreeMap<String, Summary> {
        let mut names: Vec<&String> = self.latencies.keys().chain(self.errors.keys()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|op| {
                let samples = self.latencies.get(op).cloned().unwrap_or_default();
                let errors = self.errors.get(op).copied().unwrap_or(0);
                (op.clone(), Summary::of(samples, errors, window))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.5), Some(1));
        // Ten samples: p50 is the 5th, p99 the 10th (⌈9.9⌉).
        let ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000];
        assert_eq!(percentile(&ten, 50.0), Some(50));
        assert_eq!(percentile(&ten, 99.0), Some(1000));
        assert_eq!(percentile(&ten, 90.0), Some(90));
        // One sample is every percentile.
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
    }

    #[test]
    fn percentile_of_nothing_or_out_of_range() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1, 2, 3], 0.0), None);
        assert_eq!(percentile(&[1, 2, 3], 100.1), None);
        assert_eq!(percentile(&[1, 2, 3], f64::NAN), None);
    }

    #[test]
    fn summary_sorts_and_computes_rate() {
        // Given out of order, in microseconds.
        let samples = vec![3000, 1000, 2000, 4000];
        let s = Summary::of(samples, 1, Duration::from_secs(2));
        assert_eq!(s.ok, 4);
        assert_eq!(s.errors, 1);
        assert!((s.per_sec - 2.0).abs() < 1e-9);
        assert!((s.p50_ms - 2.0).abs() < 1e-9);
        assert!((s.p99_ms - 4.0).abs() < 1e-9);
        assert!((s.mean_ms - 2.5).abs() < 1e-9);
        let empty = Summary::of(Vec::new(), 0, Duration::ZERO);
        assert_eq!(empty.per_sec, 0.0);
        assert_eq!(empty.p50_ms, 0.0);
    }

    #[test]
    fn recorders_merge() {
        let mut a = Recorder::default();
        a.ok("flow", Duration::from_millis(1));
        a.error("flow", "boom".into());
        let mut b = Recorder::default();
        b.ok("flow", Duration::from_millis(3));
        b.ok("step", Duration::from_millis(2));
        a.merge(b);
        let all = a.summaries(Duration::from_secs(1));
        assert_eq!(all["flow"].ok, 2);
        assert_eq!(all["flow"].errors, 1);
        assert_eq!(all["step"].ok, 1);
        assert_eq!(a.error_samples, vec!["flow: boom".to_owned()]);
    }
}
