//! Whether the database answers: a circuit breaker in front of PostgreSQL.
//!
//! While PostgreSQL is down, a pool acquire retries "connection refused"
//! until its timeout (5 s), so every request would hang that long before
//! failing. Instead, the first call that fails for want of a connection
//! starts a probe: one fresh connection and a `SELECT 1`. If the probe
//! fails too, the store is marked unavailable and every call fails at once
//! with [`StoreError::Unavailable`] until a probe (every
//! [`PROBE_EVERY`]) succeeds. A single killed connection (the probe then
//! succeeds at once) opens nothing. SQLite is a file of this process: it
//! has no breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tracing::{info, warn};

use crate::error::StoreError;
use crate::pg::Pg;

/// How often an unavailable database is probed.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);

/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub(crate) struct Health {
    /// `None` on SQLite: nothing to probe, never unavailable.
    probe: Option<Pg>,
    /// Whether a probe task is running.
    probing: AtomicBool,
    /// `Some(since)` while the database is unavailable; receivers learn when
    /// it comes back.
    down: watch::Sender<Option<Instant>>,
}

impl Health {
    pub fn new(probe: Option<Pg>) -> Arc<Self> {
        Arc::new(Self {
            probe,
            probing: AtomicBool::new(false),
            down: watch::channel(None).0,
        })
    }

    /// Fails at once while the database is known to be unavailable.
    pub fn check(&self) -> Result<(), StoreError> {
        match self.available() {
            true => Ok(()),
            false => Err(self.unavailable()),
        }
    }

    /// The error of a call refused or given up for want of the database.
    pub fn unavailable(&self) -> StoreError {
        let since = (*self.down.borrow()).unwrap_or_else(Instant::now);
        StoreError::Unavailable(format!(
            "the database has not answered for {:.1} s; retrying in the background",
            since.elapsed().as_secs_f64()
        ))
    }

    pub fn available(&self) -> bool {
        self.down.borrow().is_none()
    }

    /// A receiver that changes when the database goes down or comes back.
    pub fn watch(&self) -> watch::Receiver<Option<Instant>> {
        self.down.subscribe()
    }

    /// Looks at a call's error: one that says the connection is gone starts
    /// the probe (unless one runs already).
    pub fn observe(self: &Arc<Self>, error: &StoreError) {
        let Some(pg) = &self.probe else { return };
        if !error.is_connection_failure() || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (health, pg) = (Arc::clone(self), pg.clone());
        tokio::spawn(async move {
            loop {
                match probe(&pg).await {
                    Ok(()) => {
                        let was = health.down.send_replace(None);
                        if let Some(since) = was {
                            info!(
                                after_s = since.elapsed().as_secs_f64(),
                                "the database answers again"
                            );
                        }
                        break;
                    }
                    Err(e) => {
                        health.down.send_if_modified(|down| {
                            if down.is_none() {
                                warn!(error = %e, "the database does not answer; calls fail at once until it does");
                                *down = Some(Instant::now());
                                true
                            } else {
                                false
                            }
                        });
                        tokio::time::sleep(PROBE_EVERY).await;
                    }
                }
            }
            health.probing.store(false, Ordering::Release);
        });
    }
}

async fn probe(pg: &Pg) -> Result<(), String> {
    // Each host the URL names may take its time.
    let hosts = u32::try_from(pg.host_count()).unwrap_or(u32::MAX);
    let within = PROBE_TIMEOUT.saturating_mul(hosts);
    match tokio::time::timeout(within, pg.reach()).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no answer within {within:?}")),
    }
}
