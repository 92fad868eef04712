//! `windledger publish DIR`: the ledger as a transparency log in C2SP
//! `tlog-tiles` form (`windledger_tlog`), written to a folder that any
//! static web server can serve: `checkpoint` (a C2SP signed note of the
//! Merkle tree's origin, size and root, signed with the server's key),
//! `tile/<L>/<N>[.p/<W>]` (the tree's hashes) and `tile/entries/<N>[.p/<W>]`
//! (each event's position and hash; never a payload).
//!
//! Publishing again extends what the folder holds: the checkpoint found
//! there must verify under the key and its root must be the root of this
//! ledger at its size (else the ledger is not the one published, or its
//! history was rewritten, and nothing is written). Each file is written
//! whole then renamed into place, the checkpoint last, so that a reader
//! (or a crash) never sees a checkpoint whose tiles are missing.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use windledger_app::services::scan;
use windledger_tlog::{Log, checkpoint_text, entry, entry_bundles, parse_checkpoint_text};

use crate::options::{KeyOptions, LedgerOptions};

#[derive(clap::Args, Debug)]
pub struct PublishOptions {
    /// The folder to write the log to (created if absent).
    pub dir: PathBuf,
    /// The log's origin, the checkpoint's first line (default:
    /// `windledger/<ledger>/tlog`).
    #[arg(long)]
    pub origin: Option<String>,
    #[command(flatten)]
    pub ledger: LedgerOptions,
    #[command(flatten)]
    pub keys: KeyOptions,
}

pub async fn run(options: &PublishOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut log_sink = std::io::stderr();
    let (signer, _) = options.keys.load(&mut log_sink)?;
    let (store, ledger) = options.ledger.open(None).await?;
    let origin = options
        .origin
        .clone()
        .unwrap_or_else(|| format!("windledger/{ledger}/tlog"));
    if origin.is_empty() || origin.contains(char::is_control) {
        bail!("--origin must be one line of text");
    }
    let head = store
        .head(&ledger)
        .await
        .with_context(|| format!("cannot read the ledger {ledger}"))?;
    let mut log = Log::new();
    let mut entries = Vec::with_capacity(usize::try_from(head.size).unwrap_or(0));
    let mut failed = None;
    // The company's stream, for its charter's witnesses: found in the same
    // read (its incorporation comes first).
    let mut company: Option<String> = None;
    scan(&store, &ledger, head.size, |e| {
        if company.is_none() {
            company = windledger_app::services::company_of(&e).map(str::to_owned);
        }
        let en = entry(e.position, &e.hash.0);
        if let Err(error) = log.append(&en) {
            failed = Some(error);
            return ControlFlow::Break(());
        }
        entries.push(en);
        ControlFlow::Continue(())
    })
    .await
    .with_context(|| format!("cannot read the ledger {ledger}"))?;
    if let Some(error) = failed {
        bail!("the ledger {ledger} cannot be published: {error}");
    }
    let size = log.size();
    let verifier = signer.verifier();

    // What the folder holds already must be this ledger's beginning.
    let checkpoint_path = options.dir.join("checkpoint");
    let old = match std::fs::read_to_string(&checkpoint_path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", checkpoint_path.display()));
        }
        Ok(note) => {
            let text = verifier.open(&note).with_context(|| {
                format!(
                    "{} is not a checkpoint signed by this server's key {}",
                    checkpoint_path.display(),
                    verifier.name()
                )
            })?;
            let (published_origin, published, root) = parse_checkpoint_text(text)
                .with_context(|| format!("{} is not a checkpoint", checkpoint_path.display()))?;
            if published_origin != origin {
                bail!(
                    "{} is the log {published_origin}, not {origin}: publish each ledger to its own folder",
                    options.dir.display()
                );
            }
            if published > size || log.root(published)? != root {
                bail!(
                    "the log published in {} ({published} events) is not the beginning of the ledger {ledger} ({size} events): its history differs; nothing written",
                    options.dir.display()
                );
            }
            published
        }
    };
    let root = log.root(size)?;
    let note = signer.sign_note(&checkpoint_text(&origin, size, &root, &[]));
    // Co-signed by the charter's witnesses first, when it names some:
    // nothing is written unless enough of them co-sign.
    let (note, cosigned_by) =
        witnessed(&store, &ledger, company.as_deref(), &log, note, size).await?;
    let mut files = log.tiles(old, size)?;
    files.extend(entry_bundles(&entries, old, size)?);
    for (path, bytes) in &files {
        write_whole(&options.dir.join(path), bytes)?;
    }
    write_whole(&checkpoint_path, note.as_bytes())?;
    writeln!(
        out,
        "Published the ledger {ledger} as the log {origin} to {}: {size} events ({} new), {} files written, checkpoint signed by {}{}.",
        options.dir.display(),
        size - old,
        files.len() + 1,
        verifier.name(),
        if cosigned_by.is_empty() {
            String::new()
        } else {
            format!(" and co-signed by the witnesses {}", cosigned_by.join(", "))
        }
    )?;
    Ok(())
}

