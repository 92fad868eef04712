//! An Open Cap Format (OCF) 1.2.0 package validator for the tests, against
//! the official JSON schemas kept in the repository
//! (`third_party/ocf-1.2.0/schema`, draft 7): the tests need nothing beside
//! the repository, and every `$ref` is answered from that folder, offline.
//!
//! It checks what the shared validator (`shared/tools/validate-ocf`, Python)
//! checks, in the same order and with the same sentences where it can:
//!
//! 1. the manifest against `files/OCFManifestFile.schema.json`, and its
//!    `ocf_version` against the schemas';
//! 2. every file the manifest names: a relative path inside the package,
//!    present, JSON, `file_type` matching the manifest list naming it, the
//!    wrapper valid against its `files/*.schema.json`, MD5 equal to the
//!    manifest's;
//! 3. every item against the object schema its `object_type` chooses
//!    (`objects/**`), and that the type belongs in that kind of file;
//! 4. cross references: ids unique per object type, and the ids objects point
//!    to exist (`stakeholder_id`, `stock_class_id`, `issuer_id`,
//!    `balance_security_id`, `resulting_security_ids`, ... see [`REF_RULES`]);
//! 5. OCF's rules for securities: a `security_id` is created by one issuance
//!    and closed by at most one terminal transaction; the balance security
//!    stays with the same holder and class; for stock transfers,
//!    cancellations and repurchases the quantities add up.
//!
//! Included with `#[path]` by `projections/tests/projections/main.rs` and
//! `cli/tests/cli/export.rs`: a test helper, not a product dependency.
#![allow(dead_code)] // Each test binary uses part of it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use md5::{Digest, Md5};
use rust_decimal::Decimal;
use serde_json::Value;

pub const MANIFEST_FILE_TYPE: &str = "OCF_MANIFEST_FILE";

/// Which manifest list names which kind of file.
const MANIFEST_FILE_LISTS: [(&str, &str); 9] = [
    ("stakeholders_files", "OCF_STAKEHOLDERS_FILE"),
    ("stock_classes_files", "OCF_STOCK_CLASSES_FILE"),
    (
        "stock_legend_templates_files",
        "OCF_STOCK_LEGEND_TEMPLATES_FILE",
    ),
    ("stock_plans_files", "OCF_STOCK_PLANS_FILE"),
    ("vesting_terms_files", "OCF_VESTING_TERMS_FILE"),
    ("valuations_files", "OCF_VALUATIONS_FILE"),
    ("financings_files", "OCF_FINANCINGS_FILE"),
    ("documents_files", "OCF_DOCUMENTS_FILE"),
    ("transactions_files", "OCF_TRANSACTIONS_FILE"),
];

const MAX_JSON_BYTES: u64 = 256 * 1024 * 1024;

/// What a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The id of an object of this `object_type`.
    Object(&'static str),
    /// A `security_id` created by an issuance.
    Security,
    /// The id of an issuance transaction.
    IssuanceTx,
}

/// A property (anywhere inside an object) and what its value(s) must name.
const REF_RULES: [(&str, Target); 16] = [
    ("stakeholder_id", Target::Object("STAKEHOLDER")),
    ("stock_class_id", Target::Object("STOCK_CLASS")),
    ("stock_class_ids", Target::Object("STOCK_CLASS")),
    ("converts_to_stock_class_id", Target::Object("STOCK_CLASS")),
    ("include_stock_class_ids", Target::Object("STOCK_CLASS")),
    ("stock_plan_id", Target::Object("STOCK_PLAN")),
    ("include_stock_plans_ids", Target::Object("STOCK_PLAN")),
    ("vesting_terms_id", Target::Object("VESTING_TERMS")),
    ("stock_legend_ids", Target::Object("STOCK_LEGEND_TEMPLATE")),
    ("issuer_id", Target::Object("ISSUER")),
    ("balance_security_id", Target::Security),
    ("resulting_security_ids", Target::Security),
    ("include_security_ids", Target::Security),
    ("exclude_security_ids", Target::Security),
    ("issuance_ids", Target::IssuanceTx),
    (
        "split_transaction_id",
        Target::Object("TX_STOCK_CLASS_SPLIT"),
    ),
];

/// Security families, from the `object_type` prefix of a transaction; the
/// stock plan and stock class transactions carry no security of a family.
const FAMILY_PREFIXES: [(&str, Option<&str>); 7] = [
    ("TX_EQUITY_COMPENSATION_", Some("EQUITY_COMPENSATION")),
    ("TX_PLAN_SECURITY_", Some("EQUITY_COMPENSATION")),
    ("TX_CONVERTIBLE_", Some("CONVERTIBLE")),
    ("TX_WARRANT_", Some("WARRANT")),
    ("TX_STOCK_PLAN_", None),
    ("TX_STOCK_CLASS_", None),
    ("TX_STOCK_", Some("STOCK")), // after the two above
];

/// Transactions whose resulting securities are of the source's family.
const SAME_FAMILY_RESULTS: [&str; 2] = ["_TRANSFER", "_REISSUANCE"];

/// The schema folders of the transactions that close a security.
const TERMINAL_CATEGORIES: [&str; 8] = [
    "transactions/cancellation",
    "transactions/conversion",
    "transactions/exercise",
    "transactions/repurchase",
    "transactions/reissuance",
    "transactions/transfer",
    "transactions/release",
    "transactions/retraction",
];

