//! Facts about the running process that benchmarks and `--stats` print.

/// Peak resident memory of this process in bytes (`VmHWM` on Linux; `None` elsewhere).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
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
