//! Open Cap Format (OCF) 1.2.0 export of the cap table as of a date
//! (DESIGN.md 2.4). What is exported and how our concepts map onto OCF's is
//! in `docs/ocf.md`.
//!
//! [`export`] is pure: events in, files (name, JSON, exact bytes) out. The
//! manifest's MD5 sums are computed over the bytes held by each [`OcfFile`],
//! which are the bytes [`OcfPackage::write_dir`] and
//! [`OcfPackage::write_zip`] write, so they always match. Those two writers
//! are the only IO here, kept as thin as `std::fs::write`, for the shell.

mod fold;
mod objects;

use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use md5::{Digest, Md5};
use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;
use windledger_domain::company::CompanyEvent;

use objects::{FileRef, ItemsFile, Manifest};

/// The OCF release the export follows (the manifest's `ocf_version`).
pub const OCF_VERSION: &str = "1.2.0";
pub const MANIFEST_FILE: &str = "Manifest.ocf.json";
pub const STAKEHOLDERS_FILE: &str = "Stakeholders.ocf.json";
pub const STOCK_CLASSES_FILE: &str = "StockClasses.ocf.json";
pub const TRANSACTIONS_FILE: &str = "Transactions.ocf.json";

/// The stakeholder holding the company's own shares (actions
/// auto-détenues). Holder ids are prefixed with `sh-`, so no holder takes it.
pub const TREASURY_STAKEHOLDER_ID: &str = "issuer-treasury";

/// The OCF stakeholder id of a holder (`sh-<holder id>`).
pub fn stakeholder_id(holder: &windledger_domain::types::HolderId) -> String {
    fold::stakeholder_id(holder)
}

/// The OCF stock class id of a share class (`sc-<class id>`).
pub fn stock_class_id(class: &windledger_domain::types::ShareClassId) -> String {
    fold::stock_class_id(class)
}

/// Why the events cannot be exported. Each names the ledger position at
/// fault, so the history can be checked with `windledger verify`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OcfError {
    #[error(
        "the company is not incorporated on or before {as_of}: there is no cap table to export; pass the company stream's events, starting with CompanyIncorporated, and a date on or after the formation date"
    )]
    NotIncorporated { as_of: NaiveDate },
    #[error(
        "the event at position {position} comes after position {previous}: pass the company stream's events in ledger order, each once"
    )]
    OutOfOrder { position: u64, previous: u64 },
    #[error(
        "the event at position {position} takes effect on {date}, before {latest}: the company stream's effective dates never go back, so these are not its events in order"
    )]
    DateWentBack {
        position: u64,
        date: NaiveDate,
        latest: NaiveDate,
    },
    #[error("the event at position {position} does not follow from the events before it: {reason}")]
    Inconsistent { position: u64, reason: String },
    #[error(
        "the amount {amount} (event at position {position}) has more than 10 decimal places, which an OCF number cannot carry"
    )]
    TooPrecise { position: u64, amount: Decimal },
    #[error("{file} could not be serialised: {reason}")]
    Serialise { file: String, reason: String },
}

/// One file of a package: its name in the package, its JSON, and the exact
/// bytes written (pretty-printed UTF-8 with a final newline).
#[derive(Debug, Clone, PartialEq)]
pub struct OcfFile {
    name: String,
    json: serde_json::Value,
    bytes: Vec<u8>,
}

