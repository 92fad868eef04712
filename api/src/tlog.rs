//! The ledger as a transparency log, served (issue 23; `windledger_tlog`,
//! docs/transparency.md): the C2SP `tlog-tiles` files under
//! `/api/v1/ledgers/{ledger}/tlog/` (`checkpoint`, `tile/<L>/<N>[.p/<W>]`,
//! `tile/entries/<N>[.p/<W>]`), the same bytes `windledger publish` writes,
//! and the inclusion and consistency proofs as JSON. Public: the log holds
//! each event's position and hash, never a payload. The tree is the
//! projections' (`windledger_projections::tree`), grown as events arrive.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use windledger_tlog::{ENTRY_SIZE, Log, Receipt, TILE_WIDTH, checkpoint_text, entry};

use crate::AppState;
use crate::answers;
use crate::extract::{Ledger, PathParams, QueryParams};
use crate::problem::Problem;
use crate::reads::projected;
use crate::witnessing::witnessed_checkpoint;

/// A tile or a bundle never changes once written (a wider one has
/// another path): cached for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The origin of a ledger's log: its checkpoints' first line.
pub fn origin(ledger: &str) -> String {
    format!("windledger/{ledger}/tlog")
}

/// `GET .../tlog/checkpoint`: the C2SP signed note of the tree as the
/// server holds it (origin, size, root), signed with the server's key.
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    Ledger(runtime): Ledger,
) -> Result<Response, Problem> {
    let note = match witnessed_checkpoint(&state, &runtime, 0).await? {
        Some(witnessed) => witnessed.note,
        None => {
            let (size, root) = projected(&runtime, |p| {
                let log = p.tree.fold().log();
                log.root(log.size()).map(|root| (log.size(), root))
            })
            .await?
            .map_err(Problem::internal)?;
            state.signer.sign_note(&checkpoint_text(
                &origin(runtime.id.as_str()),
                size,
                &root,
                &[],
            ))
        }
    };
    let mut response = note.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// `GET .../tlog/witnesses`: each witness the charter names and what it
/// answered last (the size it co-signed, or why it refused).
pub(crate) async fn witnesses(
    State(state): State<AppState>,
    Ledger(runtime): Ledger,
) -> Result<Response, Problem> {
    let statuses = crate::witnessing::statuses(&state, &runtime).await?;
    Ok(answers::json(&statuses)?.into_response())
}

/// A route's `{*path}`.
#[derive(Debug, Deserialize)]
pub struct TilePath {
    path: String,
}

/// What a tile path names: a hash tile (level) or an entry bundle, its
/// index and width.
fn parse_tile_path(path: &str) -> Option<(Option<u8>, u64, u64)> {
    let (path, width) = match path.split_once(".p/") {
        Some((path, w)) => {
            let w: u64 = w.parse().ok().filter(|w| (1..TILE_WIDTH).contains(w))?;
            (path, w)
        }
        None => (path, TILE_WIDTH),
    };
    let mut parts = path.split('/');
    let level = match parts.next()? {
        "entries" => None,
        l => Some(l.parse::<u8>().ok().filter(|l| *l < 8)?),
    };
    let groups: Vec<&str> = parts.collect();
    let (last, rest) = groups.split_last()?;
    let mut n: u64 = 0;
    for g in rest {
        let digits = g.strip_prefix('x')?;
        n = n.checked_mul(1000)?.checked_add(three_digits(digits)?)?;
    }
    n = n.checked_mul(1000)?.checked_add(three_digits(last)?)?;
    // Only the canonical path (no leading "x000/") names a tile.
    let canonical = windledger_tlog::tile_path(
        level.map_or_else(|| "entries".to_owned(), |l| l.to_string()),
        n,
        u32::try_from(width).ok()?,
    );
    (canonical == format!("tile/{path}{}", partial(width))).then_some((level, n, width))
}

fn partial(width: u64) -> String {
    if width == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

fn three_digits(s: &str) -> Option<u64> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `GET .../tlog/tile/{path}`: a hash tile or an entry bundle of the tree
/// as the server holds it; 404 for one beyond it.
pub(crate) async fn tile(
    Ledger(runtime): Ledger,
    PathParams(TilePath { path }): PathParams<TilePath>,
) -> Result<Response, Problem> {
    let not_found = || Problem::not_found(format!("the log has no tile/{path}"));
    let (level, n, width) = parse_tile_path(&path).ok_or_else(not_found)?;
    let bytes = match level {
        Some(level) => projected(&runtime, |p| {
            hash_tile(p.tree.fold().log(), level, n, width)
        })
        .await?
        .ok_or_else(not_found)?,
        None => {
            let size = projected(&runtime, |p| p.tree.fold().log().size()).await?;
            let end = n
                .checked_mul(TILE_WIDTH)
                .and_then(|s| s.checked_add(width))
                .filter(|end| *end <= size)
                .ok_or_else(not_found)?;
            let mut bytes =
                Vec::with_capacity(usize::try_from(width).unwrap_or(0) * (ENTRY_SIZE + 2));
            for e in entries(&runtime, end - width, width).await? {
                bytes.extend_from_slice(&(ENTRY_SIZE as u16).to_be_bytes());
                bytes.extend_from_slice(&e);
            }
            bytes
        }
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    Ok(response)
}

/// The entries of the `count` events after position `after`, read from
/// the ledger (the tree keeps only hashes).
async fn entries(
    runtime: &windledger_app::ledger::LedgerRuntime,
    after: u64,
    count: u64,
) -> Result<Vec<[u8; ENTRY_SIZE]>, Problem> {
    let events = runtime
        .store
        .read_ledger(&runtime.id, after, u32::try_from(count).unwrap_or(u32::MAX))
        .await
        .map_err(|e| Problem::store(&e))?;
    if events.len() as u64 != count {
        return Err(Problem::internal(
            "the ledger holds fewer events than its tree",
        ));
    }
    Ok(events
        .iter()
        .map(|e| entry(e.position, &e.hash.0))
        .collect())
}

/// The bytes of the hash tile `n` of `width` at `level`, if the tree holds
/// it at exactly that width or wider.
fn hash_tile(log: &Log, level: u8, n: u64, width: u64) -> Option<Vec<u8>> {
    log.tile(level, n, u32::try_from(width).ok()?)
}

/// An inclusion proof's question.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionQuery {
    /// The event's position (from 1).
    position: u64,
    /// The tree's size the proof is against (a checkpoint's); the tree as
    /// the server holds it when left out.
    size: Option<u64>,
}

/// That the event at `position` is in the tree of `size` leaves.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct InclusionProof {
    position: u64,
    size: u64,
    /// The leaf's entry (hex): the position (8 bytes, big-endian) and the
    /// event's hash.
    entry: String,
    /// The tree's root at `size` (base64, as a checkpoint writes it).
    root: String,
    /// The RFC 6962 audit path, leaf to root (base64 hashes).
    proof: Vec<String>,
}

/// `GET .../proofs/inclusion?position=N&size=M`.
pub(crate) async fn inclusion(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<InclusionQuery>,
) -> Result<Response, Problem> {
    let index = q
        .position
        .checked_sub(1)
        .ok_or_else(|| Problem::validation("position counts from 1"))?;
    let (size, proof, root) = projected(&runtime, |p| {
        let log = p.tree.fold().log();
        let size = q.size.unwrap_or(log.size());
        let proof = log.inclusion_proof(index, size).map_err(range)?;
        Ok::<_, Problem>((size, proof, log.root(size).map_err(range)?))
    })
    .await??;
    let leaf = entries(&runtime, index, 1).await?;
    let answer = InclusionProof {
        position: q.position,
        size,
        entry: hex::encode(leaf.first().ok_or_else(|| range("no such leaf"))?),
        root: B64.encode(root),
        proof: proof.iter().map(|h| B64.encode(h)).collect(),
    };
    Ok(answers::json(&answer)?.into_response())
}

/// A consistency proof's question.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyQuery {
    /// The earlier tree's size (1 or more).
    from: u64,
    /// The later tree's size; the tree as the server holds it when left
    /// out.
    to: Option<u64>,
}

