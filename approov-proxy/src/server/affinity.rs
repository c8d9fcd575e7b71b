//! Which CPU each worker thread runs on (`WORKER_CPU_AFFINITY`).
//!
//! Under full load a worker always has a connection ready, so it never
//! sleeps. Left to the kernel, two such workers can end up sharing one CPU
//! while the other CPU runs everything else (the upstream, the load), and
//! then take turns a scheduler tick (4 ms at 250 Hz) at a time: every
//! request on the waiting worker's connections is 4 ms late. One worker per
//! CPU, each pinned to its own, cannot stack up that way (nginx's
//! `worker_cpu_affinity auto`). BENCHMARKS.md has the measurement.
//!
//! Pinning is only done when the workers are exactly as many as the CPUs
//! the process may run on: a container limited by a CPU quota rather than
//! a CPU set sees every CPU of its host, and pinning its one worker to the
//! host's first CPU (as every other such container would) would be far
//! worse than not pinning.

use std::fmt;

use crate::config::CpuAffinity;

/// A CPU a worker is pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cpu(usize);

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The CPU of each of `workers` workers, when they are pinned: the CPUs
/// this thread may run on, in order, one each, if `affinity` is `Auto` and
/// they are exactly as many as the workers.
pub(crate) fn plan(workers: usize, affinity: CpuAffinity) -> Option<Vec<Cpu>> {
    match affinity {
        CpuAffinity::Off => None,
        CpuAffinity::Auto => plan_for(workers, &allowed()?),
    }
}

fn plan_for(workers: usize, allowed: &[Cpu]) -> Option<Vec<Cpu>> {
    (allowed.len() == workers).then(|| allowed.to_vec())
}

#[cfg(target_os = "linux")]
fn allowed() -> Option<Vec<Cpu>> {
    let cores = core_affinity::get_core_ids()?;
    Some(cores.into_iter().map(|core| Cpu(core.id)).collect())
}

/// Elsewhere the CPUs a process may use are not read: nothing is pinned.
#[cfg(not(target_os = "linux"))]
fn allowed() -> Option<Vec<Cpu>> {
    None
}

/// Pins the calling thread to `cpu`; whether the kernel took it.
#[cfg(target_os = "linux")]
pub(crate) fn pin_current_thread(cpu: Cpu) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: cpu.0 })
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn pin_current_thread(_cpu: Cpu) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read() {
        assert_eq!(CpuAffinity::parse("auto"), Some(CpuAffinity::Auto));
        assert_eq!(CpuAffinity::parse(" OFF "), Some(CpuAffinity::Off));
        for bad in ["", "on", "0", "0,1", "yes"] {
            assert_eq!(CpuAffinity::parse(bad), None, "{bad}");
        }
        assert_eq!(CpuAffinity::default(), CpuAffinity::Auto);
    }

    #[test]
    fn workers_are_pinned_only_when_they_match_the_cpus_one_to_one() {
        let cpus = [Cpu(2), Cpu(5), Cpu(7)];
        assert_eq!(plan_for(3, &cpus), Some(cpus.to_vec()));
        // A CPU quota below the host's CPUs, or more workers than CPUs.
        assert_eq!(plan_for(1, &cpus), None);
        assert_eq!(plan_for(4, &cpus), None);
        assert_eq!(plan(3, CpuAffinity::Off), None);
    }
}