const STOCK_DISPOSALS: [&str; 3] = [
    "TX_STOCK_TRANSFER",
    "TX_STOCK_CANCELLATION",
    "TX_STOCK_REPURCHASE",
];

fn family_of(object_type: &str) -> Option<&'static str> {
    FAMILY_PREFIXES
        .iter()
        .find(|(prefix, _)| object_type.starts_with(prefix))
        .and_then(|(_, family)| *family)
}

/// The schema folder in the repository, from either crate's folder (both
/// sit at the workspace's root).
pub fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../third_party/ocf-1.2.0/schema")
}

/// A value in a message: strings quoted, long values cut.
fn short(value: &Value) -> String {
    let text = value.to_string();
    clip(&text, 80)
}

fn short_str(value: &str) -> String {
    short(&Value::String(value.to_owned()))
}

fn clip(text: &str, limit: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= limit {
        return text;
    }
    let kept: String = text.chars().take(limit - 3).collect();
    format!("{kept}...")
}

/// `$.items[3].quantity` from a JSON pointer (`/items/3/quantity`).
fn json_path(pointer: &str) -> String {
    let mut out = "$".to_owned();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            out.push('.');
            out.push_str(&segment);
        }
    }
    out
}

fn join_path(path: &[String]) -> String {
    let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
    json_path(&pointer)
}

pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// --- Schemas. ---

/// Answers every `$ref` from the schemas read from the folder.
struct LocalSchemas(Arc<HashMap<String, Value>>);

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0.get(uri.as_str()).cloned().ok_or_else(|| {
            format!("{uri} is none of the OCF schemas in the repository (offline)").into()
        })
    }
}

/// The OCF schemas of a folder, indexed by file type and object type; the
/// validators are compiled when first needed.
pub struct Schemas {
    /// `$id` -> schema.
    by_id: Arc<HashMap<String, Value>>,
    /// `$id` -> path relative to the folder.
    rel_of: HashMap<String, String>,
    /// `file_type` -> `$id` of the file schema.
    file_schema: HashMap<String, String>,
    /// `object_type` -> `$id` of the object schema.
    object_schema: HashMap<String, String>,
    /// `file_type` -> the object types its items schema lists.
    allowed_in_file: HashMap<String, BTreeSet<String>>,
    /// The OCF version the manifest schema requires.
    pub version: String,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// The repository's schemas, read once per test binary.
pub fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas::load(&schema_dir()).unwrap_or_else(|e| panic!("{e}")))
}

