//! `windledger export`, on the reference farm imported into a SQLite
//! database: each kind has the expected shape (the JSON Lines verify; the
//! CSVs have their header and one row per cap-table line or resolution, as
//! the projections hold them; the OCF package, as a folder or a zip,
//! passes the OCF validator on the official schemas kept in the repository,
//! `projections/tests/support/ocf_validator.rs`), and mistakes get one
//! clear sentence.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::NaiveDate;
use windledger::export::{CAP_TABLE_HEADER, DECISIONS_HEADER, ExportKind, ExportOptions, run_to};
use windledger::options::{KeyOptions, LedgerOptions};
use windledger_app::audit::verify_export;
use windledger_app::services::ledger_event;
use windledger_domain::meeting::Outcome;
use windledger_projections::cap_table::AsOf;
use windledger_projections::ocf;
use windledger_projections::runner::Projections;
use windledger_store::{Head, LedgerId, Store, StoreOptions};

use crate::support::{LEDGER, import_reference_farm};

/// The reference farm, imported once into a database every test reads.
struct Farm {
    url: String,
    head: Head,
    /// The public key of the key that sealed the import.
    seal_key: String,
}

fn farm() -> &'static Farm {
    static FARM: OnceLock<Farm> = OnceLock::new();
    FARM.get_or_init(|| {
        // Kept for the whole run (statics are never dropped), so in the
        // target folder, cleared at each run.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("windledger-export-tests");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a folder for the database");
        let url = format!("sqlite://{}", dir.join("ledger.sqlite").display());
        let importing = url.clone();
        let sealer = windledger_store::testing::test_sealer();
        let seal_key = sealer.verifier().to_string();
        // Tests run in runtimes of their own: import on a thread of its own.
        let head = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let store = Store::connect(StoreOptions::new(&importing).sealed_by(sealer))
                    .await
                    .expect("the database opens");
                import_reference_farm(store).await
            })
        })
        .join()
        .expect("the reference farm imports");
        Farm {
            url,
            head,
            seal_key,
        }
    })
}

fn ledger_options() -> LedgerOptions {
    LedgerOptions {
        database_url: farm().url.clone(),
        ledger: LEDGER.to_owned(),
    }
}

fn options(kind: ExportKind, output: Option<PathBuf>, as_of: Option<NaiveDate>) -> ExportOptions {
    ExportOptions {
        kind,
        round: None,
        source: ledger_options(),
        output,
        as_of,
    }
}

async fn export(options: &ExportOptions) -> String {
    let mut out = Vec::new();
    run_to(options, &mut out)
        .await
        .unwrap_or_else(|e| panic!("the export of {:?} succeeds: {e:#}", options.kind));
    String::from_utf8(out).expect("UTF-8")
}

async fn export_error(options: &ExportOptions) -> String {
    let error = run_to(options, &mut Vec::new())
        .await
        .expect_err("the export is refused");
    let message = format!("{error:#}");
    assert!(!message.contains('\n'), "one line: {message}");
    message
}

/// The projections of the farm's ledger, as the tests compute them.
async fn projections() -> Projections {
    let store = Store::connect(StoreOptions::new(&farm().url))
        .await
        .expect("the database opens");
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    let mut projections = Projections::default();
    let mut after = 0;
    loop {
        let page = store
            .read_ledger(&ledger, after, 1_000)
            .await
            .expect("the ledger reads");
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        for e in page {
            projections.apply(&ledger_event(e));
        }
        after = last;
    }
    assert!(
        projections.failure().is_none(),
        "{:?}",
        projections.failure()
    );
    projections
}

/// RFC 4180 records: quoted fields may hold commas, quotes and newlines.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "ends with CRLF"
    );
    records
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

#[tokio::test]
async fn events_are_the_ledger_as_json_lines_that_verify() {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("ailes.jsonl");
    let summary = export(&options(ExportKind::Events, Some(path.clone()), None)).await;
    assert!(
        summary.contains(&format!("{} events", farm().head.size)),
        "{summary}"
    );
    let written = std::fs::read_to_string(&path).expect("the export");
    assert_eq!(written.lines().count() as u64, farm().head.size);
    // Nothing but the file: no temporary file left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the folder")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    assert_eq!(names, vec!["ailes.jsonl"]);
    let report = verify_export(Cursor::new(&written), &[&farm().seal_key], None)
        .expect("the export verifies");
    assert_eq!(report.head, farm().head);

    // To standard output: the same bytes, and nothing else.
    let stdout = export(&options(ExportKind::Events, None, None)).await;
    assert_eq!(stdout, written);
}

