//! `windledger export events|ocf|cap-table-csv|decisions-csv|pabulib`: a
//! ledger out of the database, for auditors and other tools.
//!
//! - `events`: the ledger as JSON Lines (`Store::export_jsonl`), what
//!   `windledger verify` checks offline.
//! - `ocf`: the Open Cap Format 1.2.0 package of the cap table as of a date
//!   (`windledger_projections::ocf`, see docs/ocf.md): a `.ocf.zip` when the
//!   output ends in `.zip`, a folder otherwise.
//! - `cap-table-csv`: the cap table as of a date, one row per holder and
//!   share class, from the projections.
//! - `decisions-csv`: the decisions register, one row per resolution.
//! - `pabulib ROUND`: a budgeting round's election in Pabulib's `.pb`
//!   format (`windledger_app::budgeting::pabulib`), which `pabutools`
//!   counts again.
//!
//! CSV is RFC 4180: comma-separated, CRLF line ends, a field quoted when it
//! holds a comma, a quote or a line break (quotes doubled), UTF-8 without a
//! byte order mark, a header line first.
//!
//! Every cell is written so that a spreadsheet shows it as text, never runs
//! it (OWASP, CSV injection): a cell starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return is prefixed with a single quote, unless it is a
//! plain number (`-12.50`, digits with an optional minus sign and decimal
//! point), which no spreadsheet reads as a formula and which stays a number
//! in numeric columns. Control characters other than tab, line feed and
//! carriage return, and bidirectional formatting characters (a NUL, a
//! right-to-left override, in a text recorded before windledger refused
//! them) are written as U+FFFD, the replacement character: visible, and
//! never passed on to the tool reading the file. The ledger itself keeps
//! the text as recorded (`export events`).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use windledger_domain::charter::Majority;
use windledger_domain::company::CompanyEvent;
use windledger_domain::meeting::Outcome;
use windledger_projections::cap_table::{AsOf, CapTableView};
use windledger_projections::ocf;
use windledger_projections::register::DecisionsRegister;
use windledger_projections::runner::Projections;
use windledger_store::{LedgerId, RecordedEvent, Store};

use windledger_app::services::{company_of, ledger_event, scan};

use crate::options::LedgerOptions;

/// The header of `cap-table-csv`.
pub const CAP_TABLE_HEADER: [&str; 7] = [
    "holder",
    "kind",
    "college",
    "class",
    "shares",
    "capital_pct",
    "votes_pct",
];

/// The header of `decisions-csv`.
pub const DECISIONS_HEADER: [&str; 10] = [
    "meeting",
    "resolution",
    "decision_kind",
    "text",
    "outcome",
    "votes_for",
    "votes_against",
    "abstentions",
    "deciding_rule",
    "closing_position",
];

/// What `windledger export` writes.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The ledger as JSON Lines, one event per line with its hashes: what
    /// `windledger verify` checks.
    Events,
    /// The Open Cap Format 1.2.0 package of the cap table as of --as-of: a
    /// .ocf.zip when --output ends in .zip, a folder otherwise.
    Ocf,
    /// The cap table as of --as-of, one row per holder and share class.
    CapTableCsv,
    /// The decisions register, one row per resolution.
    DecisionsCsv,
    /// A budgeting round's election (ROUND) in Pabulib's .pb format.
    Pabulib,
}

impl ExportKind {
    fn takes_date(self) -> bool {
        matches!(self, Self::Ocf | Self::CapTableCsv)
    }
}

/// Export a ledger from the database: its events as JSON Lines (what
/// `windledger verify` checks), its cap table as OCF or CSV, its decisions
/// register as CSV.
#[derive(clap::Args, Debug, Clone)]
pub struct ExportOptions {
    /// What to export.
    #[arg(value_enum)]
    pub kind: ExportKind,

    /// The budgeting round, for pabulib.
    pub round: Option<String>,

    #[command(flatten)]
    pub source: LedgerOptions,

