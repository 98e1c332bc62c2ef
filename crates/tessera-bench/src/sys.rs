//! CPU time from /proc: of a process (all its threads), and of the whole machine, so that a
//! report can say how busy the server was and whether anything else competed for the cores.

/// /proc reports CPU time in USER_HZ ticks: 100 per second on Linux.
pub const TICKS_PER_SEC: f64 = 100.0;

/// User + system CPU time of a process so far, in ticks (all its threads).
pub fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_name) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of proc_pid_stat(5) are utime and stime; `after_name` starts at field 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Busy ticks of all cores together so far (everything but idle and iowait; steal counts
/// as busy: the core was not ours).
pub fn machine_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_busy(stat.lines().next()?)
}

fn parse_busy(cpu_line: &str) -> Option<u64> {
    let mut fields = cpu_line.split_whitespace();
    if !fields.next()?.starts_with("cpu") {
        return None;
    }
    let values: Vec<u64> = fields.take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal] = values.as_slice() else { return None };
    Some(user + nice + system + irq + softirq + steal)
}

/// A snapshot of the CPU time used so far by the server, this process and the machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    server: Option<u64>,
    own: Option<u64>,
    machine: Option<u64>,
}

/// CPU used between two snapshots, in % of one core over `secs` of wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CpuUse {
    pub server: Option<f64>,
    pub load: Option<f64>,
    /// Everything else on the machine (other processes, and kernel work not charged to
    /// either: part of the loopback networking is).
    pub other: Option<f64>,
}

impl CpuSnapshot {
    pub fn take(server_pid: Option<u32>) -> CpuSnapshot {
        CpuSnapshot {
            server: server_pid.and_then(process_ticks),
            own: process_ticks(std::process::id()),
            machine: machine_busy_ticks(),
        }
    }

    pub fn since(&self, before: &CpuSnapshot, secs: f64) -> CpuUse {
        let delta = |a: Option<u64>, b: Option<u64>| a?.checked_sub(b?);
        let pct = |ticks: Option<u64>| {
            let ticks = ticks?;
            (secs > 0.0).then(|| ticks as f64 / TICKS_PER_SEC / secs * 100.0)
        };
        let server = delta(self.server, before.server);
        let own = delta(self.own, before.own);
        let machine = delta(self.machine, before.machine);
        let other = machine.map(|m| m.saturating_sub(server.unwrap_or(0)).saturating_sub(own.unwrap_or(0)));
        CpuUse { server: pct(server), load: pct(own), other: pct(other) }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn own_cpu_time_is_readable() {
        assert!(process_ticks(std::process::id()).is_some());
        assert!(process_ticks(u32::MAX).is_none());
        assert!(machine_busy_ticks().is_some());
    }

    #[test]
    fn busy_excludes_idle_and_iowait() {
        assert_eq!(parse_busy("cpu  10 1 5 1000 7 2 3 4 0 0"), Some(10 + 1 + 5 + 2 + 3 + 4));
        assert_eq!(parse_busy("intr 1 2 3"), None);
        assert_eq!(parse_busy("cpu 1 2"), None);
    }
}
