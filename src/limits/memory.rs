//! Memory budgets: one pool for the whole process (`--max-memory`), and inside it one pool per
//! session (`--max-query-memory`; a session runs one statement at a time, so in practice a
//! budget per query). DataFusion's operators that hold data (sorts, joins, aggregates,
//! repartitioning) reserve what they hold from the session's pool; a reservation past either
//! limit fails, and the operators that can spill to disk do so first. A query past its budget
//! fails with SQLSTATE 53200; the process and the other sessions go on.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};

use super::{Limits, human_bytes};

/// The process's memory budget, from which every session's runtime is made. Cheap to clone.
#[derive(Clone, Debug)]
pub struct MemoryBudget {
    process: Arc<dyn MemoryPool>,
    per_session: usize,
}

impl MemoryBudget {
    /// A process pool of `limits.max_memory`, sessions of `limits.max_query_memory`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            process: Arc::new(ProcessPool(GreedyMemoryPool::new(limits.max_memory))),
            per_session: limits.max_query_memory,
        }
    }

    /// A runtime for a new session: its own pool inside the process's.
    pub fn session_runtime(&self) -> Result<Arc<RuntimeEnv>> {
        let pool = SessionPool {
            process: self.process.clone(),
            limit: self.per_session,
            used: AtomicUsize::new(0),
        };
        RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(pool))
            .build_arc()
    }

    /// Bytes reserved by every session now.
    pub fn reserved(&self) -> usize {
        self.process.reserved()
    }
}

/// The process pool, whose refusal names `--max-memory`.
#[derive(Debug)]
struct ProcessPool(GreedyMemoryPool);

impl fmt::Display for ProcessPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("intercom-sql process pool")
    }
}

impl MemoryPool for ProcessPool {
    fn name(&self) -> &str {
        "intercom-sql process"
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.0.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.0.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.0.try_grow(reservation, additional).map_err(|_| {
            let limit = match self.0.memory_limit() {
                MemoryLimit::Finite(limit) => human_bytes(limit),
                _ => "its limit".into(),
            };
            DataFusionError::ResourcesExhausted(format!(
                "out of memory: the queries running now hold {} of the server's {limit} (--max-memory); {} asked for {} more. Try again when other queries have finished",
                human_bytes(self.0.reserved()),
                reservation.consumer().name(),
                human_bytes(additional),
            ))
        })
    }

    fn reserved(&self) -> usize {
        self.0.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.0.memory_limit()
    }
}

/// One session's pool: its own limit, and every byte also taken from the process pool.
#[derive(Debug)]
struct SessionPool {
    process: Arc<dyn MemoryPool>,
    limit: usize,
    used: AtomicUsize,
}

impl fmt::Display for SessionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "intercom-sql session pool ({})", human_bytes(self.limit))
    }
}

impl MemoryPool for SessionPool {
    fn name(&self) -> &str {
        "intercom-sql session"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.process.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.process.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.used.fetch_add(additional, Ordering::Relaxed);
        self.process.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.used.fetch_sub(shrink, Ordering::Relaxed);
        self.process.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(additional)
                    .filter(|total| *total <= self.limit)
            })
            .map_err(|used| {
                DataFusionError::ResourcesExhausted(format!(
                    "out of memory: the query needs more than its {} (--max-query-memory); {} holds {} and asked for {} more. Filter or aggregate earlier, or select fewer columns",
                    human_bytes(self.limit),
                    reservation.consumer().name(),
                    human_bytes(used),
                    human_bytes(additional),
                ))
            })?;
        if let Err(e) = self.process.try_grow(reservation, additional) {
            self.used.fetch_sub(additional, Ordering::Relaxed);
            return Err(e);
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(query: usize, process: usize) -> Limits {
        Limits {
            max_query_memory: query,
            max_memory: process,
            ..Limits::for_this_machine()
        }
    }

    #[test]
    fn a_session_is_held_to_its_budget_and_the_process_to_its_own() {
        let budget = MemoryBudget::new(&limits(1000, 1500));
        let first = budget.session_runtime().unwrap();
        let second = budget.session_runtime().unwrap();
        let a = MemoryConsumer::new("a").register(&first.memory_pool);
        let b = MemoryConsumer::new("b").register(&second.memory_pool);
        a.try_grow(900).unwrap();
        let refused = a.try_grow(200).unwrap_err().to_string();
        assert!(refused.contains("--max-query-memory"), "{refused}");
        assert_eq!(a.size(), 900);
        b.try_grow(500).unwrap();
        let refused = b.try_grow(200).unwrap_err().to_string();
        assert!(refused.contains("--max-memory"), "{refused}");
        // The refused bytes were given back to the session that asked.
        assert_eq!(second.memory_pool.reserved(), 500);
        assert_eq!(budget.reserved(), 1400);
        drop(a);
        b.try_grow(200).unwrap();
        assert_eq!(budget.reserved(), 700);
    }
}