    /// Where to write; standard output when left out (except ocf, which
    /// needs a folder or a .zip file).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,

    /// The date the cap table is taken at the end of, for ocf and
    /// cap-table-csv [default: today].
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

/// `windledger export`: the data to --output (or standard output), and a
/// one-line summary on standard output when the data went to a file.
pub async fn run(opts: ExportOptions) -> anyhow::Result<()> {
    run_to(&opts, &mut io::stdout()).await
}

/// [`run`], with `out` in place of standard output.
pub async fn run_to(opts: &ExportOptions, out: &mut (dyn Write + Send)) -> anyhow::Result<()> {
    if opts.as_of.is_some() && !opts.kind.takes_date() {
        bail!("--as-of applies to ocf and cap-table-csv only");
    }
    match (opts.kind, &opts.round) {
        (ExportKind::Pabulib, None) => {
            bail!("pabulib needs the round: windledger export pabulib ROUND")
        }
        (ExportKind::Pabulib, Some(_)) | (_, None) => {}
        (_, Some(round)) => bail!("{round:?}: only pabulib takes a round"),
    }
    let as_of = opts.as_of.unwrap_or_else(windledger_app::today);
    let (store, ledger) = opts.source.open(None).await?;
    let head = store
        .head(&ledger)
        .await
        .with_context(|| format!("cannot read the ledger {ledger}"))?;
    let output = opts.output.as_deref();
    match opts.kind {
        ExportKind::Events => {
            let mut sink = Output::open(output, out)?;
            let written = store
                .export_jsonl(&ledger, &mut sink, |_, _| {})
                .await
                .with_context(|| format!("cannot export the ledger {ledger}"));
            let Some(exported) = sink.finish(written)? else {
                return Ok(());
            };
            if let Some(path) = output {
                writeln!(
                    out,
                    "Exported the {} events of the ledger {ledger} to {}, head {}.",
                    exported.size,
                    path.display(),
                    exported.hash
                )?;
            }
        }
        ExportKind::Ocf => {
            let Some(path) = output else {
                bail!(
                    "ocf needs --output: a folder, or a file ending in .zip for a .ocf.zip archive"
                );
            };
            let events = company_events(&store, &ledger, head.size).await?;
            let package = ocf::export(&events, as_of, Utc::now())
                .with_context(|| format!("cannot export the ledger {ledger} as OCF"))?;
            let zipped = path.extension().is_some_and(|e| e == "zip");
            let written = if zipped {
                let bytes = package.to_zip().context("cannot build the zip archive")?;
                write_whole(path, &bytes)
            } else {
                write_folder(&package, path)
            };
            written
                .with_context(|| format!("cannot write the OCF package to {}", path.display()))?;
            let items = |file: &str| {
                package
                    .file(file)
                    .and_then(|f| f.json()["items"].as_array().map(Vec::len))
                    .unwrap_or(0)
            };
            writeln!(
                out,
                "Exported the cap table of the ledger {ledger} as of {as_of} as OCF {} to {} \
                 ({}: {}, {}, {}).",
                ocf::OCF_VERSION,
                path.display(),
                if zipped { "a zip archive" } else { "a folder" },
                counted(items(ocf::STAKEHOLDERS_FILE), "stakeholder", "stakeholders"),
                counted(
                    items(ocf::STOCK_CLASSES_FILE),
                    "stock class",
                    "stock classes"
                ),
                counted(items(ocf::TRANSACTIONS_FILE), "transaction", "transactions"),
            )?;
        }
        ExportKind::CapTableCsv => {
            let projections = projections(&store, &ledger, head.size).await?;
            let view = projections
                .cap_table
                .fold()
                .view(AsOf::Date { date: as_of })
                .with_context(|| {
                    format!("the company of the ledger {ledger} was not incorporated on {as_of}")
                })?;
            let mut sink = Output::open(output, out)?;
            let written = write_cap_table_csv(&view, &mut sink);
            let Some(rows) = sink.finish(written)? else {
                return Ok(());
            };
            if let Some(path) = output {
                writeln!(
                    out,
                    "Exported the cap table of the ledger {ledger} as of {as_of} to {}: {rows} rows.",
                    path.display()
                )?;
            }
        }
        ExportKind::Pabulib => {
            let round = opts.round.as_deref().unwrap_or_default();
            let Some(text) = windledger_app::budgeting::pabulib(&store, &ledger, round)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            else {
                bail!("the ledger {ledger} has no budgeting round {round}");
            };
            let mut sink = Output::open(output, out)?;
            let written = sink.write_all(text.as_bytes());
            if sink.finish(written)?.is_none() {
                return Ok(());
            }
            if let Some(path) = output {
                writeln!(
                    out,
                    "Exported the budgeting round {round} of the ledger {ledger} to {} (Pabulib .pb).",
                    path.display()
                )?;
            }
        }
        ExportKind::DecisionsCsv => {
            let projections = projections(&store, &ledger, head.size).await?;
            let register = projections.register.fold();
            let meetings = register.meetings().count();
            let mut sink = Output::open(output, out)?;
            let written = write_decisions_csv(register, &mut sink);
            let Some(rows) = sink.finish(written)? else {
                return Ok(());
            };
            if let Some(path) = output {
                writeln!(
                    out,
                    "Exported the decisions register of the ledger {ledger} to {}: \
                     {rows} resolutions of {meetings} meetings.",
                    path.display()
                )?;
            }
        }
    }
    Ok(())
}

fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Where the data goes: a regular file (by way of a hidden temporary file
/// beside it, renamed over it once complete, so an interrupted export leaves
/// nothing under the name asked for), a device or a FIFO (written in place:
/// `--output /dev/null` never replaces the device with a file), or the
/// caller's writer. A symbolic link is followed to what it names, which is
/// then treated the same way; the link itself stays.
pub(crate) struct Output<'a> {
    writer: BufWriter<Target<'a>>,
    /// The file asked for, as given (for messages).
    path: Option<PathBuf>,
}

enum Target<'a> {
    /// The temporary file and the regular file it becomes.
    Replace(tempfile::NamedTempFile, PathBuf),
    /// A device or a FIFO, written as it is.
    InPlace(File),
    /// Standard output (or the caller's writer), and whether its reader
    /// went away (`windledger export events | head`).
    Out {
        out: &'a mut (dyn Write + Send),
        broken_pipe: bool,
    },
}