/// That the tree of `to` leaves extends the tree of `from`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ConsistencyProof {
    from: u64,
    to: u64,
    from_root: String,
    to_root: String,
    /// The RFC 6962 consistency proof (base64 hashes).
    proof: Vec<String>,
}

/// `GET .../proofs/consistency?from=A&to=B`.
pub(crate) async fn consistency(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<ConsistencyQuery>,
) -> Result<Response, Problem> {
    let answer = projected(&runtime, |p| {
        let log = p.tree.fold().log();
        let to = q.to.unwrap_or(log.size());
        let proof = log.consistency_proof(q.from, to).map_err(range)?;
        Ok::<_, Problem>(ConsistencyProof {
            from: q.from,
            to,
            from_root: B64.encode(log.root(q.from).map_err(range)?),
            to_root: B64.encode(log.root(to).map_err(range)?),
            proof: proof.iter().map(|h| B64.encode(h)).collect(),
        })
    })
    .await??;
    Ok(answers::json(&answer)?.into_response())
}

/// A route's `{position}`.
#[derive(Debug, Deserialize)]
pub struct PositionPath {
    position: u64,
}

/// `GET .../receipts/{position}`: the receipt of the event at a position,
/// with its inclusion proof against a checkpoint signed now, to keep and
/// check offline (`windledger verify-receipt`).
pub(crate) async fn receipt(
    State(state): State<AppState>,
    Ledger(runtime): Ledger,
    PathParams(PositionPath { position }): PathParams<PositionPath>,
) -> Result<Response, Problem> {
    let receipt = make_receipt(&state, &runtime, position).await?;
    Ok(answers::json(&receipt)?.into_response())
}

