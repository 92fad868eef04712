//! Importing a farm's history: a file of commands, one JSON object per
//! line, run in order through the same `CqrsFramework`s as the API, so
//! every rule of the domain applies (the format is in `docs/import.md`).
//!
//! ```text
//! # comment lines and blank lines are skipped
//! {"id": "cmd-0001", "stream": "company/ailes", "command": {"command": "incorporate", ...}}
//! {"id": "cmd-0002", "stream": "company/ailes", "actor": "secretary", "command": {...}}
//! ```
//!
//! - A line that is not a command (bad JSON, an unknown stream type, a
//!   command its aggregate does not know) or that the domain refuses stops
//!   the import there, with its line number, its id and the reason. The
//!   aggregates decide in full before writing, so nothing of that line is
//!   written; every line before it is.
//! - Each line's id becomes the `command_id` of its events' metadata. An
//!   import started again on the same ledger first collects the command ids
//!   the ledger holds and skips those lines: an interrupted import continues
//!   where it stopped, without writing anything twice.
//! - One company per ledger: its `company/<id>` stream, named by the first
//!   company line (or found in the ledger), is the one the meetings and the
//!   financial years read their cap tables from.
//!
//! [`synthetic`] writes a generated farm straight to the store, for
//! benchmarks and load tests. `windledger import` is the command line's.

pub mod csv;
pub mod synthetic;

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::ops::ControlFlow;

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;
use windledger_store::{Head, LedgerId, Store, StoreError, StreamId};

use crate::command::{Aggregates, Command, check_aggregate_id};
use crate::error::ErrorKind;
use crate::services::{CompanyCapTables, company_of, scan};

/// The actor recorded in the metadata of a line that names none.
pub const DEFAULT_ACTOR: &str = "import";

/// The metadata key, and its value, that mark an event as recorded history
/// entered by `windledger import` rather than decided live: its instants
/// (a ballot's, a close's) are those of the history, attested by whoever
/// ran the import, and may be long before it was recorded.
pub const ENTRY_KEY: &str = "entry";
pub const ENTRY_IMPORTED: &str = "imported";

/// Most characters in a command id or an actor.
const MAX_ID_LEN: usize = 200;

/// Why an import stopped. Every variant that names a line says which one;
/// lines before it are in the ledger, nothing of it is.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read line {line}: {source}")]
    Read {
        line: usize,
        #[source]
        source: std::io::Error,
    },
    /// Not a command windledger can run: fix the line and import again.
    #[error("line {line}{}: {reason}", Id(.id))]
    Invalid {
        line: usize,
        id: Option<String>,
        reason: String,
    },
    /// The domain refused the command (its rules, as the API would).
    #[error("line {line} ({id}): refused: {reason}")]
    Refused {
        line: usize,
        id: String,
        reason: String,
    },
    /// The store failed while the line ran; import again to continue.
    #[error(
        "line {line} ({id}) was not recorded: {reason}; import the file again to continue from this line"
    )]
    Failed {
        line: usize,
        id: String,
        reason: String,
    },
    #[error("cannot read the ledger {ledger}: {source}")]
    Ledger {
        ledger: LedgerId,
        #[source]
        source: StoreError,
    },
}

/// `" (id)"` when the line's id is known.
struct Id<'a>(&'a Option<String>);

impl fmt::Display for Id<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " ({id})"),
            None => Ok(()),
        }
    }
}

/// One line of an import file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportLine {
    /// The command id: unique in the file and in the ledger.
    pub id: String,
    /// `<type>/<aggregate id>`.
    pub stream: StreamId,
    /// The aggregate id: the stream's part after the type.
    pub aggregate_id: String,
    /// Who the metadata names as the author (default [`DEFAULT_ACTOR`]).
    pub actor: Option<String>,
    pub command: Command,
}

/// The line as JSON, before its command is read by its stream's type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine<'a> {
    id: String,
    stream: String,
    #[serde(borrow)]
    command: &'a RawValue,
    #[serde(default)]
    actor: Option<String>,
}

/// Why a line is not a command, and its id when that much was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub id: Option<String>,
    pub reason: String,
}