impl Write for Target<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Replace(f, _) => f.write(buf),
            Self::InPlace(f) => f.write(buf),
            Self::Out { out, broken_pipe } => out.write(buf).inspect_err(|e| {
                *broken_pipe |= e.kind() == io::ErrorKind::BrokenPipe;
            }),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Replace(f, _) => f.flush(),
            Self::InPlace(f) => f.flush(),
            Self::Out { out, broken_pipe } => out.flush().inspect_err(|e| {
                *broken_pipe |= e.kind() == io::ErrorKind::BrokenPipe;
            }),
        }
    }
}

/// What `--output` names, decided before anything is written.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// Nothing yet, or a regular file: written whole, then put in place.
    File(PathBuf),
    /// A character or block device, or a FIFO: written in place.
    Stream(PathBuf),
}

/// Where writing to `path` goes: symbolic links resolved, folders refused.
fn destination(path: &Path) -> anyhow::Result<Destination> {
    let shown = path.display();
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Destination::File(path.to_owned()));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read --output {shown}")),
        Ok(meta) => meta,
    };
    let (real, meta) = if meta.file_type().is_symlink() {
        let real = std::fs::canonicalize(path).with_context(|| {
            format!("--output {shown} is a symbolic link to nothing that can be written")
        })?;
        let meta = std::fs::metadata(&real).with_context(|| {
            format!(
                "cannot read {}, where --output {shown} leads",
                real.display()
            )
        })?;
        (real, meta)
    } else {
        (path.to_owned(), meta)
    };
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(Destination::File(real))
    } else if kind.is_dir() {
        bail!("--output {shown} is a folder: name a file")
    } else {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
            Ok(Destination::Stream(real))
        } else {
            bail!("--output {shown} is neither a file, a device nor a FIFO")
        }
    }
}