/// The receipt of the event at `position`: its hash, a checkpoint that
/// includes it and the proof against it. The checkpoint is the latest the
/// charter's witnesses co-signed when it names witnesses (a round is run
/// if that one is older than the event), else the tree as the server
/// holds it, signed now.
pub async fn make_receipt(
    state: &AppState,
    runtime: &windledger_app::ledger::LedgerRuntime,
    position: u64,
) -> Result<Receipt, Problem> {
    let not_found =
        || Problem::not_found(format!("the ledger has no event at position {position}"));
    let index = position.checked_sub(1).ok_or_else(not_found)?;
    let held = projected(runtime, |p| p.tree.fold().log().size()).await?;
    if index >= held {
        return Err(not_found());
    }
    let witnessed = witnessed_checkpoint(state, runtime, position).await?;
    let size = witnessed.as_ref().map_or(held, |w| w.size);
    let (proof, root) = projected(runtime, |p| {
        let log = p.tree.fold().log();
        let proof = log.inclusion_proof(index, size).map_err(range)?;
        let root = log.root(size).map_err(range)?;
        Ok::<_, Problem>((proof, root))
    })
    .await??;
    let leaf = entries(runtime, index, 1).await?;
    let leaf = leaf.first().ok_or_else(not_found)?;
    let origin = origin(runtime.id.as_str());
    let checkpoint = match witnessed {
        Some(w) => w.note,
        None => state
            .signer
            .sign_note(&checkpoint_text(&origin, size, &root, &[])),
    };
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&leaf[8..]);
    Ok(Receipt::new(origin, position, &hash, checkpoint, &proof))
}

fn range(e: impl std::fmt::Display) -> Problem {
    Problem::validation(format!("not in the log: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_are_read_canonically() {
        assert_eq!(parse_tile_path("0/000"), Some((Some(0), 0, 256)));
        assert_eq!(
            parse_tile_path("1/x001/234.p/17"),
            Some((Some(1), 1234, 17))
        );
        assert_eq!(parse_tile_path("entries/005.p/3"), Some((None, 5, 3)));
        for bad in [
            "0/0",
            "0/x000/001",
            "8/000",
            "0/000.p/256",
            "0/000.p/0",
            "entries/000.p/x",
            "data/000",
            "0/001/",
            "",
            "0/../000",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad}");
        }
    }
}