impl ImportLine {
    /// Parses one (non-comment) line.
    pub fn parse(text: &str) -> Result<Self, LineError> {
        let raw: RawLine<'_> = serde_json::from_str(text).map_err(|e| LineError {
            id: None,
            reason: format!(
                "not an import line ({e}): expected {{\"id\": ..., \"stream\": ..., \"command\": {{...}}}}"
            ),
        })?;
        let id = raw.id;
        let fail = |reason: String| LineError {
            id: Some(id.clone()),
            reason,
        };
        check_text("the id", &id).map_err(fail)?;
        if let Some(actor) = &raw.actor {
            check_text("the actor", actor).map_err(fail)?;
        }
        let stream = StreamId::parse(raw.stream.clone()).map_err(|e| fail(e.to_string()))?;
        let Some((kind, aggregate_id)) = raw.stream.split_once('/') else {
            return Err(fail(format!(
                "stream {:?} is not <type>/<id>: the types are {}",
                raw.stream,
                Command::stream_types()
            )));
        };
        if aggregate_id.is_empty() {
            return Err(fail(format!(
                "stream {:?} names no aggregate id",
                raw.stream
            )));
        }
        let command = Command::parse(kind, raw.command.get()).map_err(fail)?;
        check_aggregate_id(&command, aggregate_id).map_err(fail)?;
        Ok(Self {
            id: id.clone(),
            stream,
            aggregate_id: aggregate_id.to_owned(),
            actor: raw.actor,
            command,
        })
    }
}

fn check_text(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || value.chars().count() > MAX_ID_LEN || value.chars().any(char::is_control)
    {
        return Err(format!(
            "{what} {value:?} must be 1 to {MAX_ID_LEN} characters without control characters"
        ));
    }
    Ok(())
}

/// How far an import has gone, after each command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// The line just handled (1-based, comments included).
    pub line: usize,
    /// Bytes of input read so far.
    pub bytes: u64,
    /// Command lines run.
    pub executed: usize,
    /// Command lines skipped because the ledger already held their id.
    pub skipped: usize,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Command lines in the input (comments and blank lines aside).
    pub commands: usize,
    pub executed: usize,
    pub skipped: usize,
    /// Events written.
    pub events: u64,
    /// The ledger's head afterwards.
    pub head: Head,
}

/// Imports command files into one ledger.
pub struct Importer {
    store: Store,
    ledger: LedgerId,
    /// Command id -> stream, for every event of the ledger that has one.
    known: HashMap<String, StreamId>,
    /// The company's aggregate id, once known.
    company_id: Option<String>,
    /// Wired once the company is known: the cap tables are its stream's.
    aggregates: Option<Aggregates>,
}

impl Importer {
    /// Opens (creating it if needed) the ledger, and reads the command ids
    /// it already holds and its company.
    pub async fn open(store: Store, ledger: LedgerId) -> Result<Self, ImportError> {
        let failed = |source| ImportError::Ledger {
            ledger: ledger.clone(),
            source,
        };
        store.create_ledger(&ledger).await.map_err(failed)?;
        let mut known = HashMap::new();
        let mut company_id = None;
        scan(&store, &ledger, u64::MAX, |e| {
            if company_id.is_none() {
                company_id = company_of(&e).map(str::to_owned);
            }
            if let Some(command) = e.metadata.command_id {
                known.insert(command, e.stream_id);
            }
            ControlFlow::<()>::Continue(())
        })
        .await
        .map_err(failed)?;
        Ok(Self {
            store,
            ledger,
            known,
            company_id,
            aggregates: None,
        })
    }

    /// How many command ids the ledger held when opened (or has since).
    pub fn known_commands(&self) -> usize {
        self.known.len()
    }

    /// Runs every command line of `input` in order, skipping those whose id
    /// the ledger already holds; stops at the first line that fails.
    /// `progress` is called after each command line.
    pub async fn import(
        &mut self,
        mut input: impl BufRead,
        mut progress: impl FnMut(Progress),
    ) -> Result<Imported, ImportError> {
        let ledger = self.ledger.clone();
        let ledger_failed = |source| ImportError::Ledger {
            ledger: ledger.clone(),
            source,
        };
        let before = self.store.head(&self.ledger).await.map_err(ledger_failed)?;
        let mut state = Progress::default();
        let mut commands = 0;
        // Command id -> its line, to refuse an id used twice in the file.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut text = String::new();
        loop {
            text.clear();
            let read = input
                .read_line(&mut text)
                .map_err(|source| ImportError::Read {
                    line: state.line + 1,
                    source,
                })?;
            if read == 0 {
                break;
            }
            state.line += 1;
            state.bytes += read as u64;
            let trimmed = text.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            commands += 1;
            let line = state.line;
            let parsed = ImportLine::parse(trimmed).map_err(|e| ImportError::Invalid {
                line,
                id: e.id,
                reason: e.reason,
            })?;
            let invalid = |reason: String| ImportError::Invalid {
                line,
                id: Some(parsed.id.clone()),
                reason,
            };
            if let Some(first) = seen.insert(parsed.id.clone(), line) {
                return Err(invalid(format!(
                    "the id is already used by line {first}: ids must be unique in the file"
                )));
            }
            match self.known.get(&parsed.id) {
                Some(stream) if *stream == parsed.stream => {
                    state.skipped += 1;
                }
                Some(stream) => {
                    return Err(invalid(format!(
                        "the ledger already holds this command id on stream {stream}, not {}: \
                         was the file changed since it was imported?",
                        parsed.stream
                    )));
                }
                None => {
                    parsed
                        .command
                        .check_input()
                        .map_err(|e| invalid(e.to_string()))?;
                    self.execute(line, &parsed).await?;
                    self.known.insert(parsed.id.clone(), parsed.stream.clone());
                    state.executed += 1;
                }
            }
            progress(state);
        }
        let head = self.store.head(&self.ledger).await.map_err(ledger_failed)?;
        Ok(Imported {
            commands,
            executed: state.executed,
            skipped: state.skipped,
            events: head.size - before.size,
            head,
        })
    }