/// A temporary file beside `path` for its new content: created new (never
/// through a name planted beforehand), readable as a file created by the
/// user would be, or as the file it replaces is.
fn temporary_beside(path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let cannot = || format!("cannot write {}", path.display());
    let name = path
        .file_name()
        .with_context(|| format!("--output {} names no file", path.display()))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // An existing file's mode is kept exactly (the umask may mask it at
    // creation, so it is set again); a new file's is masked by the umask,
    // as `File::create` would.
    let existing = std::fs::metadata(path).ok().map(|m| m.permissions());
    let file = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".partial")
        .permissions(
            existing
                .clone()
                .unwrap_or_else(|| std::fs::Permissions::from_mode(0o666)),
        )
        .tempfile_in(dir)
        .with_context(cannot)?;
    if let Some(permissions) = existing {
        file.as_file()
            .set_permissions(permissions)
            .with_context(cannot)?;
    }
    Ok(file)
}

impl<'a> Output<'a> {
    pub(crate) fn open(
        path: Option<&Path>,
        out: &'a mut (dyn Write + Send),
    ) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self {
                writer: BufWriter::new(Target::Out {
                    out,
                    broken_pipe: false,
                }),
                path: None,
            });
        };
        let target = match destination(path)? {
            Destination::File(real) => Target::Replace(temporary_beside(&real)?, real),
            Destination::Stream(real) => Target::InPlace(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&real)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            ),
        };
        Ok(Self {
            writer: BufWriter::new(target),
            path: Some(path.to_owned()),
        })
    }

    /// Ends the output of `written`: flushes, and puts a file in place.
    /// `None` when standard output's reader went away (as `head` does):
    /// nothing is left to write, and that is no error.
    pub(crate) fn finish<T, E>(self, written: Result<T, E>) -> anyhow::Result<Option<T>>
    where
        anyhow::Error: From<E>,
    {
        let Self { mut writer, path } = self;
        let flushed = writer.flush();
        if let Target::Out {
            broken_pipe: true, ..
        } = writer.get_ref()
        {
            return Ok(None);
        }
        let cannot = match &path {
            Some(path) => format!("cannot write {}", path.display()),
            None => "cannot write to standard output".to_owned(),
        };
        // On an error the temporary file is removed as it is dropped.
        let value = written?;
        flushed.context(cannot.clone())?;
        let target = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .context(cannot.clone())?;
        if let Target::Replace(file, real) = target {
            file.as_file().sync_all().context(cannot.clone())?;
            file.persist(&real).map_err(|e| e.error).context(cannot)?;
        }
        Ok(Some(value))
    }
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Writes `bytes` as the whole content of `path`, the way `--output` is
/// written (a regular file replaced whole, a device or FIFO in place).
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut nowhere = io::sink();
    let mut output = Output::open(Some(path), &mut nowhere)?;
    let written = output.write_all(bytes);
    output.finish(written)?;
    Ok(())
}

/// The package's files in the folder `dir` (created if missing), each
/// written as `--output` is: a symbolic link in the folder is followed, a
/// device or FIFO written in place, never replaced.
fn write_folder(package: &ocf::OcfPackage, dir: &Path) -> anyhow::Result<()> {
    if let Ok(meta) = std::fs::metadata(dir)
        && !meta.is_dir()
    {
        bail!(
            "{} is not a folder (name a folder, or a file ending in .zip)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in &package.files {
        write_whole(&dir.join(file.name()), file.bytes())?;
    }
    Ok(())
}

/// Every event of the ledger up to `size`, in order, to `each`.
async fn read_ledger(
    store: &Store,
    ledger: &LedgerId,
    size: u64,
    mut each: impl FnMut(RecordedEvent) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let failed = scan(store, ledger, size, |e| match each(e) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => ControlFlow::Break(e),
    })
    .await
    .with_context(|| format!("cannot read the ledger {ledger}"))?;
    failed.map_or(Ok(()), Err)
}

