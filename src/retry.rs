//! Trying again after transient failures, with exponential backoff: the one retry loop that copy,
//! the registry connection and pull share. What is transient is the error's to say
//! ([`Error::is_retryable`]).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};

/// Default number of retries after a transient failure.
pub const DEFAULT_RETRIES: u32 = 4;

/// Default idle timeout (`--timeout`): a connection that takes this long to open, or a transfer
/// that moves no byte for this long, is given up and tried again.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to keep trying.
#[derive(Debug, Clone, Copy)]
pub enum Policy {
    /// At most this many tries after the first.
    Retries(u32),
    /// Until this moment, however many tries that takes.
    Until(Instant),
    /// For this long after the first failure: a transfer that ran for an hour before its
    /// connection broke gets the same chance as one that broke at once.
    For(Duration),
}

impl Default for Policy {
    fn default() -> Self {
        Policy::Retries(DEFAULT_RETRIES)
    }
}

/// Runs `op` (given the number of the attempt, from 0) until it succeeds, fails for good, or
/// the policy runs out; `on_retry` hears of each transient failure and the pause before the
/// next attempt.
pub async fn run<T, F, Fut>(policy: Policy, mut on_retry: impl FnMut(&Error, Duration), mut op: F) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    let mut first_failure = None;
    loop {
        match op(attempt).await {
            Err(e) if e.is_retryable() => {
                let policy = match policy {
                    Policy::For(span) => Policy::Until(*first_failure.get_or_insert_with(|| Instant::now() + span)),
                    other => other,
                };
                let pause = match policy {
                    Policy::Retries(n) if attempt < n => backoff(attempt + 1),
                    Policy::Until(deadline) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Err(e);
                        }
                        backoff(attempt + 1).min(left)
                    }
                    Policy::Retries(_) | Policy::For(_) => return Err(e),
                };
                on_retry(&e, pause);
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Exponential backoff with jitter: 0.5 s, 1 s, 2 s, … capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let jitter = Duration::from_millis(u64::from(std::process::id() % 7 + attempt) * 37 % 250);
    base.min(Duration::from_secs(30)) + jitter
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_as_often_as_the_policy_says() {
        let calls = AtomicU32::new(0);
        let result: Result<()> = run(
            Policy::Retries(2),
            |_, _| {},
            |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Error::failed("503").retryable())
            },
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_failure_is_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<()> = run(
            Policy::Retries(5),
            |_, _| {},
            |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Error::usage("bad"))
            },
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_stops_the_tries() {
        let deadline = Instant::now() + Duration::from_secs(3);
        let calls = AtomicU32::new(0);
        let result: Result<()> = run(
            Policy::Until(deadline),
            |_, _| {},
            |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(Error::failed("refused").retryable())
            },
        )
        .await;
        assert!(result.is_err());
        let n = calls.load(Ordering::SeqCst);
        assert!((2..=6).contains(&n), "{n} tries in 3 s of backoff");
    }
}
