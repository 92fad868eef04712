//! The log's side of witnessing (docs/transparency.md, "Witnesses"): when
//! the charter names witnesses, the server's checkpoints are co-signed by
//! them before anyone is given one. A round signs the tree as the server
//! holds it, sends it to each witness (C2SP `tlog-witness`
//! `add-checkpoint`, with a consistency proof from the size that witness
//! co-signed last) and keeps the checkpoint with the co-signatures that
//! verify under the charter's keys, if they are at least the charter's
//! quorum. A witness that refuses (the ledger was rolled back or forked
//! since it co-signed) is reported: in the log (tracing, at error) and in
//! `GET .../tlog/witnesses`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;
use windledger_app::ledger::LedgerRuntime;
use windledger_domain::charter::Witnesses;
use windledger_projections::cap_table::AsOf;
use windledger_store::{CosignatureVerifier, LedgerId, WitnessPolicy};
use windledger_tlog::checkpoint_text;
use windledger_witness::client::{Answer, ask_all, proof_lines};

use crate::AppState;
use crate::problem::Problem;
use crate::reads::projected;

/// Rounds for one ledger are at least this far apart: a caller that needs
/// a larger tree than the last witnessed one waits for the next round, so
/// that many callers (voters asking for their receipts) share one; one
/// that fails is not run again before it.
pub const ROUND_EVERY: Duration = Duration::from_secs(1);

/// Each ledger's witnessing, kept by the server for its lifetime.
#[derive(Default)]
pub struct Witnessing {
    ledgers: Mutex<HashMap<LedgerId, Arc<tokio::sync::Mutex<Rounds>>>>,
}

#[derive(Default)]
struct Rounds {
    latest: Option<Witnessed>,
    last_round: Option<Instant>,
    /// Whether the last round fell short of the quorum.
    last_failed: bool,
    /// By witness key: the size it co-signed last, as far as the server
    /// knows (a witness that restarted or an earlier server process may
    /// know better: its 409 answer says).
    sizes: HashMap<String, u64>,
    status: BTreeMap<String, WitnessStatus>,
}

/// A checkpoint with enough co-signatures.
#[derive(Clone, Debug)]
pub struct Witnessed {
    pub size: u64,
    /// The signed note: the server's signature, then the co-signatures.
    pub note: String,
    pub cosigned_by: Vec<String>,
}

/// What a witness answered last.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct WitnessStatus {
    /// Who runs it, as the charter says.
    pub party: String,
    pub url: String,
    /// Its public key, as the charter names it.
    pub key: String,
    /// The largest tree it co-signed for this server, if any.
    pub cosigned_size: Option<u64>,
    /// When it last answered (RFC 3339).
    pub answered_at: Option<String>,
    /// Why it did not co-sign the last checkpoint, if it did not.
    pub refusal: Option<String>,
}