fn json_files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            json_files_under(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

impl Schemas {
    pub fn load(dir: &Path) -> Result<Self, String> {
        let manifest_schema = dir.join("files/OCFManifestFile.schema.json");
        if !manifest_schema.is_file() {
            return Err(format!(
                "no OCF schemas at {} (expected {})",
                dir.display(),
                manifest_schema.display()
            ));
        }
        let mut paths = Vec::new();
        json_files_under(dir, &mut paths).map_err(|e| format!("{}: {e}", dir.display()))?;
        paths.sort();
        let mut by_id = HashMap::new();
        let mut rel_of = HashMap::new();
        for path in paths {
            let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let contents: Value = serde_json::from_slice(&text)
                .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
            let Some(id) = contents.get("$id").and_then(Value::as_str) else {
                continue;
            };
            let rel = path
                .strip_prefix(dir)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            rel_of.insert(id.to_owned(), rel);
            by_id.insert(id.to_owned(), contents);
        }

        let mut file_schema = HashMap::new();
        let mut object_schema = HashMap::new();
        let mut enum_alias: BTreeMap<String, String> = BTreeMap::new();
        let mut ids: Vec<&String> = rel_of.keys().collect();
        ids.sort_by_key(|id| &rel_of[*id]);
        for id in ids {
            let rel = &rel_of[id];
            let props = &by_id[id]["properties"];
            if rel.starts_with("files/") {
                if let Some(ft) = props["file_type"]["const"].as_str() {
                    file_schema.insert(ft.to_owned(), id.clone());
                }
            } else if rel.starts_with("objects/") {
                let ot = &props["object_type"];
                if let Some(c) = ot["const"].as_str() {
                    object_schema.insert(c.to_owned(), id.clone());
                }
                for alias in ot["enum"].as_array().into_iter().flatten() {
                    if let Some(alias) = alias.as_str() {
                        enum_alias
                            .entry(alias.to_owned())
                            .or_insert_with(|| id.clone());
                    }
                }
            }
        }
        for (alias, id) in enum_alias {
            object_schema.entry(alias).or_insert(id);
        }

        let manifest_id = file_schema
            .get(MANIFEST_FILE_TYPE)
            .ok_or_else(|| format!("no schema in {} for {MANIFEST_FILE_TYPE}", dir.display()))?;
        let version = by_id[manifest_id]["properties"]["ocf_version"]["const"]
            .as_str()
            .unwrap_or("?")
            .to_owned();

        let mut allowed_in_file = HashMap::new();
        for (ft, id) in &file_schema {
            let items = &by_id[id]["properties"]["items"]["items"];
            let refs: Vec<&Value> = if items.get("$ref").is_some() {
                vec![&items["$ref"]]
            } else {
                ["oneOf", "anyOf"]
                    .iter()
                    .flat_map(|k| items[*k].as_array().into_iter().flatten())
                    .map(|alt| &alt["$ref"])
                    .collect()
            };
            let mut allowed = BTreeSet::new();
            for r in refs.into_iter().filter_map(Value::as_str) {
                let ot = by_id
                    .get(r)
                    .map_or(&Value::Null, |s| &s["properties"]["object_type"]);
                if let Some(c) = ot["const"].as_str() {
                    allowed.insert(c.to_owned());
                }
                for alias in ot["enum"].as_array().into_iter().flatten() {
                    if let Some(alias) = alias.as_str() {
                        allowed.insert(alias.to_owned());
                    }
                }
            }
            allowed_in_file.insert(ft.clone(), allowed);
        }

        Ok(Self {
            by_id: Arc::new(by_id),
            rel_of,
            file_schema,
            object_schema,
            allowed_in_file,
            version,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// `objects/transactions/issuance/StockIssuance.schema.json` ->
    /// `transactions/issuance`.
    fn category(&self, object_type: &str) -> String {
        let rel = self
            .object_schema
            .get(object_type)
            .and_then(|id| self.rel_of.get(id))
            .map_or("", String::as_str);
        rel.strip_prefix("objects/")
            .and_then(|r| r.rsplit_once('/'))
            .map_or_else(String::new, |(folder, _)| folder.to_owned())
    }

    fn validator(&self, id: &str) -> Result<Arc<jsonschema::Validator>, String> {
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(v) = validators.get(id) {
            return Ok(Arc::clone(v));
        }
        let schema = self
            .by_id
            .get(id)
            .ok_or_else(|| format!("no schema {id}"))?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .with_format("date", is_date)
            .with_format("date-time", is_date_time)
            .with_retriever(LocalSchemas(Arc::clone(&self.by_id)))
            .build(schema)
            .map_err(|e| {
                format!(
                    "schema {} does not compile offline: {e}; is the schema folder complete?",
                    self.rel_of.get(id).map_or(id, String::as_str)
                )
            })?;
        let validator = Arc::new(validator);
        validators.insert(id.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }

    /// A sentence per schema error, `at $.path: message`, sorted, each once.
    fn errors(&self, id: &str, instance: &Value) -> Result<Vec<String>, String> {
        let validator = self.validator(id)?;
        let mut out: Vec<(String, String)> = validator
            .iter_errors(instance)
            .map(|error| {
                let at = json_path(error.instance_path().as_str());
                let alternatives = match error.kind() {
                    jsonschema::error::ValidationErrorKind::OneOfNotValid { context } => {
                        Some(("oneOf", context))
                    }
                    jsonschema::error::ValidationErrorKind::AnyOf { context } => {
                        Some(("anyOf", context))
                    }
                    _ => None,
                };
                let closest = alternatives.and_then(|(keyword, context)| {
                    context
                        .iter()
                        .filter(|errors| !errors.is_empty())
                        .min_by_key(|errors| errors.len())
                        .map(|errors| (keyword, &errors[0]))
                });
                let message = match closest {
                    Some((keyword, e)) => format!(
                        "matches none of the {keyword} alternatives (closest: at {}: {})",
                        json_path(e.instance_path().as_str()),
                        clip(&e.to_string(), 300)
                    ),
                    None => clip(&error.to_string(), 300),
                };
                (at, message)
            })
            .collect();
        out.sort();
        out.dedup();
        Ok(out
            .into_iter()
            .map(|(at, message)| format!("at {at}: {message}"))
            .collect())
    }
}

/// `YYYY-MM-DD`, a day of the calendar.
fn is_date(text: &str) -> bool {
    text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// `digits` ASCII digits at the start of `text`, and the rest.
fn number(text: &str, digits: usize) -> Option<(u32, &str)> {
    let head = text.get(..digits)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &text[digits..]))
}

/// RFC 3339 `date-time` as the shared validator and upstream's ajv-formats
/// take it: `T`, `t` or a space between date and time, fractions of a
/// second of any length, a time zone required (`Z`, `z` or `+hh:mm`), no
/// leap second.
fn is_date_time(text: &str) -> bool {
    let Some((date, rest)) = text.split_at_checked(10) else {
        return false;
    };
    let Some(rest) = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))
    else {
        return false;
    };
    let time = || -> Option<()> {
        let (hour, rest) = number(rest, 2)?;
        let (minute, rest) = number(rest.strip_prefix(':')?, 2)?;
        let (second, mut rest) = number(rest.strip_prefix(':')?, 2)?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            rest = &fraction[digits..];
        }
        if rest == "Z" || rest == "z" {
            return Some(());
        }
        let offset = rest.strip_prefix('+').or_else(|| rest.strip_prefix('-'))?;
        let (hours, offset) = number(offset, 2)?;
        let (minutes, offset) = number(offset.strip_prefix(':')?, 2)?;
        (offset.is_empty() && hours < 24 && minutes < 60).then_some(())
    };
    is_date(date) && time().is_some()
}

// --- Packages. ---

enum Source {
    /// A folder, read when a file is asked for.
    Dir(PathBuf),
    /// Files in memory (a zip's entries, or given by a test); the names of
    /// entries too large to read.
    Memory {
        files: BTreeMap<String, Vec<u8>>,
        too_large: BTreeSet<String>,
    },
}

/// A folder or a zip; names inside are relative POSIX paths.
pub struct Package {
    source: Source,
    /// The manifest, when the path given was the manifest file itself.
    forced_manifest: Option<String>,
    what: String,
}

impl Package {
    /// A folder, a `.ocf.zip`, or the manifest file of a folder.
    pub fn open(path: &Path) -> Result<Self, String> {
        let what = path.display().to_string();
        if path.is_dir() {
            return Ok(Self {
                source: Source::Dir(path.to_owned()),
                forced_manifest: None,
                what,
            });
        }
        if !path.is_file() {
            return Err(format!("{what} is not a directory, a zip file or a file"));
        }
        let file = std::fs::File::open(path).map_err(|e| format!("{what}: {e}"))?;
        match zip::ZipArchive::new(file) {
            Ok(mut archive) => {
                let mut files = BTreeMap::new();
                let mut too_large = BTreeSet::new();
                for i in 0..archive.len() {
                    let mut entry = archive
                        .by_index(i)
                        .map_err(|e| format!("bad zip file {what}: {e}"))?;
                    let name = entry
                        .name()
                        .map_err(|e| format!("bad zip file {what}: {e}"))?
                        .into_owned();
                    if entry.is_dir()
                        || name.starts_with("__MACOSX/")
                        || format!("/{name}").contains("/.")
                    {
                        continue;
                    }
                    if entry.size() > MAX_JSON_BYTES {
                        too_large.insert(name);
                        continue;
                    }
                    let mut bytes = Vec::new();
                    entry
                        .read_to_end(&mut bytes)
                        .map_err(|e| format!("bad zip file {what}: {name}: {e}"))?;
                    files.insert(name, bytes);
                }
                Ok(Self {
                    source: Source::Memory { files, too_large },
                    forced_manifest: None,
                    what,
                })
            }
            Err(_)
                if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("zip")) =>
            {
                Err(format!("{what} is not a readable zip archive"))
            }
            Err(_) => {
                let parent = path.parent().unwrap_or(Path::new("."));
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Ok(Self {
                    source: Source::Dir(parent.to_owned()),
                    forced_manifest: Some(name),
                    what,
                })
            }
        }
    }

    /// Files given by name (a package built by a test).
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Self {
        Self {
            source: Source::Memory {
                files: files.into_iter().collect(),
                too_large: BTreeSet::new(),
            },
            forced_manifest: None,
            what: "the package in memory".to_owned(),
        }
    }

    fn names(&self) -> Vec<String> {
        match &self.source {
            Source::Dir(root) => {
                let mut out = Vec::new();
                walk_dir(root, "", &mut out);
                out
            }
            Source::Memory { files, too_large } => {
                let mut names: Vec<String> = files.keys().chain(too_large).cloned().collect();
                names.sort();
                names
            }
        }
    }

    /// The bytes of `name`, `None` if absent; an error if too large.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let too_large = || format!("file is larger than {MAX_JSON_BYTES} bytes");
        match &self.source {
            Source::Dir(root) => {
                let full = root.join(name);
                let Ok(meta) = std::fs::metadata(&full) else {
                    return Ok(None);
                };
                if !meta.is_file() {
                    return Ok(None);
                }
                if meta.len() > MAX_JSON_BYTES {
                    return Err(too_large());
                }
                std::fs::read(&full).map(Some).map_err(|e| e.to_string())
            }
            Source::Memory {
                files,
                too_large: big,
            } => {
                if big.contains(name) {
                    return Err(too_large());
                }
                Ok(files.get(name).cloned())
            }
        }
    }

    /// The manifest(s) nearest the package's root (normally exactly one).
    fn find_manifests(&self) -> Vec<String> {
        if let Some(name) = &self.forced_manifest {
            return vec![name.clone()];
        }
        let mut by_depth: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for name in self.names() {
            if name.to_ascii_lowercase().ends_with(".json") {
                by_depth
                    .entry(name.matches('/').count())
                    .or_default()
                    .push(name);
            }
        }
        for names in by_depth.values() {
            let found: Vec<String> = names
                .iter()
                .filter(|name| {
                    let Ok(Some(bytes)) = self.read(name) else {
                        return false;
                    };
                    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
                    serde_json::from_slice::<Value>(bytes)
                        .is_ok_and(|v| v["file_type"] == MANIFEST_FILE_TYPE)
                })
                .cloned()
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }
}

