//! `windledger register`: the register of share movements (R228-8) as PDF
//! or CSV, `register account --holder H` a holder's individual account and
//! `register certificate --holder H --at DATE` a certificate of holding,
//! drawn from the ledger's projections at its head (see docs/register.md).
//!
//! Holders appear by their pseudonymous id, or, with `--names`, by the name
//! and address in force in the identity vault (which needs the server's key
//! files; each read is logged as `cli:<user>`, "printed on a document").
//! The same ledger position and vault state give the same bytes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use windledger_app::people::Vault;
use windledger_documents::register::{account_pdf, certificate_pdf, register_csv, register_pdf};
use windledger_documents::{Drawn, People, Pseudonyms};
use windledger_domain::types::HolderId;
use windledger_projections::runner::Projections;
use windledger_store::LedgerId;

use crate::export::{Output, projections};
use crate::options::{KeyOptions, LedgerOptions};
use crate::server_cli::DEFAULT_DATABASE_URL;

/// The register's file format.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PDF/A-2b, to print or archive.
    Pdf,
    /// `;`-separated UTF-8 with French headers, for the accountant.
    Csv,
}

/// The ledger a document is drawn from.
#[derive(clap::Args, Debug, Clone)]
pub struct Source {
    #[command(flatten)]
    pub ledger: LedgerOptions,

    /// Where to write; standard output when left out.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub names: Names,
}

/// Whether the document names the holders.
#[derive(clap::Args, Debug, Clone)]
pub struct Names {
    /// Name the holders (name and postal address in force, from the
    /// identity vault) instead of their pseudonymous ids; holders without
    /// an identity, or whose identity was erased, keep their id.
    #[arg(long)]
    pub names: bool,
    #[command(flatten)]
    pub keys: KeyOptions,
}

/// Print the register of share movements (registre des mouvements de
/// titres, R228-8 of the Code de commerce): every movement, numbered, with
/// its act and the ledger event behind it; or, with a subcommand, a
/// holder's individual account or a certificate of holding.
#[derive(clap::Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct RegisterOptions {
    #[command(subcommand)]
    pub document: Option<Document>,

    /// The database: postgres://... or sqlite://path.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// The ledger: a farm's id in the database. (Not [`LedgerOptions`]
    /// flattened: clap reads an optional flattened group as absent when its
    /// values come from windledger.toml's defaults.)
    #[arg(long, env = "WINDLEDGER_LEDGER", required = true)]
    pub ledger: Option<String>,

    /// Where to write; standard output when left out.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub names: Names,

    /// The movements effective up to the end of this date [default: all
    /// recorded].
    #[arg(long)]
    pub as_of: Option<NaiveDate>,

    /// pdf or csv.
    #[arg(long, value_enum, default_value = "pdf")]
    pub format: Format,
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum Document {
    /// A holder's individual account (compte individuel): their movements
    /// with the balance per class after each, as PDF.
    Account {
        /// The holder's pseudonymous id.
        #[arg(long)]
        holder: String,
        /// The movements effective up to the end of this date [default:
        /// all recorded].
        #[arg(long)]
        as_of: Option<NaiveDate>,
        #[command(flatten)]
        source: Source,
    },
    /// A certificate of holding (attestation d'inscription en compte): the
    /// shares a holder held at the end of a date, as PDF.
    Certificate {
        /// The holder's pseudonymous id.
        #[arg(long)]
        holder: String,
        /// The date the holding is certified at the end of.
        #[arg(long)]
        at: NaiveDate,
        #[command(flatten)]
        source: Source,
    },
}

