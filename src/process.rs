//! Facts about the running process that benchmarks and `--stats` print.

/// Peak resident memory of this process in bytes (`VmHWM` on Linux; `None` elsewhere).
pub fn peak_memory_bytes() -> Option<u64> {
    status_bytes("self", "VmHWM:")
}

/// Starts a new peak: the next [`peak_memory_bytes`] reports the highest resident memory from
/// now on (Linux: writes `5` to `/proc/self/clear_refs`). Whether it could.
pub fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Resident memory of process `pid` now, in bytes (`VmRSS` on Linux; `None` elsewhere or when
/// there is no such process).
pub fn resident_memory_bytes(pid: u32) -> Option<u64> {
    status_bytes(&pid.to_string(), "VmRSS:")
}

/// A `kB` field of `/proc/<process>/status`, in bytes.
fn status_bytes(process: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line
        .trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Bytes as MiB with one decimal, for reports.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_peak_memory_on_linux() {
        if cfg!(target_os = "linux") {
            let peak = super::peak_memory_bytes().expect("VmHWM");
            assert!(peak > 1024 * 1024, "{peak}");
        }
    }
}