/// Every file under `dir`, as relative POSIX names, skipping hidden folders.
fn walk_dir(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            if !name.starts_with('.') {
                walk_dir(&path, &format!("{prefix}{name}/"), out);
            }
        } else {
            out.push(format!("{prefix}{name}"));
        }
    }
}

/// A manifest-relative `filepath` as a name in the package, or `None` if it
/// is not a relative path inside the package.
fn resolve_in_package(manifest: &str, filepath: &Value) -> Option<String> {
    let filepath = filepath.as_str()?;
    if filepath.is_empty() || filepath.starts_with('/') || filepath.contains('\\') {
        return None;
    }
    // A URL or a drive letter.
    if let Some((scheme, _)) = filepath.split_once(':') {
        let mut chars = scheme.chars();
        if chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            return None;
        }
    }
    let folder = manifest.rsplit_once('/').map_or("", |(folder, _)| folder);
    let mut parts: Vec<&str> = Vec::new();
    for part in folder.split('/').chain(filepath.split('/')) {
        match part {
            "" | "." => {}
            // Out of the package.
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

// --- The report. ---

#[derive(Debug, Default)]
struct Unit {
    label: String,
    failures: Vec<String>,
    warnings: Vec<String>,
}

/// One unit per thing checked (the manifest, each named file, each item),
/// with its failures and warnings.
#[derive(Debug, Default)]
pub struct Report {
    units: Vec<Unit>,
    index: HashMap<String, usize>,
    notes: Vec<String>,
}

impl Report {
    fn unit(&mut self, label: &str) -> &mut Unit {
        let i = *self.index.entry(label.to_owned()).or_insert_with(|| {
            self.units.push(Unit {
                label: label.to_owned(),
                ..Unit::default()
            });
            self.units.len() - 1
        });
        &mut self.units[i]
    }

    fn fail(&mut self, label: &str, message: impl Into<String>) {
        self.unit(label).failures.push(message.into());
    }

    fn warn(&mut self, label: &str, message: impl Into<String>) {
        self.unit(label).warnings.push(message.into());
    }

    pub fn passed(&self) -> usize {
        self.units.iter().filter(|u| u.failures.is_empty()).count()
    }

    pub fn failed(&self) -> usize {
        self.units.len() - self.passed()
    }

    /// `label: problem`, one per problem found.
    pub fn failures(&self) -> Vec<String> {
        self.units
            .iter()
            .flat_map(|u| u.failures.iter().map(move |f| format!("{}: {f}", u.label)))
            .collect()
    }

    pub fn warnings(&self) -> Vec<String> {
        self.units
            .iter()
            .flat_map(|u| u.warnings.iter().map(move |w| format!("{}: {w}", u.label)))
            .collect()
    }

    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in self.failures() {
            writeln!(f, "FAIL {failure}")?;
        }
        for warning in self.warnings() {
            writeln!(f, "WARN {warning}")?;
        }
        for note in &self.notes {
            writeln!(f, "NOTE {note}")?;
        }
        let warnings = self.warnings().len();
        if warnings > 0 {
            writeln!(f, "{warnings} warning(s)")?;
        }
        write!(f, "{}", self.summary())
    }
}

// --- The checks. ---

/// The package at `path` (a folder, a `.ocf.zip` or a manifest file)
/// against the repository's schemas; `Err` if it cannot be read at all.
pub fn validate_path(path: &Path) -> Result<Report, String> {
    validate(&Package::open(path)?, schemas())
}

/// Panics with every problem unless the package at `path` passes every
/// check; returns the report (for its counts).
pub fn assert_valid(path: &Path) -> Report {
    let report = validate_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        report.failed(),
        0,
        "the OCF package {} fails:\n{report}",
        path.display()
    );
    println!("OCF validator, {}: {}", path.display(), report.summary());
    report
}