impl OcfFile {
    fn new(name: &str, value: &impl Serialize) -> Result<Self, OcfError> {
        let failed = |e: serde_json::Error| OcfError::Serialise {
            file: name.to_owned(),
            reason: e.to_string(),
        };
        let mut bytes = serde_json::to_vec_pretty(value).map_err(failed)?;
        bytes.push(b'\n');
        // Read back from the bytes, so that the JSON is what is written.
        let json = serde_json::from_slice(&bytes).map_err(failed)?;
        Ok(Self {
            name: name.to_owned(),
            json,
            bytes,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The MD5 of the bytes, in lowercase hex, as the manifest records it.
    pub fn md5(&self) -> String {
        hex_lower(&Md5::digest(&self.bytes))
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OCF package: the manifest first, then the files it names.
#[derive(Debug, Clone, PartialEq)]
pub struct OcfPackage {
    pub files: Vec<OcfFile>,
    /// Zip entries' modification time: the package's `generated_at`, so the
    /// archive depends on nothing but the export's inputs.
    generated_at: DateTime<Utc>,
}

impl OcfPackage {
    pub fn file(&self, name: &str) -> Option<&OcfFile> {
        self.files.iter().find(|f| f.name == name)
    }

    pub fn manifest(&self) -> Option<&OcfFile> {
        self.file(MANIFEST_FILE)
    }

    /// Writes every file into `dir` (created if missing), overwriting files
    /// of the same names.
    pub fn write_dir(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for file in &self.files {
            std::fs::write(dir.join(&file.name), &file.bytes)?;
        }
        Ok(())
    }

    /// The package as a `.ocf.zip` archive (deflate, files at the root),
    /// built in memory: the same inputs give the same bytes.
    pub fn to_zip(&self) -> io::Result<Vec<u8>> {
        let t = self.generated_at;
        let modified = u16::try_from(t.year())
            .ok()
            .and_then(|year| {
                let [month, day, hour, minute, second] =
                    [t.month(), t.day(), t.hour(), t.minute(), t.second()]
                        .map(|v| u8::try_from(v).unwrap_or(0));
                zip::DateTime::from_date_and_time(year, month, day, hour, minute, second).ok()
            })
            .unwrap_or_default();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(modified)
            .unix_permissions(0o644);
        let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for file in &self.files {
            zip.start_file(file.name.as_str(), options)?;
            zip.write_all(&file.bytes)?;
        }
        Ok(zip.finish()?.into_inner())
    }

    /// Writes [`OcfPackage::to_zip`] to `path` (name it `*.ocf.zip`).
    pub fn write_zip(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.to_zip()?)
    }
}

/// The OCF package of the company as it stood at the end of `as_of`.
///
/// `events` are the company stream's events with their ledger positions, in
/// ledger order; those effective after `as_of` are left out (effective dates
/// never go back, so they are a suffix). Object ids derive from the
/// positions, so an object keeps its id in every later export.
pub fn export(
    events: &[(u64, CompanyEvent)],
    as_of: NaiveDate,
    generated_at: DateTime<Utc>,
) -> Result<OcfPackage, OcfError> {
    let exported = fold::fold(events, as_of)?;
    let stakeholders = OcfFile::new(
        STAKEHOLDERS_FILE,
        &ItemsFile {
            file_type: "OCF_STAKEHOLDERS_FILE",
            items: &exported.stakeholders,
        },
    )?;
    let stock_classes = OcfFile::new(
        STOCK_CLASSES_FILE,
        &ItemsFile {
            file_type: "OCF_STOCK_CLASSES_FILE",
            items: &exported.stock_classes,
        },
    )?;
    let transactions = OcfFile::new(
        TRANSACTIONS_FILE,
        &ItemsFile {
            file_type: "OCF_TRANSACTIONS_FILE",
            items: &exported.transactions,
        },
    )?;
    let named = |file: &OcfFile| {
        vec![FileRef {
            filepath: file.name.clone(),
            md5: file.md5(),
        }]
    };
    let manifest = OcfFile::new(
        MANIFEST_FILE,
        &Manifest {
            ocf_version: OCF_VERSION,
            file_type: "OCF_MANIFEST_FILE",
            issuer: exported.issuer,
            as_of,
            generated_at: generated_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            comments: exported.comments,
            stakeholders_files: named(&stakeholders),
            stock_classes_files: named(&stock_classes),
            transactions_files: named(&transactions),
            stock_plans_files: Vec::new(),
            stock_legend_templates_files: Vec::new(),
            vesting_terms_files: Vec::new(),
            valuations_files: Vec::new(),
        },
    )?;
    Ok(OcfPackage {
        files: vec![manifest, stakeholders, stock_classes, transactions],
        generated_at,
    })
}
