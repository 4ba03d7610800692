//! The retry policy as a pure function of (what happened, attempt number, kind of request).
//! No clock and no randomness inside: the caller passes the current time and a jitter value,
//! so the whole policy is testable as a truth table.

use std::time::Duration;

/// What one attempt produced, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Intercom answered with this status. `reset_epoch` is `X-RateLimit-Reset` (epoch seconds),
    /// `retry_after` is `Retry-After` (seconds), when present.
    Status {
        /// HTTP status.
        status: u16,
        /// `X-RateLimit-Reset`.
        reset_epoch: Option<u64>,
        /// `Retry-After`.
        retry_after: Option<u64>,
    },
    /// No answer: connection refused or dropped, or timed out.
    Transport,
    /// A complete 2xx response whose JSON body ends early (`EOF while parsing`): cut short on
    /// the way. For a write Intercom did process the request.
    Truncated,
}

/// Whether a request may be repeated without changing the outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// GET, and POST searches: safe to repeat.
    Read,
    /// Writes whose repetition leaves the same state (PUT updates, DELETEs, archive, tag):
    /// retried like reads.
    IdempotentWrite,
    /// Actions: repeated only when Intercom certainly did not process them (429).
    Write,
}

impl RequestKind {
    /// Whether a request of this kind may be repeated after a 5xx or a lost connection, when
    /// Intercom may already have processed it.
    pub fn is_repeatable(self) -> bool {
        self != RequestKind::Write
    }
}

/// The decision for one failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Give up and report the error.
    Stop,
    /// Wait this long, then try again. `rate_limited` tells the counters which kind of wait it is.
    Retry {
        /// How long to wait.
        wait: Duration,
        /// The wait is for the rate-limit window to reset.
        rate_limited: bool,
    },
}

/// Limits of the policy.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Longest single wait.
    pub max_wait: Duration,
    /// First backoff for 5xx and transport errors; doubles each attempt.
    pub base_backoff: Duration,
}

/// Decides what to do after attempt number `attempt` (0 = the first try) failed with `outcome`.
/// `now_epoch` is the current time in epoch seconds; `jitter` (0.0..1.0) spreads concurrent
/// clients apart.
///
/// - 429 (reads and writes: a throttled request was not processed): wait until
///   `X-RateLimit-Reset` (or `Retry-After`, or 1 s), plus up to 1 s of jitter.
/// - 5xx, 408, transport errors and 2xx bodies cut short: reads and idempotent writes only,
///   exponential backoff with jitter (a non-idempotent write may have been processed: repeating
///   it could act twice).
/// - anything else (4xx): stop — repeating would give the same answer.
pub fn decide(
    policy: &Policy,
    outcome: Outcome,
    attempt: u32,
    kind: RequestKind,
    now_epoch: u64,
    jitter: f64,
) -> Decision {
    if attempt >= policy.max_retries {
        return Decision::Stop;
    }
    let jitter = jitter.clamp(0.0, 1.0);
    match outcome {
        Outcome::Status {
            status: 429,
            reset_epoch,
            retry_after,
        } => {
            let secs = match (retry_after, reset_epoch) {
                (Some(after), _) => after,
                (None, Some(reset)) => reset.saturating_sub(now_epoch),
                (None, None) => 1,
            };
            let wait = Duration::from_secs(secs) + Duration::from_secs_f64(jitter);
            Decision::Retry {
                wait: wait.min(policy.max_wait),
                rate_limited: true,
            }
        }
        Outcome::Status { status, .. }
            if kind.is_repeatable() && (status == 408 || status >= 500) =>
        {
            backoff(policy, attempt, jitter)
        }
        Outcome::Transport | Outcome::Truncated if kind.is_repeatable() => {
            backoff(policy, attempt, jitter)
        }
        _ => Decision::Stop,
    }
}