fn load_json(
    package: &Package,
    name: &str,
    report: &mut Report,
    label: &str,
) -> (Option<Vec<u8>>, Option<Value>) {
    let raw = match package.read(name) {
        Ok(Some(raw)) => raw,
        Ok(None) => {
            report.fail(label, "file not found in the package");
            return (None, None);
        }
        Err(e) => {
            report.fail(label, e);
            return (None, None);
        }
    };
    if let Err(e) = std::str::from_utf8(&raw) {
        report.fail(label, format!("not UTF-8 text: {e}"));
        return (Some(raw), None);
    }
    match serde_json::from_slice(&raw) {
        Ok(data) => (Some(raw), Some(data)),
        Err(e) => {
            report.fail(label, format!("not valid JSON: {e}"));
            (Some(raw), None)
        }
    }
}

fn item_label(file: &str, index: usize, item: &Value) -> String {
    if item.is_object() {
        let ot = item["object_type"].as_str().unwrap_or("?");
        let id = if item["id"].is_null() {
            "?".to_owned()
        } else {
            clip(&item["id"].to_string(), 60)
        };
        format!("{file} item[{index}] {ot} id={id}")
    } else {
        format!("{file} item[{index}]")
    }
}

/// An object to check across the package: (label, object).
type Objects = Vec<(String, Value)>;

