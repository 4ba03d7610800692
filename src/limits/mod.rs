//! What one statement, one query and the whole process may use, and the errors past each
//! limit. Every road from SQL to rows (the shell, `-c`/`-f`, the library, the server) goes
//! through these checks:
//!
//! - `complexity`: a statement's length, nesting depth and expression count, checked right
//!   after parsing (SQLSTATE 54000 / 54001), so no deep tree reaches the recursive planner;
//! - `memory`: a memory pool per session inside one pool per process (SQLSTATE 53200), and
//!   `functions`: a cap on what one call of `repeat`, `lpad`, `range`, … may allocate;
//! - `runtime`: the threads queries plan and run on, with a stack of a known size, so
//!   nothing depends on the caller's thread;
//! - `yielding`: joins hand the thread back now and then, so a cancelled query stops.
//!
//! docs/security.md lists the limits, their options and defaults, and what each refusal
//! looks like; `examples/stack_depth.rs` measures the stack a nesting depth needs.

pub mod complexity;
pub mod functions;
pub mod memory;
pub mod runtime;
pub mod yielding;

use thiserror::Error;

/// How deep sqlparser may recurse while parsing (nested parentheses, subqueries, unary
/// operators): deeper statements are a syntax error (SQLSTATE 54001) instead of a deep parse.
pub const PARSER_RECURSION_LIMIT: usize = 50;

/// Default [`Limits::max_statement_depth`]: measured with `examples/stack_depth.rs`, which
/// finds the deepest statement of each shape that plans and runs on a query thread (see
/// [`runtime::QUERY_STACK_BYTES`]); this is a quarter of the shallowest shape's maximum in a
/// debug build (release builds reach deeper), so even the worst shape keeps a 4× margin.
pub const DEFAULT_MAX_STATEMENT_DEPTH: usize = 1_000;

/// Default [`Limits::max_statement_nodes`]: planning takes about 1 KiB per expression, so
/// this bounds a statement's planning memory near 100 MiB (an `IN` list of 100,000 values).
pub const DEFAULT_MAX_STATEMENT_NODES: usize = 100_000;

/// Default [`Limits::max_statement_bytes`]: 1 MiB of SQL text (an `IN` list of some 30,000
/// ids). Parsing holds about 100–200 bytes per token before any check can run, so this also
/// bounds what one statement costs before it is refused.
pub const DEFAULT_MAX_STATEMENT_BYTES: usize = 1 << 20;

/// The limits in force. [`Limits::for_this_machine`] derives the memory defaults from the
/// machine's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest SQL text of one request, in bytes.
    pub max_statement_bytes: usize,
    /// Deepest nesting of expressions and queries in one statement.
    pub max_statement_depth: usize,
    /// Most expressions in one statement.
    pub max_statement_nodes: usize,
    /// Memory one session's queries may hold at once (sorts, joins, aggregates, buffers),
    /// and the most one function call may allocate.
    pub max_query_memory: usize,
    /// Memory all queries of the process may hold at once.
    pub max_memory: usize,
}

impl Limits {
    /// The defaults for this machine: the process may use half its memory (or of its
    /// cgroup's limit), one query a quarter of that and at most 2 GiB.
    pub fn for_this_machine() -> Self {
        let memory = machine_memory_bytes().unwrap_or(4 << 30);
        let max_memory = memory / 2;
        Self {
            max_statement_bytes: DEFAULT_MAX_STATEMENT_BYTES,
            max_statement_depth: DEFAULT_MAX_STATEMENT_DEPTH,
            max_statement_nodes: DEFAULT_MAX_STATEMENT_NODES,
            max_query_memory: (max_memory / 4).min(2 << 30),
            max_memory,
        }
    }

    /// The most one scalar function call may return, in bytes.
    pub fn max_function_bytes(&self) -> usize {
        self.max_query_memory
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::for_this_machine()
    }
}

/// A limit a statement or query went past.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// The statement nests too deeply or has too many expressions (SQLSTATE 54001).
    #[error(
        "statement too complex: its {what} passes the limit of {limit}; split it into smaller statements (an IN list instead of a long OR chain, a temporary table instead of a long UNION)"
    )]
    TooComplex {
        /// What was counted: "nesting depth" or "expressions".
        what: &'static str,
        /// The limit it passed.
        limit: usize,
    },
    /// The SQL text is longer than the server takes (SQLSTATE 54000).
    #[error("statement too long: {bytes} bytes, the limit is {limit} bytes")]
    TooLong {
        /// Its length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

impl LimitError {
    /// The SQLSTATE PostgreSQL gives the same refusal.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            LimitError::TooComplex { .. } => "54001",
            LimitError::TooLong { .. } => "54000",
        }
    }
}

/// Physical memory, or the cgroup's memory limit when that is smaller (Linux; `None`
/// elsewhere).
pub fn machine_memory_bytes() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total_kib: usize = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let total = total_kib.saturating_mul(1024);
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok());
    Some(cgroup.map_or(total, |limit| limit.min(total)))
}

/// `bytes` for a message: `3.0 GiB`, `512 MiB`, `900 KiB`.
pub fn human_bytes(bytes: usize) -> String {
    const GIB: f64 = (1u64 << 30) as f64;
    const MIB: f64 = (1u64 << 20) as f64;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else if b >= MIB {
        format!("{:.0} MiB", b / MIB)
    } else {
        format!("{:.0} KiB", b / 1024.0)
    }
}

/// Parses a size given on the command line: `512MiB`, `2GiB`, `1.5G`, `800M`, `1048576`.
pub fn parse_bytes(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 512MiB, 2GiB)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown size unit '{other}' (use KiB, MiB or GiB)")),
    };
    let bytes = number * scale;
    if !(1.0..=(usize::MAX as f64)).contains(&bytes) {
        return Err(format!("'{text}' is not a usable size"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("2G"), Ok(2 << 30));
        assert_eq!(parse_bytes("1.5 GiB"), Ok(3 << 29));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("3 parsecs").is_err());
        assert!(parse_bytes("0").is_err());
    }

    #[test]
    fn defaults_come_from_the_machine() {
        let limits = Limits::for_this_machine();
        assert!(limits.max_memory > 0);
        assert!(limits.max_query_memory <= limits.max_memory);
        assert!(limits.max_query_memory <= 2 << 30);
    }
}
