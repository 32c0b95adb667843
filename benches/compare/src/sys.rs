//! Process and machine facts: CPU time, memory, and the description of the
//! machine written at the top of the report.

use std::process::Command;

/// User + system CPU time of this whole process (all threads), in µs.
pub fn cpu_time_us() -> u64 {
    rusage_cpu_us(libc::RUSAGE_SELF)
}

/// User + system CPU time of the calling thread, in µs.
pub fn thread_cpu_time_us() -> u64 {
    rusage_cpu_us(libc::RUSAGE_THREAD)
}

fn rusage_cpu_us(who: libc::c_int) -> u64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(who, &mut usage) };
    if rc != 0 {
        return 0;
    }
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// A `kB` line of /proc/self/status (`VmRSS`, `VmHWM`), in KiB.
pub fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0)
}

fn run(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// What the report says about the machine and the software.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    pub cpus: String,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
    pub redis_server: String,
    pub rustc: String,
    pub date: String,
}

pub fn describe() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".to_owned());
    let redis = run("redis-server", &["--version"]);
    let redis_server = redis
        .split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .map(|v| v.to_owned())
        .unwrap_or(redis);
    Machine {
        cpus: run("nproc", &[]),
        cpu_model,
        memory,
        kernel: run("uname", &["-sr"]),
        redis_server,
        rustc: run("rustc", &["--version"]),
        date: run("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
    }
}
