//! `windledger witness`: a transparency-log witness (C2SP `tlog-witness`,
//! docs/transparency.md, "Witnesses"). Any party can run one: the
//! municipality, the citizens' college, the industrial partner, an outside
//! witness. For each log it knows (an origin and the log's key), it keeps
//! the last checkpoint it co-signed; it co-signs a new one (a C2SP
//! `tlog-cosignature` v1) only when a consistency proof shows that the new
//! tree extends the old one. A rolled-back or forked log gets no
//! co-signature: the witness answers 409 or 422, logs it, and keeps the
//! refused request as evidence.
//!
//! One route, `POST <prefix>/add-checkpoint`, whose body is `old <size>`,
//! the consistency proof (one base64 hash a line), a blank line and the
//! signed checkpoint; the answer is the co-signature line. The state (each
//! log's size and root) is a JSON file written whole, synced and renamed
//! into place before the answer, under a lock held from the check to the
//! write (the protocol's atomicity rule).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use windledger_store::{CheckpointSigner, CheckpointVerifier};
use windledger_tlog::{Hash, parse_checkpoint_text, verify_consistency};

/// The longest request a witness reads: 63 proof lines and a checkpoint
/// with a few signatures fit in far less.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// The most consistency proof lines a request may carry (the protocol's
/// bound).
const MAX_PROOF_LINES: usize = 63;

/// A log the witness knows: its origin (a checkpoint's first line) and the
/// keys its checkpoints are signed with.
#[derive(Clone, Debug)]
pub struct KnownLog {
    pub origin: String,
    pub keys: Vec<CheckpointVerifier>,
}

/// What the witness co-signed last for a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    size: u64,
    /// The root at `size` (base64, as a checkpoint writes it).
    root: String,
}

/// The witness's state file: the last co-signed tree of each log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recorded {
    logs: BTreeMap<String, Seen>,
}

pub struct Witness {
    signer: CheckpointSigner,
    logs: BTreeMap<String, Vec<CheckpointVerifier>>,
    state_file: PathBuf,
    state: tokio::sync::Mutex<Recorded>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Witness({})", self.signer.cosigner())
    }
}

/// Why a witness does not co-sign, with the protocol's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: not an add-checkpoint request.
    Malformed(String),
    /// 404: a log this witness does not know.
    UnknownLog(String),
    /// 403: no signature by a key the witness trusts for the log.
    NotSigned,
    /// 409: the old size is not the one the witness co-signed last
    /// (`text/x.tlog.size` body): a client that does not know it, or a
    /// log rolled back below it.
    OldSize { witnessed: u64 },
    /// 409: the same size as the witnessed tree, another root: a fork.
    Forked { size: u64 },
    /// 422: the consistency proof does not take the witnessed tree to the
    /// new one: a fork, or history rewritten.
    Inconsistent { witnessed: u64, size: u64 },
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::UnknownLog(_) => StatusCode::NOT_FOUND,
            Self::NotSigned => StatusCode::FORBIDDEN,
            Self::OldSize { .. } | Self::Forked { .. } => StatusCode::CONFLICT,
            Self::Inconsistent { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Malformed(why) => format!("not an add-checkpoint request: {why}\n"),
            Self::UnknownLog(origin) => format!("this witness does not know the log {origin:?}\n"),
            Self::NotSigned => {
                "the checkpoint carries no valid signature by a key this witness trusts for its log\n"
                    .to_owned()
            }
            Self::OldSize { witnessed } => format!("{witnessed}\n"),
            Self::Forked { size } => format!(
                "refused: this witness co-signed another tree of {size} leaves for this log (a fork)\n"
            ),
            Self::Inconsistent { witnessed, size } => format!(
                "refused: the consistency proof does not show that the tree of {size} leaves extends the tree of {witnessed} leaves this witness co-signed (a fork or rewritten history)\n"
            ),
        }
    }

    /// Whether the refusal is evidence that the log misbehaved (rather than
    /// a client's mistake).
    fn is_evidence(&self, submitted: u64) -> bool {
        match self {
            Self::OldSize { witnessed } => submitted < *witnessed,
            Self::Forked { .. } | Self::Inconsistent { .. } => true,
            _ => false,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let content_type = if matches!(self, Self::OldSize { .. }) {
            "text/x.tlog.size"
        } else {
            "text/plain; charset=utf-8"
        };
        let mut response = (self.status(), self.text()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

/// An add-checkpoint request's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint<'a> {
    pub old: u64,
    pub proof: Vec<Hash>,
    pub checkpoint: &'a str,
}

/// Reads an add-checkpoint body: `old <size>`, the proof lines, a blank
/// line, the signed checkpoint.
pub fn parse_request(body: &str) -> Result<AddCheckpoint<'_>, Refusal> {
    let bad = |why: &str| Refusal::Malformed(why.to_owned());
    let (old_line, mut rest) = body
        .split_once('\n')
        .ok_or_else(|| bad("the first line must be `old <size>`"))?;
    let old = old_line
        .strip_prefix("old ")
        .filter(|n| !n.is_empty() && (*n == "0" || !n.starts_with('0')))
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| bad("the first line must be `old <size>`, in decimal"))?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or_else(|| bad("a blank line must come before the checkpoint"))?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(bad("more than 63 consistency proof lines"));
        }
        let hash = B64
            .decode(line)
            .ok()
            .and_then(|h| Hash::try_from(h).ok())
            .ok_or_else(|| bad("a proof line is not a base64 hash of 32 bytes"))?;
        proof.push(hash);
    }
    if old == 0 && !proof.is_empty() {
        return Err(bad("the proof must be empty when the old size is 0"));
    }
    Ok(AddCheckpoint {
        old,
        proof,
        checkpoint: rest,
    })
}