/// `windledger register`.
pub async fn run(opts: RegisterOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<()> {
    match opts.document {
        None => {
            let Some(ledger) = opts.ledger else {
                bail!("--ledger is required");
            };
            let source = Source {
                ledger: LedgerOptions {
                    database_url: opts.database_url,
                    ledger,
                },
                output: opts.output,
                names: opts.names,
            };
            let (ledger, projections) = load(&source).await?;
            let drawn = drawn(&projections, &ledger, opts.as_of)?;
            let register = projections.share_register.fold();
            let entries = register.entries_as_of(drawn.as_of());
            let named = entries
                .iter()
                .flat_map(|e| [e.transferor.clone(), e.transferee.clone()])
                .flatten();
            let people = people(&source, named).await?;
            let bytes = match opts.format {
                Format::Pdf => register_pdf(&drawn, entries, people.as_ref())?,
                Format::Csv => register_csv(entries, people.as_ref()),
            };
            let what = format!(
                "the register of share movements of the ledger {ledger} ({} entries, as of {}, position {})",
                entries.len(),
                drawn.date,
                drawn.position
            );
            write(&source, &bytes, &what, out)
        }
        Some(Document::Account {
            holder,
            as_of,
            source,
        }) => {
            let (ledger, projections) = load(&source).await?;
            let holder = holder_id(&holder)?;
            let drawn = drawn(&projections, &ledger, as_of)?;
            let register = projections.share_register.fold();
            let account = register
                .account(&holder, drawn.as_of())
                .with_context(|| format!("no movement of the ledger {ledger} names {holder}"))?;
            let people = people(&source, [holder.clone()]).await?;
            let bytes = account_pdf(&drawn, &account, people.as_ref())?;
            let what = format!(
                "the account of {holder} ({} movements, as of {}, position {})",
                account.lines.len(),
                drawn.date,
                drawn.position
            );
            write(&source, &bytes, &what, out)
        }
        Some(Document::Certificate { holder, at, source }) => {
            let (ledger, projections) = load(&source).await?;
            let holder = holder_id(&holder)?;
            if projections.cap_table.fold().holder(&holder).is_none() {
                bail!("{holder} was never admitted to the ledger {ledger}");
            }
            let drawn = drawn(&projections, &ledger, Some(at))?;
            let holdings = projections.share_register.fold().holdings_at(&holder, at);
            let people = people(&source, [holder.clone()]).await?;
            let bytes = certificate_pdf(&drawn, &holder, &holdings, people.as_ref())?;
            let what = format!(
                "the certificate of holding of {holder} at {at} (position {})",
                drawn.position
            );
            write(&source, &bytes, &what, out)
        }
    }
}

/// Who the holders are: their ids, or with `--names` their names in force
/// (the ledger opened with the server's key, each read logged).
async fn people(
    source: &Source,
    holders: impl IntoIterator<Item = HolderId>,
) -> anyhow::Result<Box<dyn People + Send + Sync>> {
    if !source.names.names {
        return Ok(Box::new(Pseudonyms));
    }
    let (verifier, master) = source.names.keys.read_existing()?;
    let runtime = source.ledger.runtime(None, verifier).await?;
    let reader = crate::identity::reader("printed on a document");
    let mut holders: Vec<HolderId> = holders.into_iter().collect();
    holders.sort();
    holders.dedup();
    let names =
        windledger_papers::persons::names(&Vault::new(master), &runtime, holders, &reader).await?;
    Ok(Box::new(names))
}

fn holder_id(holder: &str) -> anyhow::Result<HolderId> {
    HolderId::new(holder).with_context(|| format!("--holder {holder:?} is not a holder id"))
}

async fn load(source: &Source) -> anyhow::Result<(LedgerId, Projections)> {
    let (store, ledger) = source.ledger.open(None).await?;
    let head = store
        .head(&ledger)
        .await
        .with_context(|| format!("cannot read the ledger {ledger}"))?;
    let projections = projections(&store, &ledger, head.size).await?;
    Ok((ledger, projections))
}

fn drawn(
    projections: &Projections,
    ledger: &LedgerId,
    date: Option<NaiveDate>,
) -> anyhow::Result<Drawn> {
    Drawn::of(projections, ledger.as_str(), date)
        .with_context(|| format!("the ledger {ledger} has no company yet"))
}

/// The bytes to --output (whole, or nothing) or standard output, and a
/// line saying what was written when it went to a file.
fn write(
    source: &Source,
    bytes: &[u8],
    what: &str,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<()> {
    let path = source.output.as_deref();
    let mut sink = Output::open(path, out)?;
    let written = sink.write_all(bytes);
    if sink.finish(written)?.is_none() {
        return Ok(());
    }
    if let Some(path) = path {
        writeln!(out, "Wrote {what} to {}.", path.display())?;
    }
    Ok(())
}