pub fn validate(package: &Package, schemas: &Schemas) -> Result<Report, String> {
    let mut report = Report::default();
    let manifests = package.find_manifests();
    let manifest_name = match manifests.as_slice() {
        [] => {
            return Err(format!(
                "no OCF manifest (file_type {MANIFEST_FILE_TYPE}) found in {}",
                package.what
            ));
        }
        [one] => one.clone(),
        several => {
            return Err(format!(
                "several manifests in {}: {}",
                package.what,
                several.join(", ")
            ));
        }
    };
    let mlabel = format!("manifest {manifest_name}");
    report.unit(&mlabel);
    let (_, manifest) = load_json(package, &manifest_name, &mut report, &mlabel);
    let Some(manifest) = manifest else {
        return Ok(report);
    };

    for message in schemas.errors(&schemas.file_schema[MANIFEST_FILE_TYPE], &manifest)? {
        report.fail(&mlabel, message);
    }
    let declared = &manifest["ocf_version"];
    if !declared.is_null() && declared.as_str() != Some(schemas.version.as_str()) {
        report.fail(
            &mlabel,
            format!(
                "the manifest declares ocf_version {} but these schemas are OCF {}",
                short(declared),
                schemas.version
            ),
        );
    }

    let mut objects: Objects = Vec::new();
    if manifest["issuer"].is_object() {
        objects.push((mlabel.clone(), manifest["issuer"].clone()));
    }

    // package name -> the manifest list naming it (None: the manifest)
    let mut listed: HashMap<String, Option<&str>> = HashMap::new();
    listed.insert(manifest_name.clone(), None);
    for (list_name, expected_ft) in MANIFEST_FILE_LISTS {
        let Some(entries) = manifest[list_name].as_array() else {
            continue;
        };
        for (n, entry) in entries.iter().enumerate() {
            if !entry.is_object() {
                continue; // the manifest schema reported it
            }
            let filepath = &entry["filepath"];
            let Some(name) = resolve_in_package(&manifest_name, filepath) else {
                let label = match filepath.as_str() {
                    Some(path) => format!("file {path}"),
                    None => format!("file {}", short(filepath)),
                };
                report.fail(
                    &label,
                    format!(
                        "{list_name}[{n}].filepath {} is not a relative path inside the package",
                        short(filepath)
                    ),
                );
                continue;
            };
            let flabel = format!("file {name}");
            if let Some(previous) = listed.get(&name) {
                match previous {
                    Some(previous) if *previous == list_name => report.warn(
                        &flabel,
                        format!("named more than once in the manifest's {list_name}; checked once"),
                    ),
                    Some(previous) => report.fail(
                        &flabel,
                        format!(
                            "named in the manifest's {previous} and also in its {list_name}; a file holds one file_type"
                        ),
                    ),
                    None => report.fail(
                        &flabel,
                        format!("the manifest's {list_name} names the manifest itself"),
                    ),
                }
                continue;
            }
            listed.insert(name.clone(), Some(list_name));
            report.unit(&flabel);
            let (raw, data) = load_json(package, &name, &mut report, &flabel);
            let (Some(raw), Some(data)) = (raw, data) else {
                continue;
            };
            if let Some(md5) = entry["md5"].as_str() {
                let actual = md5_hex(&raw);
                if actual != md5.to_ascii_lowercase() {
                    report.fail(
                        &flabel,
                        format!("md5 is {actual} but the manifest says {md5}"),
                    );
                }
            }
            if !data.is_object() {
                report.fail(&flabel, "top level is not a JSON object");
                continue;
            }
            let ft = &data["file_type"];
            if ft.as_str() != Some(expected_ft) {
                report.fail(
                    &flabel,
                    format!(
                        "file_type is {} but it is listed in the manifest's {list_name} (expects {expected_ft})",
                        short(ft)
                    ),
                );
            }
            let schema_ft = match ft.as_str() {
                Some(ft) if ft != MANIFEST_FILE_TYPE && schemas.file_schema.contains_key(ft) => ft,
                _ => expected_ft,
            };
            // The wrapper: everything but the items, checked one by one below.
            let mut wrapper = data.clone();
            if wrapper["items"].is_array() {
                wrapper["items"] = Value::Array(Vec::new());
            }
            for message in schemas.errors(&schemas.file_schema[schema_ft], &wrapper)? {
                report.fail(&flabel, message);
            }
            let Some(items) = data["items"].as_array() else {
                continue;
            };
            let empty = BTreeSet::new();
            let allowed = schemas.allowed_in_file.get(schema_ft).unwrap_or(&empty);
            for (i, item) in items.iter().enumerate() {
                let ilabel = item_label(&name, i, item);
                report.unit(&ilabel);
                if !item.is_object() {
                    report.fail(&ilabel, "item is not a JSON object");
                    continue;
                }
                let ot = &item["object_type"];
                let Some((ot, id)) = ot
                    .as_str()
                    .and_then(|ot| schemas.object_schema.get(ot).map(|id| (ot, id)))
                else {
                    report.fail(&ilabel, format!("unknown object_type {}", short(ot)));
                    continue;
                };
                if !allowed.contains(ot) {
                    if schema_ft == "OCF_TRANSACTIONS_FILE"
                        && schemas.category(ot).starts_with("transactions")
                    {
                        report.warn(
                            &ilabel,
                            format!(
                                "{ot} is not among the types listed by {} (upstream list incomplete); checked against {}",
                                schemas.rel_of[&schemas.file_schema[schema_ft]],
                                schemas.rel_of[id]
                            ),
                        );
                    } else {
                        report.fail(
                            &ilabel,
                            format!("object_type {ot} does not belong in a {schema_ft}"),
                        );
                    }
                }
                for message in schemas.errors(id, item)? {
                    report.fail(&ilabel, message);
                }
                objects.push((ilabel, item.clone()));
            }
        }
    }

    // Files beside the manifest that it does not name.
    let folder = manifest_name
        .rsplit_once('/')
        .map_or("", |(folder, _)| folder);
    for name in package.names() {
        let inside = folder.is_empty() || name.starts_with(&format!("{folder}/"));
        if name.to_ascii_lowercase().ends_with(".json") && !listed.contains_key(&name) && inside {
            report.notes.push(format!(
                "{name} is in the package but not named by the manifest (not checked)"
            ));
        }
    }

    check_references(&objects, schemas, &mut report);
    Ok(report)
}