impl Witness {
    /// A witness signing with `signer`, for `logs`, keeping its state in
    /// `state_file` (read if it exists).
    pub fn open(
        signer: CheckpointSigner,
        logs: Vec<KnownLog>,
        state_file: PathBuf,
    ) -> anyhow::Result<Self> {
        let recorded = match std::fs::read(&state_file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "the witness's state file {} is not one: {e}",
                    state_file.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Recorded::default(),
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot read the witness's state file {}: {e}",
                    state_file.display()
                ));
            }
        };
        let mut by_origin: BTreeMap<String, Vec<CheckpointVerifier>> = BTreeMap::new();
        for log in logs {
            by_origin.entry(log.origin).or_default().extend(log.keys);
        }
        Ok(Self {
            signer,
            logs: by_origin,
            state_file,
            state: tokio::sync::Mutex::new(recorded),
        })
    }

    /// The witness's public key, as a charter names it.
    pub fn verifier_key(&self) -> String {
        self.signer.cosigner().to_string()
    }

    /// The size this witness last co-signed for `origin` (0 if never).
    pub async fn witnessed(&self, origin: &str) -> u64 {
        self.state
            .lock()
            .await
            .logs
            .get(origin)
            .map_or(0, |s| s.size)
    }

    /// Decides an add-checkpoint request: the co-signature line, or why
    /// not. The state is written before the co-signature is returned.
    pub async fn add_checkpoint(&self, body: &str, now: u64) -> Result<String, Refusal> {
        let request = parse_request(body)?;
        let note = request.checkpoint;
        let origin = note.lines().next().unwrap_or_default();
        let keys = self
            .logs
            .get(origin)
            .ok_or_else(|| Refusal::UnknownLog(origin.to_owned()))?;
        let text = keys
            .iter()
            .find_map(|k| k.open(note).ok())
            .ok_or(Refusal::NotSigned)?;
        let (origin, size, root) = parse_checkpoint_text(text)
            .ok_or_else(|| Refusal::Malformed("the note is not a checkpoint".to_owned()))?;
        if request.old > size {
            return Err(Refusal::Malformed(
                "the old size is larger than the checkpoint's".to_owned(),
            ));
        }
        let mut state = self.state.lock().await;
        let seen = state.logs.get(&origin);
        let witnessed = seen.map_or(0, |s| s.size);
        let decided = if request.old != witnessed {
            Err(Refusal::OldSize { witnessed })
        } else if let Some(seen) = seen {
            let seen_root = B64
                .decode(&seen.root)
                .ok()
                .and_then(|h| Hash::try_from(h).ok())
                .ok_or_else(|| Refusal::Malformed("the witness's state is damaged".to_owned()))?;
            if size == witnessed {
                if seen_root == root && request.proof.is_empty() {
                    Ok(())
                } else {
                    Err(Refusal::Forked { size })
                }
            } else {
                verify_consistency(&request.proof, witnessed, &seen_root, size, &root)
                    .map_err(|_| Refusal::Inconsistent { witnessed, size })
            }
        } else {
            Ok(())
        };
        if let Err(refusal) = decided {
            if refusal.is_evidence(size) {
                tracing::warn!(
                    origin,
                    witnessed,
                    submitted = size,
                    refusal = refusal.text().trim_end(),
                    "a checkpoint that does not extend the witnessed tree"
                );
                self.keep_evidence(body, &refusal);
            }
            return Err(refusal);
        }
        let mut next = state.clone();
        next.logs.insert(
            origin.clone(),
            Seen {
                size,
                root: B64.encode(root),
            },
        );
        write_state(&self.state_file, &next).map_err(|e| {
            tracing::error!(error = %e, "cannot write the witness's state");
            Refusal::Malformed(format!("the witness cannot record its state: {e}"))
        })?;
        *state = next;
        Ok(self.signer.cosign(text, now))
    }

    /// Appends a refused request to `<state file>.refused`, one JSON line
    /// each, as evidence of the log's misbehaviour.
    fn keep_evidence(&self, body: &str, refusal: &Refusal) {
        let mut path = self.state_file.clone().into_os_string();
        path.push(".refused");
        let line = serde_json::json!({
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "refusal": refusal.text().trim_end(),
            "request": body,
        });
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            tracing::error!(error = %e, "cannot keep the refused checkpoint");
        }
    }
}