#[tokio::test]
async fn the_cap_table_csv_has_a_row_per_holder_and_class_of_the_projection() {
    let projections = projections().await;
    let cap_table = projections.cap_table.fold();
    for date in [day(2013, 6, 28), day(2021, 6, 30), day(2025, 12, 31)] {
        let text = export(&options(ExportKind::CapTableCsv, None, Some(date))).await;
        let records = parse_csv(&text);
        assert_eq!(records[0], CAP_TABLE_HEADER, "the header");
        let view = cap_table.view(AsOf::Date { date }).expect("incorporated");
        assert!(!view.rows.is_empty());
        assert_eq!(
            records.len() - 1,
            view.rows.len(),
            "one row per line on {date}"
        );
        for (record, row) in records[1..].iter().zip(&view.rows) {
            assert_eq!(record[0], row.holder.as_str());
            assert_eq!(record[2], row.college.as_str());
            assert_eq!(record[3], row.class.as_str());
            assert_eq!(record[4], row.shares.to_string());
            assert_eq!(record[5], row.capital_pct.to_string());
            assert_eq!(record[6], row.votes_pct.to_string());
        }
        let shares: u64 = records[1..]
            .iter()
            .map(|r| r[4].parse::<u64>().expect("a count"))
            .sum();
        let held: u64 =
            view.outstanding.values().sum::<u64>() - view.treasury.values().sum::<u64>();
        assert_eq!(shares, held, "the rows hold every share outside treasury");
        assert!(records[1..].iter().all(|r| !r[1].is_empty()), "a kind");
    }
    // Into a file, with a summary.
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("cap-table.csv");
    let summary = export(&options(
        ExportKind::CapTableCsv,
        Some(path.clone()),
        Some(day(2025, 12, 31)),
    ))
    .await;
    assert!(summary.contains("as of 2025-12-31"), "{summary}");
    let written = std::fs::read_to_string(&path).expect("the CSV");
    assert!(written.starts_with("holder,kind,college,class,shares,capital_pct,votes_pct\r\n"));
}

#[tokio::test]
async fn the_decisions_csv_has_a_row_per_resolution_of_the_register() {
    let projections = projections().await;
    let register = projections.register.fold();
    let text = export(&options(ExportKind::DecisionsCsv, None, None)).await;
    let records = parse_csv(&text);
    assert_eq!(records[0], DECISIONS_HEADER, "the header");
    let resolutions: usize = register
        .meetings()
        .map(|(_, m)| m.convocation.agenda.len())
        .sum();
    assert!(resolutions > 0);
    assert_eq!(records.len() - 1, resolutions, "one row per resolution");
    for record in &records[1..] {
        let meeting = register
            .meeting(&record[0])
            .expect("a meeting of the register");
        let item = meeting
            .convocation
            .agenda
            .iter()
            .find(|i| i.resolution.as_str() == record[1])
            .expect("a resolution of its agenda");
        assert_eq!(record[2], item.decision_kind.as_str());
        assert_eq!(record[3], item.text, "the text, whole");
        let closed = meeting
            .closed
            .as_ref()
            .expect("every meeting of the farm closed");
        let result = closed
            .results
            .iter()
            .find(|r| r.resolution == item.resolution)
            .expect("a result");
        let outcome = match &result.outcome {
            Outcome::Adopted => "adopted",
            Outcome::Rejected { .. } => "rejected",
        };
        assert_eq!(record[4], outcome);
        assert_eq!(record[5], result.votes_for.to_string());
        assert_eq!(record[6], result.votes_against.to_string());
        assert_eq!(record[7], result.abstentions.to_string());
        match &result.outcome {
            Outcome::Adopted => assert!(record[8].starts_with("majority "), "{record:?}"),
            Outcome::Rejected { rules } => assert_eq!(record[8], rules[0].to_string()),
        }
        assert_eq!(record[9], closed.at.position.to_string());
    }
    // Meetings in the order they were convened.
    let positions: Vec<u64> = records[1..]
        .iter()
        .map(|r| {
            register
                .meeting(&r[0])
                .expect("a meeting")
                .convened
                .position
        })
        .collect();
    assert!(positions.is_sorted(), "{positions:?}");
}