/// `note` with the co-signatures of the witnesses the ledger's charter
/// names, if it names some (C2SP `tlog-witness`, as the server asks them,
/// `windledger_api::witnessing`), and who co-signed; an error, saying each
/// witness's answer, if fewer than the charter's quorum did.
async fn witnessed(
    store: &windledger_store::Store,
    ledger: &windledger_store::LedgerId,
    company: Option<&str>,
    log: &Log,
    note: String,
    size: u64,
) -> anyhow::Result<(String, Vec<String>)> {
    use windledger_witness::client::{ask_all, proof_lines};
    let Some(company) = company else {
        return Ok((note, Vec::new()));
    };
    let charter = windledger_app::ledger::company_charter(store, ledger, company)
        .await
        .with_context(|| format!("cannot read the charter of the ledger {ledger}"))?;
    let Some(witnesses) = charter
        .map(|c| c.witnesses)
        .filter(|w| !w.witnesses.is_empty())
    else {
        return Ok((note, Vec::new()));
    };
    let mut asked = Vec::new();
    for w in &witnesses.witnesses {
        let key = windledger_store::CosignatureVerifier::parse(&w.key)
            .with_context(|| format!("the charter's witness {} has no valid key", w.party))?;
        // The size each witness co-signed last is not known here: it says
        // (409), and is asked again with the proof from it.
        asked.push((w.url.clone(), key, 0, Vec::new()));
    }
    let proof_from = |old: u64| (old <= size).then(|| proof_lines(log, old, size));
    let answers = ask_all(&asked, &note, size, &proof_from).await;
    let mut cosigned = note;
    let mut refusals = Vec::new();
    for (w, answer) in witnesses.witnesses.iter().zip(answers) {
        match answer {
            Ok(line) => cosigned.push_str(&line),
            Err(why) => refusals.push(format!("{}: {why}", w.party)),
        }
    }
    let policy = windledger_store::WitnessPolicy {
        witnesses: asked.into_iter().map(|(_, key, _, _)| key).collect(),
        quorum: usize::try_from(witnesses.quorum).unwrap_or(usize::MAX),
    };
    match policy.check(&cosigned) {
        Ok(names) => Ok((cosigned, names)),
        Err(e) => bail!(
            "the witnesses did not co-sign the checkpoint ({e}); nothing written{}",
            if refusals.is_empty() {
                String::new()
            } else {
                format!(": {}", refusals.join("; "))
            }
        ),
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into
/// place: a reader sees the old file or the new one, never a part.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let folder = path.parent().context("a file in a folder")?;
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    let mut temporary = tempfile::NamedTempFile::new_in(folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    temporary
        .write_all(bytes)
        .and_then(|()| temporary.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    temporary
        .persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