/// Writes the state whole, synced, then renames it into place.
fn write_state(path: &Path, state: &Recorded) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The witness's routes: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_REQUEST_BYTES,
        ))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: String) -> Response {
    let now = chrono::Utc::now().timestamp().max(0).unsigned_abs();
    match witness.add_checkpoint(&body, now).await {
        Ok(cosignature) => {
            let mut response = cosignature.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Serves the witness on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use windledger_tlog::{Log, checkpoint_text, entry};

    const ORIGIN: &str = "windledger/ailes/tlog";

    fn tree(n: u64) -> Log {
        let mut log = Log::new();
        for p in 1..=n {
            log.append(&entry(p, &[u8::try_from(p % 251).unwrap_or(0); 32]))
                .expect("in order");
        }
        log
    }

    fn body(log_key: &CheckpointSigner, log: &Log, old: u64, size: u64) -> String {
        let text = checkpoint_text(ORIGIN, size, &log.root(size).expect("a root"), &[]);
        let proof: Vec<String> = if old == 0 || old >= size {
            Vec::new()
        } else {
            log.consistency_proof(old, size)
                .expect("a proof")
                .iter()
                .map(|h| B64.encode(h))
                .collect()
        };
        crate::client::request_body(old, &proof, &log_key.sign_note(&text))
    }

    #[tokio::test]
    async fn the_witness_follows_the_protocol_and_remembers_across_a_restart() {
        let dir = tempfile::tempdir().expect("a folder");
        let state = dir.path().join("witness.json");
        let log_key = CheckpointSigner::generate("log").expect("a key");
        let secret = CheckpointSigner::generate("mairie.example/temoin")
            .expect("a key")
            .to_secret_key();
        let open = || {
            Witness::open(
                CheckpointSigner::from_secret_key(&secret).expect("a key"),
                vec![KnownLog {
                    origin: ORIGIN.to_owned(),
                    keys: vec![log_key.verifier()],
                }],
                state.clone(),
            )
            .expect("a witness")
        };
        let witness = open();
        let log = tree(40);
        let line = witness
            .add_checkpoint(&body(&log_key, &log, 0, 10), 7)
            .await
            .expect("the first checkpoint");
        let text = checkpoint_text(ORIGIN, 10, &log.root(10).expect("a root"), &[]);
        let cosigner = CheckpointSigner::from_secret_key(&secret)
            .expect("a key")
            .cosigner();
        assert_eq!(
            cosigner.verify(&format!("{}{line}", log_key.sign_note(&text))),
            Ok(7)
        );
        // The client must say what the witness co-signed: 409 with it.
        let stale = witness
            .add_checkpoint(&body(&log_key, &log, 0, 20), 8)
            .await;
        assert_eq!(stale, Err(Refusal::OldSize { witnessed: 10 }));
        let response = Refusal::OldSize { witnessed: 10 }.into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/x.tlog.size");
        // After a restart it still knows 10, and extends it with a proof.
        drop(witness);
        let witness = open();
        assert_eq!(witness.witnessed(ORIGIN).await, 10);
        witness
            .add_checkpoint(&body(&log_key, &log, 10, 20), 9)
            .await
            .expect("an extension");
        // The same tree again is co-signed again; another root at the same
        // size is a fork.
        witness
            .add_checkpoint(&body(&log_key, &log, 20, 20), 10)
            .await
            .expect("the same tree");
        let mut forked = Log::new();
        for p in 1..=40 {
            let hash = if p == 15 {
                [9u8; 32]
            } else {
                [u8::try_from(p % 251).unwrap_or(0); 32]
            };
            forked.append(&entry(p, &hash)).expect("in order");
        }
        assert_eq!(
            witness
                .add_checkpoint(&body(&log_key, &forked, 20, 20), 11)
                .await,
            Err(Refusal::Forked { size: 20 })
        );
        assert_eq!(
            witness
                .add_checkpoint(&body(&log_key, &forked, 20, 30), 11)
                .await,
            Err(Refusal::Inconsistent {
                witnessed: 20,
                size: 30
            })
        );
        let mut evidence = state.clone().into_os_string();
        evidence.push(".refused");
        let kept = std::fs::read_to_string(evidence).expect("evidence kept");
        assert_eq!(kept.lines().count(), 2, "{kept}");
        // A rollback below what it co-signed: 409 with its size.
        assert_eq!(
            witness
                .add_checkpoint(&body(&log_key, &log, 0, 15), 12)
                .await,
            Err(Refusal::OldSize { witnessed: 20 })
        );
        assert_eq!(witness.witnessed(ORIGIN).await, 20);

        // Unknown log, another key, malformed requests.
        let stranger = CheckpointSigner::generate("log").expect("a key");
        assert_eq!(
            witness
                .add_checkpoint(&body(&stranger, &log, 20, 30), 13)
                .await,
            Err(Refusal::NotSigned)
        );
        let other = body(&log_key, &log, 20, 30).replace(ORIGIN, "elsewhere/tlog");
        assert!(matches!(
            witness.add_checkpoint(&other, 13).await,
            Err(Refusal::UnknownLog(_))
        ));
        for bad in [
            "",
            "old 01\n\n",
            "old x\n\n",
            "old 5\nnot base64!\n\n",
            "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
        ] {
            assert!(
                matches!(
                    witness.add_checkpoint(bad, 13).await,
                    Err(Refusal::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        let too_big = body(&log_key, &log, 30, 20);
        assert!(matches!(
            witness.add_checkpoint(&too_big, 13).await,
            Err(Refusal::Malformed(_))
        ));
        let mut long = "old 5\n".to_owned();
        for _ in 0..64 {
            long.push_str(&B64.encode([0u8; 32]));
            long.push('\n');
        }
        long.push('\n');
        assert!(matches!(parse_request(&long), Err(Refusal::Malformed(_))));
    }
}