/// The company stream's events with their positions, as the OCF export
/// takes them.
async fn company_events(
    store: &Store,
    ledger: &LedgerId,
    size: u64,
) -> anyhow::Result<Vec<(u64, CompanyEvent)>> {
    let mut events = Vec::new();
    read_ledger(store, ledger, size, |e| {
        if company_of(&e).is_some() {
            let event = e.decode::<CompanyEvent>().with_context(|| {
                format!(
                    "the event at position {} does not decode; check the ledger with windledger verify",
                    e.position
                )
            })?;
            events.push((e.position, event));
        }
        Ok(())
    })
    .await?;
    Ok(events)
}

/// The projections of the whole ledger.
pub(crate) async fn projections(
    store: &Store,
    ledger: &LedgerId,
    size: u64,
) -> anyhow::Result<Projections> {
    let mut projections = Projections::default();
    read_ledger(store, ledger, size, |e| {
        projections.apply(&ledger_event(e));
        Ok(())
    })
    .await?;
    if let Some(failure) = projections.failure() {
        bail!("{failure}; check the ledger with windledger verify");
    }
    Ok(projections)
}

/// The cap table as CSV ([`CAP_TABLE_HEADER`]): one row per holder and
/// class, percentages with 4 decimals. Returns the rows written (header
/// aside).
pub fn write_cap_table_csv(view: &CapTableView<'_>, out: &mut dyn Write) -> io::Result<usize> {
    write_row(out, &CAP_TABLE_HEADER)?;
    for row in &view.rows {
        write_row(
            out,
            &[
                row.holder.as_str(),
                &serde_name(&row.kind),
                row.college.as_str(),
                row.class.as_str(),
                &row.shares.to_string(),
                &row.capital_pct.to_string(),
                &row.votes_pct.to_string(),
            ],
        )?;
    }
    Ok(view.rows.len())
}

/// The decisions register as CSV ([`DECISIONS_HEADER`]): one row per
/// resolution, meetings in the order they were convened, resolutions in
/// agenda order. A meeting not closed yet has its resolutions `pending`,
/// with no count. Returns the rows written (header aside).
pub fn write_decisions_csv(register: &DecisionsRegister, out: &mut dyn Write) -> io::Result<usize> {
    write_row(out, &DECISIONS_HEADER)?;
    let mut meetings: Vec<_> = register.meetings().collect();
    meetings.sort_by_key(|(_, m)| m.convened.position);
    let mut rows = 0;
    for (id, meeting) in meetings {
        for item in &meeting.convocation.agenda {
            let closed = meeting.closed.as_ref();
            let result =
                closed.and_then(|c| c.results.iter().find(|r| r.resolution == item.resolution));
            let (outcome, rule) = match result.map(|r| (&r.outcome, r.majority)) {
                Some((Outcome::Adopted, majority)) => (
                    "adopted".to_owned(),
                    format!("majority {}", majority_text(majority)),
                ),
                Some((Outcome::Rejected { rules }, _)) => (
                    "rejected".to_owned(),
                    rules.first().map(ToString::to_string).unwrap_or_default(),
                ),
                None => ("pending".to_owned(), String::new()),
            };
            let count = |f: fn(&windledger_domain::meeting::ResolutionResult) -> u64| {
                result.map(|r| f(r).to_string()).unwrap_or_default()
            };
            write_row(
                out,
                &[
                    id.as_str(),
                    item.resolution.as_str(),
                    item.decision_kind.as_str(),
                    &item.text,
                    &outcome,
                    &count(|r| r.votes_for),
                    &count(|r| r.votes_against),
                    &count(|r| r.abstentions),
                    &rule,
                    &closed
                        .filter(|_| result.is_some())
                        .map(|c| c.at.position.to_string())
                        .unwrap_or_default(),
                ],
            )?;
            rows += 1;
        }
    }
    Ok(rows)
}