#[tokio::test]
async fn ocf_is_a_folder_or_a_zip_that_the_ocf_validator_accepts() {
    let dir = tempfile::tempdir().expect("a folder");
    let folder = dir.path().join("ailes-ocf");
    let zip = dir.path().join("ailes.ocf.zip");
    let as_of = Some(day(2025, 12, 31));
    let summary = export(&options(ExportKind::Ocf, Some(folder.clone()), as_of)).await;
    assert!(summary.contains("a folder"), "{summary}");
    for file in [
        ocf::MANIFEST_FILE,
        ocf::STAKEHOLDERS_FILE,
        ocf::STOCK_CLASSES_FILE,
        ocf::TRANSACTIONS_FILE,
    ] {
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(folder.join(file)).unwrap_or_else(|e| panic!("{file}: {e}")),
        )
        .expect("JSON");
        assert!(json["file_type"].is_string(), "{file}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join(ocf::MANIFEST_FILE)).expect("read"))
            .expect("JSON");
    assert_eq!(manifest["ocf_version"], ocf::OCF_VERSION);
    assert_eq!(manifest["as_of"], "2025-12-31");

    let summary = export(&options(ExportKind::Ocf, Some(zip.clone()), as_of)).await;
    assert!(summary.contains("a zip archive"), "{summary}");
    let bytes = std::fs::read(&zip).expect("the archive");
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip archive");

    // Both pass every check of the OCF validator, with every item checked.
    let folder_report = ocf_validator::assert_valid(&folder);
    let zip_report = ocf_validator::assert_valid(&zip);
    let items: usize = [
        ocf::STAKEHOLDERS_FILE,
        ocf::STOCK_CLASSES_FILE,
        ocf::TRANSACTIONS_FILE,
    ]
    .iter()
    .map(|file| {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join(file)).expect("read")).expect("JSON");
        json["items"].as_array().expect("items").len()
    })
    .sum();
    assert!(items > 0);
    assert_eq!(folder_report.passed(), 4 + items, "{folder_report}");
    assert_eq!(zip_report.passed(), 4 + items, "{zip_report}");
}

#[tokio::test]
async fn mistakes_get_one_clear_sentence() {
    let mut missing = options(ExportKind::Events, None, None);
    missing.source.ledger = "no-such-farm".to_owned();
    assert!(
        export_error(&missing)
            .await
            .contains("no ledger no-such-farm")
    );

    let message = export_error(&options(ExportKind::Ocf, None, None)).await;
    assert!(message.contains("ocf needs --output"), "{message}");

    let message = export_error(&options(ExportKind::Events, None, Some(day(2020, 1, 1)))).await;
    assert!(message.contains("--as-of applies to"), "{message}");

    let message = export_error(&options(
        ExportKind::CapTableCsv,
        None,
        Some(day(1999, 1, 1)),
    ))
    .await;
    assert!(
        message.contains("not incorporated on 1999-01-01"),
        "{message}"
    );

    let dir = tempfile::tempdir().expect("a folder");
    let mut nowhere = options(ExportKind::Events, None, None);
    nowhere.source.database_url = format!("sqlite://{}", dir.path().join("none.sqlite").display());
    let message = export_error(&nowhere).await;
    assert!(message.contains("no SQLite database"), "{message}");
    assert!(!dir.path().join("none.sqlite").exists(), "nothing created");
}

/// `--output` naming a device, a FIFO or a symbolic link: written through,
/// never replaced (an export to `/dev/null` run as root once replaced the
/// machine's `/dev/null` with a regular file).
#[tokio::test]
async fn output_writes_into_devices_and_fifos_and_follows_links() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("a folder");
    let names = |dir: &Path| {
        let mut names = crate::support::file_names(dir);
        names.sort();
        names
    };
    let size = farm().head.size as usize;

    // A FIFO: a reader gets every line, and it stays a FIFO.
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo makes a FIFO");
    let reading = fifo.clone();
    let reader =
        std::thread::spawn(move || std::fs::read_to_string(reading).expect("the FIFO reads"));
    export(&options(ExportKind::Events, Some(fifo.clone()), None)).await;
    // Checked first: a FIFO replaced by a file would leave the reader waiting.
    let kind = std::fs::symlink_metadata(&fifo)
        .expect("the FIFO")
        .file_type();
    assert!(kind.is_fifo(), "still a FIFO: {kind:?}");
    let received = reader.join().expect("the reader ends");
    assert_eq!(received.lines().count(), size);

    // A character device (the null device, made here, as root can): written
    // into, still a device, nothing left beside it.
    let device = dir.path().join("null");
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .expect("mknod runs");
    if made.success() {
        export(&options(
            ExportKind::DecisionsCsv,
            Some(device.clone()),
            None,
        ))
        .await;
        let kind = std::fs::symlink_metadata(&device)
            .expect("the device")
            .file_type();
        assert!(kind.is_char_device(), "still a device: {kind:?}");
    } else {
        // Only root may make a device node; CI runs as root.
        eprintln!("mknod refused (not root?): the device case is not run");
    }

    // A symbolic link to a file: the file gets the export, the link stays.
    let real = dir.path().join("real.jsonl");
    std::fs::write(&real, "old\n").expect("a file");
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).expect("a link");
    export(&options(ExportKind::Events, Some(link.clone()), None)).await;
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("the link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(&real)
            .expect("the file")
            .lines()
            .count(),
        size
    );

    // A link to nothing, and a folder: one clear sentence, nothing written.
    let dangling = dir.path().join("dangling.jsonl");
    std::os::unix::fs::symlink(dir.path().join("gone/none.jsonl"), &dangling).expect("a link");
    let message = export_error(&options(ExportKind::Events, Some(dangling), None)).await;
    assert!(message.contains("symbolic link"), "{message}");
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).expect("a folder");
    let message = export_error(&options(ExportKind::Events, Some(folder), None)).await;
    assert!(message.contains("is a folder"), "{message}");

    let mut expected = vec![
        "dangling.jsonl",
        "folder",
        "link.jsonl",
        "pipe",
        "real.jsonl",
    ];
    if made.success() {
        expected.push("null");
    }
    expected.sort();
    assert_eq!(names(dir.path()), expected, "no temporary file left behind");
}