    /// The aggregates, wired for the ledger's company.
    fn aggregates(&mut self, line: &ImportLine) -> Result<&Aggregates, String> {
        let named = match &line.command {
            Command::Company(_) => Some(line.aggregate_id.as_str()),
            _ => None,
        };
        let company_id = match (&self.company_id, named) {
            (Some(known), Some(named)) if known != named => {
                return Err(format!(
                    "a ledger holds one company, and this one's is company/{known}, not company/{named}"
                ));
            }
            (Some(known), _) => known.clone(),
            (None, Some(named)) => named.to_owned(),
            (None, None) => {
                return Err(
                    "the ledger has no company yet: the file must start with the company's \
                     commands (incorporation first)"
                        .to_owned(),
                );
            }
        };
        self.company_id = Some(company_id.clone());
        // The company id never changes once known, so neither do these.
        let (store, ledger) = (&self.store, &self.ledger);
        Ok(self.aggregates.get_or_insert_with(|| {
            Aggregates::new(store, ledger, || CompanyCapTables {
                store: store.clone(),
                ledger: ledger.clone(),
                company: company_id.clone(),
            })
        }))
    }

    async fn execute(&mut self, line_number: usize, line: &ImportLine) -> Result<(), ImportError> {
        let aggregates = self
            .aggregates(line)
            .map_err(|reason| ImportError::Invalid {
                line: line_number,
                id: Some(line.id.clone()),
                reason,
            })?;
        let metadata = HashMap::from([
            (
                "actor".to_owned(),
                line.actor.as_deref().unwrap_or(DEFAULT_ACTOR).to_owned(),
            ),
            ("command_id".to_owned(), line.id.clone()),
            (ENTRY_KEY.to_owned(), ENTRY_IMPORTED.to_owned()),
        ]);
        match aggregates
            .run(&line.aggregate_id, line.command.clone(), metadata)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind == ErrorKind::Refused => Err(ImportError::Refused {
                line: line_number,
                id: line.id.clone(),
                reason: e.detail,
            }),
            Err(e) => Err(ImportError::Failed {
                line: line_number,
                id: line.id.clone(),
                reason: e.detail,
            }),
        }
    }
}

/// Imports `input` into `ledger` (see [`Importer`]).
pub async fn import(
    store: Store,
    ledger: LedgerId,
    input: impl BufRead,
    progress: impl FnMut(Progress),
) -> Result<Imported, ImportError> {
    Importer::open(store, ledger)
        .await?
        .import(input, progress)
        .await
}

/// Imports the reference farm (its committed file,
/// [`windledger_fixtures::reference::IMPORT_FILE`]) into `ledger`.
pub async fn import_reference_farm(
    store: Store,
    ledger: LedgerId,
) -> Result<Imported, ImportError> {
    import(
        store,
        ledger,
        windledger_fixtures::reference::IMPORT_FILE.as_bytes(),
        |_| {},
    )
    .await
}

/// The ledger in which the demo and the tests keep the reference farm
/// ([`windledger_fixtures::reference::LEDGER`]).
pub fn reference_ledger() -> LedgerId {
    LedgerId::parse(windledger_fixtures::reference::LEDGER)
        .expect("the reference farm's ledger id is a valid id")
}

/// Imports the reference farm into [`reference_ledger`]: that ledger, and
/// what the import did.
pub async fn import_reference_ledger(store: Store) -> Result<(LedgerId, Imported), ImportError> {
    let ledger = reference_ledger();
    let imported = import_reference_farm(store, ledger.clone()).await?;
    Ok((ledger, imported))
}

#[cfg(test)]
mod tests {
    use windledger_domain::finance::FinancialYearCommand;

    use super::*;