fn majority_text(majority: Majority) -> String {
    match majority {
        Majority::MoreThan(r) => format!("more than {r} of votes cast"),
        Majority::AtLeast(r) => format!("at least {r} of votes cast"),
    }
}

/// A value's name as the events spell it (`individual`, `local_authority`).
fn serde_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// One CSV line, CRLF-terminated.
fn write_row(out: &mut dyn Write, fields: &[&str]) -> io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(csv_field(field).as_bytes())?;
    }
    out.write_all(b"\r\n")
}

/// A field as written: hidden characters replaced, a formula neutralised,
/// quoted when it must be (RFC 4180), `,` separating fields.
pub fn csv_field(field: &str) -> Cow<'_, str> {
    windledger_documents::csv::field(field, ',')
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        options: ExportOptions,
    }

    fn parse(args: &[&str]) -> Result<ExportOptions, clap::Error> {
        Cli::try_parse_from(std::iter::once("export").chain(args.iter().copied()))
            .map(|cli| cli.options)
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("ag-2016.1"), "ag-2016.1");
        assert_eq!(csv_field("Approve, then pay"), "\"Approve, then pay\"");
        assert_eq!(csv_field("the \"Ailes\""), "\"the \"\"Ailes\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        let mut out = Vec::new();
        write_row(&mut out, &["a", "b,c", ""]).expect("written");
        assert_eq!(out, b"a,\"b,c\",\r\n");
    }

    #[test]
    fn a_cell_never_runs_as_a_formula() {
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("+33 6 12"), "'+33 6 12");
        assert_eq!(csv_field("-A1"), "'-A1");
        assert_eq!(csv_field("@SUM(A1:A9)"), "'@SUM(A1:A9)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\r=x"), "\"'\r=x\"");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        // Numbers stay numbers; a formula character inside is harmless.
        assert_eq!(csv_field("-12.50"), "-12.50");
        assert_eq!(csv_field("-3"), "-3");
        assert_eq!(csv_field("12.5"), "12.5");
        assert_eq!(csv_field("a=b"), "a=b");
        assert_eq!(csv_field("-12.50.1"), "'-12.50.1");
        assert_eq!(csv_field("-"), "'-");
        assert_eq!(csv_field("-.5"), "'-.5");
    }

    #[test]
    fn hidden_characters_are_written_as_replacement_characters() {
        assert_eq!(csv_field("Budget\u{0} 2026"), "Budget\u{fffd} 2026");
        assert_eq!(csv_field("a\u{202e}b\u{2066}c"), "a\u{fffd}b\u{fffd}c");
        assert_eq!(csv_field("tab\there"), "tab\there");
        assert_eq!(csv_field("two\r\nlines"), "\"two\r\nlines\"");
        // Replaced first, so a hidden character cannot hide a formula.
        assert_eq!(csv_field("\u{0}=1"), "\u{fffd}=1");
    }

    #[test]
    fn the_kinds_and_options_parse() {
        let options = parse(&[
            "cap-table-csv",
            "--ledger",
            "ailes",
            "--as-of",
            "2020-12-31",
            "--database-url",
            "sqlite://x.sqlite",
        ])
        .expect("parses");
        assert_eq!(options.kind, ExportKind::CapTableCsv);
        assert_eq!(options.as_of, NaiveDate::from_ymd_opt(2020, 12, 31));
        for kind in ["events", "ocf", "decisions-csv"] {
            assert!(parse(&[kind, "--ledger", "ailes"]).is_ok(), "{kind}");
        }
        assert!(parse(&["events"]).is_err(), "--ledger is required");
        assert!(parse(&["everything", "--ledger", "ailes"]).is_err());
        assert!(parse(&["ocf", "--ledger", "ailes", "--as-of", "31/12/2020"]).is_err());
    }
}