/// What an issuance says of the security it creates.
struct Security {
    family: Option<&'static str>,
    date: Value,
    label: String,
    stakeholder: Value,
    stock_class: Value,
    /// For stock issuances.
    quantity: Option<Decimal>,
}

fn decimal(value: &Value) -> Option<Decimal> {
    value.as_str().and_then(|s| Decimal::from_str(s).ok())
}

/// Calls `visit(key, value, path)` for every property of every object in
/// `node`, depth first.
fn walk(node: &Value, path: &mut Vec<String>, visit: &mut dyn FnMut(&str, &Value, &[String])) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                path.push(key.clone());
                visit(key, value, path);
                walk(value, path, visit);
                path.pop();
            }
        }
        Value::Array(values) => {
            for (i, value) in values.iter().enumerate() {
                path.push(i.to_string());
                walk(value, path, visit);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Unique ids, references that resolve, and OCF's rules for securities.
fn check_references(objects: &Objects, schemas: &Schemas, report: &mut Report) {
    let mut ids_by_type: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut securities: HashMap<String, Security> = HashMap::new();
    let mut issuance_tx_ids: HashSet<String> = HashSet::new();

    // Pass 1: the ids.
    for (label, obj) in objects {
        let (Some(id), Some(ot)) = (obj["id"].as_str(), obj["object_type"].as_str()) else {
            continue;
        };
        let of_type = ids_by_type.entry(ot.to_owned()).or_default();
        if let Some(first) = of_type.get(id) {
            report.fail(
                label,
                format!("duplicate id {} (also used by {first})", short_str(id)),
            );
        } else {
            of_type.insert(id.to_owned(), label.clone());
        }
        if schemas.category(ot) == "transactions/issuance" {
            issuance_tx_ids.insert(id.to_owned());
            if let Some(security) = obj["security_id"].as_str() {
                if let Some(first) = securities.get(security) {
                    report.fail(
                        label,
                        format!(
                            "security_id {} is already created by {}",
                            short_str(security),
                            first.label
                        ),
                    );
                } else {
                    securities.insert(
                        security.to_owned(),
                        Security {
                            family: family_of(ot),
                            date: obj["date"].clone(),
                            label: label.clone(),
                            stakeholder: obj["stakeholder_id"].clone(),
                            stock_class: obj["stock_class_id"].clone(),
                            quantity: if ot == "TX_STOCK_ISSUANCE" {
                                decimal(&obj["quantity"])
                            } else {
                                None
                            },
                        },
                    );
                }
            }
        }
    }

    let exists = |target: Target, value: &str| match target {
        Target::Security => securities.contains_key(value),
        Target::IssuanceTx => issuance_tx_ids.contains(value),
        Target::Object(ot) => ids_by_type
            .get(ot)
            .is_some_and(|ids| ids.contains_key(value)),
    };
    let describe = |target: Target| match target {
        Target::Security => "a security_id created by any issuance".to_owned(),
        Target::IssuanceTx => "the id of any issuance transaction".to_owned(),
        Target::Object(ot) => format!("the id of any {ot}"),
    };

    // security_id -> the terminal transaction that closed it
    let mut closed_by: HashMap<String, String> = HashMap::new();

    // Pass 2: references and the rules for securities.
    for (label, obj) in objects {
        let ot = obj["object_type"].as_str().unwrap_or("");

        let mut dangling = Vec::new();
        walk(obj, &mut Vec::new(), &mut |key, value, path| {
            let Some((_, target)) = REF_RULES.iter().find(|(k, _)| *k == key) else {
                return;
            };
            let values: Vec<(Option<usize>, &Value)> = match value.as_array() {
                Some(values) => values
                    .iter()
                    .enumerate()
                    .map(|(j, v)| (Some(j), v))
                    .collect(),
                None => vec![(None, value)],
            };
            for (j, v) in values {
                if let Some(v) = v.as_str().filter(|v| !exists(*target, v)) {
                    let mut path = path.to_vec();
                    path.extend(j.map(|j| j.to_string()));
                    dangling.push(format!(
                        "at {}: {} is not {} in this package",
                        join_path(&path),
                        short_str(v),
                        describe(*target)
                    ));
                }
            }
        });
        for message in dangling {
            report.fail(label, message);
        }

        // Document.related_objects: [{object_type, object_id}]
        for (k, related) in obj["related_objects"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let (Some(id), Some(rot)) = (
                related["object_id"].as_str(),
                related["object_type"].as_str(),
            ) && !ids_by_type.get(rot).is_some_and(|ids| ids.contains_key(id))
            {
                report.fail(
                    label,
                    format!(
                        "at $.related_objects[{k}]: {} is not the id of any {rot} in this package",
                        short_str(id)
                    ),
                );
            }
        }

        // The security_id of a transaction other than an issuance.
        let Some(sec) = obj["security_id"].as_str() else {
            continue;
        };
        let category = schemas.category(ot);
        if category == "transactions/issuance" {
            continue;
        }
        let Some(src) = securities.get(sec) else {
            report.fail(
                label,
                format!(
                    "at $.security_id: {} is not {} in this package",
                    short_str(sec),
                    describe(Target::Security)
                ),
            );
            continue;
        };
        let family = family_of(ot);
        if let (Some(family), Some(src_family)) = (family, src.family)
            && family != src_family
        {
            report.fail(
                label,
                format!(
                    "at $.security_id: {} is a {src_family} security ({}) but {ot} applies to {family} securities",
                    short_str(sec),
                    src.label
                ),
            );
        }
        if let (Some(d), Some(issued)) = (obj["date"].as_str(), src.date.as_str())
            && d < issued
        {
            report.warn(
                label,
                format!(
                    "dated {d}, before security {} was issued ({issued})",
                    short_str(sec)
                ),
            );
        }

        // A security is closed by its first terminal transaction; a
        // remainder lives on under balance_security_id.
        if TERMINAL_CATEGORIES.contains(&category.as_str()) {
            if let Some(first) = closed_by.get(sec) {
                report.fail(
                    label,
                    format!(
                        "security {} was already closed by {first}; act on its balance_security_id instead",
                        short_str(sec)
                    ),
                );
            } else {
                closed_by.insert(sec.to_owned(), label.clone());
            }
        }
        let resulting: Vec<&str> = obj["resulting_security_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if resulting.contains(&sec) {
            report.fail(
                label,
                format!(
                    "resulting_security_ids contains the source security_id {}",
                    short_str(sec)
                ),
            );
        }
        let balance = obj["balance_security_id"].as_str();
        let mut same_family: Vec<(&str, &str)> = balance
            .map(|b| ("balance_security_id", b))
            .into_iter()
            .collect();
        if SAME_FAMILY_RESULTS.iter().any(|s| ot.ends_with(s)) {
            same_family.extend(resulting.iter().map(|r| ("resulting_security_ids", *r)));
        }
        for (key, v) in same_family {
            if let (Some(s), Some(family)) = (securities.get(v), family)
                && s.family.is_some_and(|f| f != family)
            {
                report.fail(
                    label,
                    format!(
                        "{key} {} is a {} security ({}), expected {family}",
                        short_str(v),
                        s.family.unwrap_or("?"),
                        s.label
                    ),
                );
            }
        }

        if let Some(b) = balance.and_then(|b| securities.get(b)) {
            let bal = short_str(balance.unwrap_or_default());
            if src.stakeholder != b.stakeholder {
                report.fail(
                    label,
                    format!(
                        "balance_security_id {bal} is held by {}, not by the holder of {} ({})",
                        short(&b.stakeholder),
                        short_str(sec),
                        short(&src.stakeholder)
                    ),
                );
            }
            if src.stock_class != b.stock_class {
                report.fail(
                    label,
                    format!(
                        "balance_security_id {bal} is in stock class {}, not {} like {}",
                        short(&b.stock_class),
                        short(&src.stock_class),
                        short_str(sec)
                    ),
                );
            }
        }

        if !STOCK_DISPOSALS.contains(&ot) {
            continue;
        }
        let (Some(q), Some(held)) = (decimal(&obj["quantity"]), src.quantity) else {
            continue;
        };
        if q <= Decimal::ZERO {
            report.fail(label, format!("quantity {q} is not positive"));
        }
        if q > held {
            report.fail(
                label,
                format!(
                    "quantity {q} exceeds the {held} shares of security {}",
                    short_str(sec)
                ),
            );
            continue;
        }
        let remainder = held - q;
        match balance {
            Some(b) => {
                if let Some(bq) = securities.get(b).and_then(|s| s.quantity)
                    && bq != remainder
                {
                    report.fail(
                        label,
                        format!(
                            "balance security {} holds {bq} shares, but {held} - {q} = {remainder} remain",
                            short_str(b)
                        ),
                    );
                }
            }
            None if obj["balance_security_id"].is_null() && !remainder.is_zero() => {
                report.fail(
                    label,
                    format!(
                        "{remainder} of the {held} shares of {} remain but there is no balance_security_id",
                        short_str(sec)
                    ),
                );
            }
            None => {}
        }
        if ot == "TX_STOCK_TRANSFER"
            && !resulting.is_empty()
            && resulting.iter().all(|r| securities.contains_key(*r))
        {
            let quantities: Option<Vec<Decimal>> =
                resulting.iter().map(|r| securities[*r].quantity).collect();
            if let Some(quantities) = quantities {
                let moved: Decimal = quantities.iter().sum();
                if moved != q {
                    report.fail(
                        label,
                        format!(
                            "resulting securities hold {moved} shares in all, but the transfer moves {q}"
                        ),
                    );
                }
            }
            for r in &resulting {
                let class = &securities[*r].stock_class;
                if *class != src.stock_class {
                    report.fail(
                        label,
                        format!(
                            "resulting security {} is in stock class {}, not {} like {}",
                            short_str(r),
                            short(class),
                            short(&src.stock_class),
                            short_str(sec)
                        ),
                    );
                }
            }
        }
    }
}
