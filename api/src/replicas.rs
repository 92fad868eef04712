//! Read replicas (docs/deploy.md, "Read replicas"): a server started with
//! `serve --read-only` on a PostgreSQL hot standby answers every read and
//! refuses every write, naming the writer; the writer tells each client
//! that wrote where the database's log stood after its write
//! ([`LSN_HEADER`]), and any server given that position back
//! ([`READ_AFTER_HEADER`]) answers only once it shows the write, or says
//! it cannot within its bound.

use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use windledger_store::Lsn;

use crate::AppState;
use crate::problem::{Kind, Problem};

/// On a write's answer from the writer: the position of the database's
/// write-ahead log once the write was committed.
pub const LSN_HEADER: &str = "windledger-lsn";
/// On a read: answer only once the database shows everything up to this
/// position (a [`LSN_HEADER`] the client was given).
pub const READ_AFTER_HEADER: &str = "windledger-read-after";
/// How long a read waits for the replica to replay the position it asks
/// for, when the server is given no other bound (`serve --read-after-wait-ms`).
pub const DEFAULT_READ_AFTER_WAIT: Duration = Duration::from_millis(DEFAULT_READ_AFTER_WAIT_MS);

/// [`DEFAULT_READ_AFTER_WAIT`] in milliseconds, as `serve` takes it.
pub const DEFAULT_READ_AFTER_WAIT_MS: u64 = 2_000;
/// How often the database is asked how far it replayed while reads wait:
/// once per period, however many reads wait (so that reads sent with a
/// position out of reach cost the database no more than one).
const REPLAY_POLL: Duration = Duration::from_millis(5);

/// The database's replayed position as last read, and when (see
/// [`REPLAY_POLL`]).
#[derive(Default)]
pub struct Replayed(tokio::sync::Mutex<Option<(Instant, Lsn)>>);

impl Replayed {
    /// How far the database replayed, read at most once per
    /// [`REPLAY_POLL`] by all the reads waiting together. `None` on SQLite.
    async fn now(&self, state: &AppState) -> Result<Option<Lsn>, Problem> {
        let mut last = self.0.lock().await;
        if let Some((at, lsn)) = *last
            && at.elapsed() < REPLAY_POLL
        {
            return Ok(Some(lsn));
        }
        let read = state
            .store
            .wal_position()
            .await
            .map_err(|e| Problem::store(&e))?;
        *last = read.map(|lsn| (Instant::now(), lsn));
        Ok(read)
    }
}

/// How this server takes part in replication.
#[derive(Clone, Debug)]
pub struct Replication {
    /// Where writes go, named in a read-only server's refusals.
    pub writer_url: Option<String>,
    /// The longest a read waits for [`READ_AFTER_HEADER`]'s position.
    pub read_after_wait: Duration,
}

impl Default for Replication {
    fn default() -> Self {
        Self {
            writer_url: None,
            read_after_wait: DEFAULT_READ_AFTER_WAIT,
        }
    }
}

impl AppState {
    /// Sets how this server takes part in replication (set once, before
    /// serving).
    pub fn replicate(&self, replication: Replication) {
        let _ = self.replication.set(replication);
    }

    pub fn replication(&self) -> Replication {
        self.replication.get().cloned().unwrap_or_default()
    }

    /// Whether this server only reads (`serve --read-only`).
    pub fn read_only(&self) -> bool {
        self.store.read_only()
    }

    /// The sentence refusing a write on a read-only server.
    pub fn writes_go_elsewhere(&self) -> String {
        match self.replication().writer_url {
            Some(url) => format!("this server only reads: send writes to the writer, {url}"),
            None => "this server only reads: send writes to the writer".to_owned(),
        }
    }
}

/// A read-only server's refusal of a write (405, `Allow: GET, HEAD`).
pub fn read_only_refusal(state: &AppState) -> Response {
    let mut response = Problem::new(Kind::ReadOnly, state.writes_go_elsewhere()).into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The replication layer of every request (see the module's doc). A
/// read-only server refuses the API's writes here; the pages refuse theirs
/// in French (the web front end's own layer).
pub async fn replication(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let write = is_write(request.method());
    let path = request.uri().path();
    if write && state.read_only() && path.starts_with("/api/") {
        return read_only_refusal(&state);
    }
    if let Some(after) = request.headers().get(READ_AFTER_HEADER) {
        let lsn = match after.to_str().map(str::parse::<Lsn>) {
            Ok(Ok(lsn)) => lsn,
            Ok(Err(e)) => {
                return Problem::validation(format!("{READ_AFTER_HEADER}: {e}")).into_response();
            }
            Err(_) => {
                return Problem::validation(format!("{READ_AFTER_HEADER} is not ASCII"))
                    .into_response();
            }
        };
        if let Err(problem) = caught_up_to(&state, lsn, path).await {
            return problem.into_response();
        }
    }
    let mut response = next.run(request).await;
    if write && !state.read_only() && response.status().is_success() {
        match state.store.wal_position().await {
            Ok(Some(lsn)) => {
                if let Ok(v) = HeaderValue::from_str(&lsn.to_string()) {
                    response.headers_mut().insert(LSN_HEADER, v);
                }
            }
            Ok(None) => {}
            // The write stands; only the position is missing.
            Err(e) => tracing::warn!(error = %e, "cannot read the position of the write-ahead log"),
        }
    }
    response
}

/// Waits until the database has replayed `lsn`, within the server's
/// bound; then the ledger the path names (if open) reads its head again.
async fn caught_up_to(state: &AppState, lsn: Lsn, path: &str) -> Result<(), Problem> {
    let wait = state.replication().read_after_wait;
    let deadline = Instant::now() + wait;
    loop {
        let replayed = match state.replayed.now(state).await? {
            Some(at) => at,
            // SQLite: one database, nothing to replay.
            None => break,
        };
        if replayed >= lsn {
            break;
        }
        if Instant::now() >= deadline {
            return Err(Problem::unavailable(format!(
                "this server's database has replayed the primary's log up to {replayed}, not yet \
                 to {lsn} (asked by {READ_AFTER_HEADER}), after {} ms: retry, or read from the writer",
                wait.as_millis()
            )));
        }
        tokio::time::sleep(REPLAY_POLL).await;
    }
    if let Some(id) = windledger_app::ledgers::named_in(path)
        && let Some(runtime) = state.ledgers.held_one(&id)
    {
        runtime.forget_head();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_writes() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(!is_write(&m));
        }
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_write(&m));
        }
    }
}