fn backoff(policy: &Policy, attempt: u32, jitter: f64) -> Decision {
    let exp = policy.base_backoff.saturating_mul(1u32 << attempt.min(16));
    // Full jitter on the upper half: wait between 50% and 100% of the exponential step.
    let wait = exp.mul_f64(0.5 + 0.5 * jitter);
    Decision::Retry {
        wait: wait.min(policy.max_wait),
        rate_limited: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;
    use RequestKind::*;

    const POLICY: Policy = Policy {
        max_retries: 3,
        max_wait: Duration::from_secs(30),
        base_backoff: Duration::from_millis(100),
    };

    fn status(status: u16) -> Outcome {
        Outcome::Status {
            status,
            reset_epoch: None,
            retry_after: None,
        }
    }

    #[test]
    fn retry_truth_table() {
        let now = 1_000;
        let rate_limited_reset_in_5 = Outcome::Status {
            status: 429,
            reset_epoch: Some(1_005),
            retry_after: None,
        };
        let cases: Vec<(Outcome, u32, RequestKind, Decision)> = vec![
            (
                rate_limited_reset_in_5,
                0,
                Read,
                Retry {
                    wait: Duration::from_secs(5),
                    rate_limited: true,
                },
            ),
            (
                rate_limited_reset_in_5,
                0,
                Write,
                Retry {
                    wait: Duration::from_secs(5),
                    rate_limited: true,
                },
            ),
            (
                Outcome::Status {
                    status: 429,
                    reset_epoch: Some(990),
                    retry_after: None,
                },
                0,
                Read,
                Retry {
                    wait: Duration::ZERO,
                    rate_limited: true,
                },
            ),
            (
                Outcome::Status {
                    status: 429,
                    reset_epoch: Some(5_000),
                    retry_after: None,
                },
                0,
                Read,
                Retry {
                    wait: Duration::from_secs(30),
                    rate_limited: true,
                },
            ),
            (
                Outcome::Status {
                    status: 429,
                    reset_epoch: None,
                    retry_after: Some(2),
                },
                1,
                Read,
                Retry {
                    wait: Duration::from_secs(2),
                    rate_limited: true,
                },
            ),
            (
                status(429),
                0,
                Read,
                Retry {
                    wait: Duration::from_secs(1),
                    rate_limited: true,
                },
            ),
            (status(429), 3, Read, Stop),
            (
                status(500),
                0,
                Read,
                Retry {
                    wait: Duration::from_millis(50),
                    rate_limited: false,
                },
            ),
            (
                status(503),
                2,
                Read,
                Retry {
                    wait: Duration::from_millis(200),
                    rate_limited: false,
                },
            ),
            (status(500), 0, Write, Stop),
            (
                status(500),
                0,
                IdempotentWrite,
                Retry {
                    wait: Duration::from_millis(50),
                    rate_limited: false,
                },
            ),
            (Outcome::Transport, 0, Write, Stop),
            (
                rate_limited_reset_in_5,
                0,
                IdempotentWrite,
                Retry {
                    wait: Duration::from_secs(5),
                    rate_limited: true,
                },
            ),
            (
                status(408),
                0,
                Read,
                Retry {
                    wait: Duration::from_millis(50),
                    rate_limited: false,
                },
            ),
            (
                Outcome::Transport,
                1,
                Read,
                Retry {
                    wait: Duration::from_millis(100),
                    rate_limited: false,
                },
            ),
            (Outcome::Transport, 0, Write, Stop),
            (
                Outcome::Truncated,
                0,
                Read,
                Retry {
                    wait: Duration::from_millis(50),
                    rate_limited: false,
                },
            ),
            (
                Outcome::Truncated,
                1,
                IdempotentWrite,
                Retry {
                    wait: Duration::from_millis(100),
                    rate_limited: false,
                },
            ),
            (Outcome::Truncated, 0, Write, Stop),
            (Outcome::Truncated, 3, Read, Stop),
            (status(400), 0, Read, Stop),
            (status(401), 0, Read, Stop),
            (status(404), 0, Read, Stop),
            (status(500), 3, Read, Stop),
        ];
        for (outcome, attempt, kind, expected) in cases {
            assert_eq!(
                decide(&POLICY, outcome, attempt, kind, now, 0.0),
                expected,
                "{outcome:?} attempt {attempt} {kind:?}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let d = decide(&POLICY, status(500), 1, Read, 0, 1.0);
        assert_eq!(
            d,
            Retry {
                wait: Duration::from_millis(200),
                rate_limited: false
            }
        );
        let d = decide(&POLICY, status(429), 0, Read, 0, 0.5);
        assert_eq!(
            d,
            Retry {
                wait: Duration::from_millis(1500),
                rate_limited: true
            }
        );
    }
}