// --- The OCF validator, shared with projections/tests/ocf.rs. ---

#[path = "../../../projections/tests/support/ocf_validator.rs"]
mod ocf_validator;

mod register {
    use windledger::register::{Document, Format, Names, RegisterOptions, Source, run};

    use super::*;

    fn source(output: Option<PathBuf>) -> Source {
        Source {
            ledger: ledger_options(),
            output,
            names: no_names(),
        }
    }

    fn no_names() -> Names {
        Names {
            names: false,
            keys: KeyOptions {
                key_file: "windledger-signing.key".into(),
                vault_key_file: "windledger-vault.key".into(),
            },
        }
    }

    fn register(format: Format, output: Option<PathBuf>) -> RegisterOptions {
        RegisterOptions {
            document: None,
            database_url: farm().url.clone(),
            ledger: Some(LEDGER.to_owned()),
            output,
            names: no_names(),
            as_of: None,
            format,
        }
    }

    async fn bytes(options: RegisterOptions) -> Vec<u8> {
        let mut out = Vec::new();
        run(options, &mut out)
            .await
            .expect("the document is written");
        out
    }

    /// The register of the reference farm: its first subscription and a
    /// transfer with a price and an approval, a line per entry, the same
    /// PDF when drawn again.
    #[tokio::test]
    async fn the_reference_farms_register_shows_its_subscriptions_and_transfers() {
        let projections = projections().await;
        let entries = projections.share_register.fold().entries().len();
        let csv = String::from_utf8(bytes(register(Format::Csv, None)).await).expect("UTF-8");
        let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), entries + 1, "a header and a line per entry");
        assert!(
            lines[1].starts_with(
                "1;2013-06-28;Souscription à la constitution;ordinaires;40000;;La société;\
                 partenaire-industriel;Actionnaire partenaire-industriel;100;4000000;\
                 Statuts constitutifs;;;;"
            ),
            "{}",
            lines[1]
        );
        let transfer = lines
            .iter()
            .find(|l| l.contains(";cit-004;") && l.contains(";cit-121;"))
            .expect("the transfer of 2020-09-24");
        assert!(
            transfer.contains(
                ";2020-09-24;Cession;ordinaires;21;cit-004;Actionnaire cit-004;cit-121;\
                 Actionnaire cit-121;100;2100;Résolution ago-2020.4"
            ),
            "{transfer}"
        );

        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("registre.pdf");
        let said = String::from_utf8(bytes(register(Format::Pdf, Some(path.clone()))).await)
            .expect("UTF-8");
        assert!(
            said.starts_with("Wrote the register of share movements"),
            "{said}"
        );
        let pdf = std::fs::read(&path).expect("the file");
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(
            pdf == bytes(register(Format::Pdf, None)).await,
            "the same bytes"
        );

        let account = RegisterOptions {
            document: Some(Document::Account {
                holder: "cit-121".to_owned(),
                as_of: None,
                source: source(None),
            }),
            ..register(Format::Pdf, None)
        };
        assert!(bytes(account).await.starts_with(b"%PDF-1.7"));
    }

    #[tokio::test]
    async fn a_certificate_of_an_unknown_holder_is_refused_in_one_sentence() {
        let options = RegisterOptions {
            document: Some(Document::Certificate {
                holder: "cit-999".to_owned(),
                at: NaiveDate::from_ymd_opt(2024, 12, 31).expect("a date"),
                source: source(None),
            }),
            ..register(Format::Pdf, None)
        };
        let error = run(options, &mut Vec::new()).await.expect_err("refused");
        assert_eq!(
            format!("{error:#}"),
            "cit-999 was never admitted to the ledger ailes-de-taillard"
        );
    }
}