    #[test]
    fn a_line_names_its_stream_and_its_command() {
        let line = ImportLine::parse(
            r#"{"id": "c1", "stream": "financial-year/2021", "actor": "operator",
                "command": {"command": "record_dividend_payment", "holder": "h1", "paid_on": "2021-07-15"}}"#,
        )
        .expect("a valid line");
        assert_eq!(line.id, "c1");
        assert_eq!(line.aggregate_id, "2021");
        assert_eq!(line.actor.as_deref(), Some("operator"));
        assert!(matches!(
            line.command,
            Command::FinancialYear(FinancialYearCommand::RecordDividendPayment { .. })
        ));
    }

    #[test]
    fn a_bad_line_says_what_is_wrong_with_it() {
        let reason = |text: &str| ImportLine::parse(text).expect_err("refused").reason;
        assert!(reason("{not json").contains("not an import line"));
        assert!(
            reason(r#"{"id": "c1", "stream": "board/x", "command": {"command": "close"}}"#)
                .contains("unknown stream type \"board\"")
        );
        assert!(
            reason(r#"{"id": "c1", "stream": "meeting/x", "command": {"command": "vote"}}"#)
                .contains("not a meeting command: unknown variant `vote`")
        );
        assert!(
            reason(r#"{"id": "c1", "stream": "financial-year/next", "command": {"command": "record_dividend_payment", "holder": "h1", "paid_on": "2021-07-15"}}"#)
                .contains("the year it ends in")
        );
        assert!(
            reason(r#"{"id": "", "stream": "company/x", "command": {}}"#)
                .contains("the id \"\" must be")
        );
        let error = ImportLine::parse(r#"{"id": "c9", "stream": "company", "command": {}}"#)
            .expect_err("refused");
        assert_eq!(error.id.as_deref(), Some("c9"));
    }

    #[test]
    fn a_command_naming_its_aggregate_must_be_sent_to_it() {
        let error = ImportLine::parse(
            r#"{"id": "c1", "stream": "financial-year/2021", "command": {"command": "open_year", "year": 2022, "starts_on": "2022-01-01", "ends_on": "2022-12-31", "opening_balances": null}}"#,
        )
        .expect_err("refused");
        assert!(
            error
                .reason
                .contains("names \"2022\" but is sent to \"2021\"")
        );
    }

    /// Every `json` block of docs/import.md is an import line, and every
    /// command of every aggregate has its example.
    #[test]
    fn the_documented_examples_are_import_lines() {
        let doc = include_str!("../../docs/import.md");
        let mut covered = std::collections::BTreeSet::new();
        for block in doc.split("```json\n").skip(1) {
            let block = block.split("```").next().unwrap_or_default();
            // One line in a file: the same object, compact.
            let value: serde_json::Value =
                serde_json::from_str(block).unwrap_or_else(|e| panic!("not JSON ({e}):\n{block}"));
            let line = ImportLine::parse(&value.to_string())
                .unwrap_or_else(|e| panic!("{}:\n{block}", e.reason));
            let kind = line.stream.as_str().split('/').next().unwrap_or_default();
            let name = value["command"]["command"].as_str().unwrap_or_default();
            covered.insert(format!("{kind} {name}"));
        }
        let expected = [
            "company incorporate",
            "company amend_charter",
            "company admit_shareholder",
            "company change_college",
            "company change_residence",
            "company change_club_members",
            "company record_exit",
            "company name_places",
            "company issue_shares",
            "company transfer_shares",
            "company repurchase_shares",
            "company cancel_shares",
            "company add_turbine",
            "company commission_turbine",
            "company repower_turbine",
            "company decommission_turbine",
            "meeting convene",
            "meeting open_voting",
            "meeting grant_proxy",
            "meeting revoke_proxy",
            "meeting cast_ballot",
            "meeting close",
            "meeting constitute_bureau",
            "meeting record_convocations",
            "meeting record_paper_proxy",
            "meeting record_postal_ballot",
            "meeting record_minutes",
            "meeting sign_minutes",
            "financial-year open_year",
            "financial-year report_production",
            "financial-year record_revenue",
            "financial-year record_cost",
            "financial-year assess_ifer",
            "financial-year record_local_tax",
            "financial-year approve_accounts",
            "financial-year appropriate_result",
            "financial-year declare_dividend",
            "financial-year decide_withholding",
            "financial-year record_dividend_payment",
            "current-account-advance grant",
            "current-account-advance repay",
            "current-account-advance accrue_interest",
            "current-account-advance decide_withholding",
            "current-account-advance pay_interest",
        ];
        let expected: std::collections::BTreeSet<String> =
            expected.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(covered, expected);
    }

    #[test]
    fn errors_name_the_line_and_the_command() {
        let error = ImportError::Refused {
            line: 12,
            id: "cmd-0012".to_owned(),
            reason: "no".to_owned(),
        };
        assert_eq!(error.to_string(), "line 12 (cmd-0012): refused: no");
        let error = ImportError::Invalid {
            line: 3,
            id: None,
            reason: "bad".to_owned(),
        };
        assert_eq!(error.to_string(), "line 3: bad");
    }
}