/// The witnesses and quorum of `charter`'s policy, their keys read.
fn policy(witnesses: &Witnesses) -> Result<WitnessPolicy, Problem> {
    let keys = witnesses
        .witnesses
        .iter()
        .map(|w| {
            CosignatureVerifier::parse(&w.key).map_err(|e| {
                Problem::internal(format!(
                    "the charter's witness {} has no valid key: {e}",
                    w.party
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WitnessPolicy {
        witnesses: keys,
        quorum: usize::try_from(witnesses.quorum).unwrap_or(usize::MAX),
    })
}

/// The witnesses the charter in force names (none: empty).
async fn charter_witnesses(runtime: &LedgerRuntime) -> Result<Witnesses, Problem> {
    projected(runtime, |p| {
        p.cap_table
            .fold()
            .charter(AsOf::Latest)
            .map(|c| c.witnesses.clone())
            .unwrap_or_default()
    })
    .await
}

/// How often the server asks the witnesses to co-sign each open ledger's
/// tree, when it grew.
pub const WITNESS_EVERY: Duration = Duration::from_secs(10);

/// While the server runs: every [`WITNESS_EVERY`], a round for each open
/// ledger whose charter names witnesses and whose tree grew since its last
/// witnessed checkpoint, so that a checkpoint is co-signed soon after it
/// is made, whether or not anyone asks, and a witness's refusal is
/// reported when it happens.
pub async fn keep_witnessed(state: AppState) {
    let mut tick = tokio::time::interval(WITNESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for runtime in state.ledgers.held() {
            if let Err(problem) = witnessed_checkpoint(&state, &runtime, 0).await {
                tracing::debug!(ledger = %runtime.id, problem = %problem.detail, "witnessing");
            }
        }
    }
}

/// The witnessing policy of the charter in force, if it names witnesses.
pub async fn charter_policy(runtime: &LedgerRuntime) -> Result<Option<WitnessPolicy>, Problem> {
    let witnesses = charter_witnesses(runtime).await?;
    if witnesses.witnesses.is_empty() {
        return Ok(None);
    }
    policy(&witnesses).map(Some)
}

impl Witnessing {
    fn rounds(&self, ledger: &LedgerId) -> Arc<tokio::sync::Mutex<Rounds>> {
        let mut map = self.ledgers.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(ledger.clone()).or_default().clone()
    }
}

/// The latest witnessed checkpoint of the ledger, of at least `at_least`
/// events: the one kept if it is recent or large enough, else one from a
/// new round. `None` when the charter names no witnesses (the server's
/// own signature is then the checkpoint's only one). An error when the
/// witnesses have not co-signed a large enough tree.
pub async fn witnessed_checkpoint(
    state: &AppState,
    runtime: &LedgerRuntime,
    at_least: u64,
) -> Result<Option<Witnessed>, Problem> {
    let witnesses = charter_witnesses(runtime).await?;
    if witnesses.witnesses.is_empty() {
        return Ok(None);
    }
    let policy = policy(&witnesses)?;
    let rounds = state.witnessing.rounds(&runtime.id);
    let mut rounds = rounds.lock().await;
    let size = projected(runtime, |p| p.tree.fold().log().size()).await?;
    let current = rounds.latest.as_ref().is_some_and(|w| w.size == size);
    let large_enough = rounds.latest.as_ref().is_some_and(|w| w.size >= at_least);
    let since = rounds.last_round.map(|t| t.elapsed());
    match since {
        _ if current => {}
        Some(since) if since < ROUND_EVERY => {
            if !large_enough && !rounds.last_failed {
                tokio::time::sleep(ROUND_EVERY - since).await;
                round(state, runtime, &witnesses, &policy, &mut rounds).await?;
            }
        }
        _ => round(state, runtime, &witnesses, &policy, &mut rounds).await?,
    }
    match &rounds.latest {
        Some(w) if w.size > size => Err(Problem::unavailable(format!(
            "the ledger holds {size} events but its witnesses co-signed a tree of {}: it was rolled back",
            w.size
        ))),
        Some(w) if w.size >= at_least => Ok(Some(w.clone())),
        _ => {
            let refusals: Vec<String> = rounds
                .status
                .values()
                .filter_map(|s| s.refusal.as_ref().map(|r| format!("{}: {r}", s.party)))
                .collect();
            Err(Problem::unavailable(format!(
                "the witnesses have not co-signed the log ({} of {} needed){}",
                policy.quorum,
                policy.witnesses.len(),
                if refusals.is_empty() {
                    String::new()
                } else {
                    format!("; {}", refusals.join("; "))
                }
            )))
        }
    }
}

/// What each witness the charter names answered last.
pub async fn statuses(
    state: &AppState,
    runtime: &LedgerRuntime,
) -> Result<Vec<WitnessStatus>, Problem> {
    let witnesses = charter_witnesses(runtime).await?;
    let rounds = state.witnessing.rounds(&runtime.id);
    let rounds = rounds.lock().await;
    Ok(witnesses
        .witnesses
        .iter()
        .map(|w| {
            rounds
                .status
                .get(&w.key)
                .cloned()
                .unwrap_or_else(|| status_of(w))
        })
        .collect())
}

/// One round: the tree as the server holds it, signed, sent to every
/// witness at once; the co-signatures that verify are kept.
async fn round(
    state: &AppState,
    runtime: &LedgerRuntime,
    witnesses: &Witnesses,
    policy: &WitnessPolicy,
    rounds: &mut Rounds,
) -> Result<(), Problem> {
    let origin = crate::tlog::origin(runtime.id.as_str());
    // The tree and, for each witness, the proof from the size it co-signed
    // last (read together, so that they agree).
    let known: Vec<u64> = witnesses
        .witnesses
        .iter()
        .map(|w| rounds.sizes.get(&w.key).copied().unwrap_or(0))
        .collect();
    let (size, root, proofs) = projected(runtime, |p| {
        let log = p.tree.fold().log();
        let size = log.size();
        let root = log.root(size).map_err(Problem::internal)?;
        let proofs = known
            .iter()
            .map(|old| proof_lines(log, *old, size))
            .collect::<Vec<_>>();
        Ok::<_, Problem>((size, root, proofs))
    })
    .await??;
    let text = checkpoint_text(&origin, size, &root, &[]);
    let note = state.signer.sign_note(&text);
    let asked: Vec<(String, CosignatureVerifier, u64, Vec<String>)> = witnesses
        .witnesses
        .iter()
        .zip(policy.witnesses.iter())
        .zip(known.iter().zip(proofs))
        .map(|((w, key), (old, proof))| (w.url.clone(), key.clone(), *old, proof))
        .collect();
    let proof_from = |old: u64| {
        runtime.projections.read(|p| {
            let log = p.tree.fold().log();
            (log.size() >= size && log.root(size).ok() == Some(root))
                .then(|| proof_lines(log, old, size))
        })
    };
    let answers = ask_all(&asked, &note, size, &proof_from).await;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut cosigned = note.clone();
    for (w, answer) in witnesses.witnesses.iter().zip(answers) {
        let previous = rounds.status.get(&w.key).and_then(|s| s.cosigned_size);
        let status = match answer {
            Ok(line) => {
                cosigned.push_str(&line);
                rounds.sizes.insert(w.key.clone(), size);
                WitnessStatus {
                    cosigned_size: Some(size),
                    answered_at: Some(now.clone()),
                    refusal: None,
                    ..status_of(w)
                }
            }
            Err(Answer::Refused { witnessed, why }) => {
                if let Some(n) = witnessed {
                    rounds.sizes.insert(w.key.clone(), n);
                }
                tracing::error!(
                    ledger = %runtime.id,
                    witness = %w.party,
                    size,
                    refusal = %why,
                    "a witness refused the ledger's checkpoint"
                );
                WitnessStatus {
                    cosigned_size: witnessed.or(previous),
                    answered_at: Some(now.clone()),
                    refusal: Some(why),
                    ..status_of(w)
                }
            }
            Err(Answer::Unreachable(why)) => {
                tracing::warn!(ledger = %runtime.id, witness = %w.party, error = %why, "a witness did not answer");
                WitnessStatus {
                    cosigned_size: previous,
                    answered_at: None,
                    refusal: Some(why),
                    ..status_of(w)
                }
            }
        };
        rounds.status.insert(w.key.clone(), status);
    }
    rounds.last_round = Some(Instant::now());
    match policy.check(&cosigned) {
        Ok(cosigned_by) => {
            rounds.last_failed = false;
            rounds.latest = Some(Witnessed {
                size,
                note: cosigned,
                cosigned_by,
            });
        }
        Err(e) => {
            rounds.last_failed = true;
            tracing::error!(ledger = %runtime.id, size, error = %e, "the ledger's checkpoint is not witnessed");
        }
    }
    Ok(())
}

fn status_of(w: &windledger_domain::charter::Witness) -> WitnessStatus {
    WitnessStatus {
        party: w.party.clone(),
        url: w.url.clone(),
        key: w.key.clone(),
        cosigned_size: None,
        answered_at: None,
        refusal: None,
    }
}
