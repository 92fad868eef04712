//! The documents drawn from a synthetic farm: the same bytes when drawn
//! again, well-formed PDF files, a CSV line per entry, names resolved at
//! printing time; a meeting's papers in [`meetings`].

#[path = "documents/meetings.rs"]
mod meetings;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use windledger_documents::register::{account_pdf, certificate_pdf, register_csv, register_pdf};
use windledger_documents::tax;
use windledger_documents::{Drawn, People, Person, Pseudonyms};
use windledger_domain::money::Euros;
use windledger_domain::types::HolderId;
use windledger_fixtures::synthetic::Synthetic;
use windledger_projections::event::LedgerEvent;
use windledger_projections::runner::Projections;
use windledger_projections::share_register::{Account, ShareRegister};

fn farm() -> Projections {
    let mut projections = Projections::default();
    for (i, e) in Synthetic::new(40, 2, 11).generate().enumerate() {
        projections.apply(&LedgerEvent::unrecorded(
            i as u64 + 1,
            e.stream_id,
            e.event_type,
            e.payload.to_string(),
            DateTime::<Utc>::UNIX_EPOCH,
        ));
    }
    assert_eq!(projections.failure(), None);
    projections
}

/// The synthetic [`farm`], and what its documents say of it today.
fn drawn_farm() -> (Projections, Drawn) {
    let projections = farm();
    let drawn = Drawn::of(&projections, "synthetic", None).expect("incorporated");
    (projections, drawn)
}

/// The first holder (one of [`Two`]) and its account in `register` as of
/// the documents' date.
fn first_holders_account<'a>(
    register: &'a ShareRegister,
    drawn: &Drawn,
) -> (HolderId, Account<'a>) {
    let holder = HolderId::new("c-000001").expect("an id");
    let account = register
        .account(&holder, drawn.as_of())
        .expect("the holder's account");
    (holder, account)
}

/// Two of the holders have a name and an address.
struct Two;

impl People for Two {
    fn person(&self, holder: &HolderId) -> Option<Person> {
        match holder.as_str() {
            "c-000001" => Some(Person {
                name: "Jeanne Dupont; née Martin".to_owned(),
                address: vec!["3 rue du Pilat".to_owned(), "42220 Burdignes".to_owned()],
            }),
            "c-000002" => Some(Person {
                name: "Éole & Cie Groupement-Foncier-Agricole-des-Crêtes-du-Pilat".to_owned(),
                address: Vec::new(),
            }),
            _ => None,
        }
    }
}

/// The file's structure: header, every object where the cross-reference
/// table says, the trailer with its identifier, the end marker.
fn assert_well_formed(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-1.7\n%"), "a PDF 1.7 header");
    assert!(
        pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"),
        "the end marker"
    );
    let text = String::from_utf8_lossy(pdf);
    let start: usize = text
        .rsplit("startxref")
        .next()
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("startxref gives an offset");
    assert!(
        pdf[start..].starts_with(b"xref"),
        "startxref points at the table"
    );
    let table = String::from_utf8_lossy(&pdf[start..]);
    let mut lines = table.lines().skip(1);
    let header = lines.next().expect("a subsection");
    let count: usize = header
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a count");
    for (i, line) in lines.take(count).enumerate().skip(1) {
        let offset: usize = line[..10].parse().expect("an offset");
        let expected = format!("{i} 0 obj");
        assert!(
            pdf[offset..].starts_with(expected.as_bytes()),
            "object {i} is at {offset}"
        );
    }
    assert!(text.contains("/ID ["), "a file identifier");
    for part in [
        "/GTS_PDFA1",
        "<pdfaid:part>2</pdfaid:part>",
        "<pdfaid:conformance>B</pdfaid:conformance>",
        "/FontFile2",
        "/ToUnicode",
        "/Identity-H",
    ] {
        assert!(text.contains(part), "{part}");
    }
}

#[test]
fn the_register_is_the_same_file_when_drawn_again_and_a_well_formed_pdf() {
    let (projections, drawn) = drawn_farm();
    let register = projections.share_register.fold();
    let entries = register.entries_as_of(drawn.as_of());
    assert_eq!(entries.len(), register.entries().len());
    let first = register_pdf(&drawn, entries, &Pseudonyms).expect("a PDF");
    let again = register_pdf(&drawn, entries, &Pseudonyms).expect("a PDF");
    assert!(first == again, "the same bytes");
    assert_well_formed(&first);

    // Names change the file, and are the same again when drawn again.
    let named = register_pdf(&drawn, entries, &Two).expect("a PDF");
    assert!(named != first, "names change the file");
    assert!(named == register_pdf(&drawn, entries, &Two).expect("a PDF"));
    assert_well_formed(&named);

    // Another position is another document.
    let later = Drawn {
        position: drawn.position + 1,
        ..drawn.clone()
    };
    assert!(register_pdf(&later, entries, &Pseudonyms).expect("a PDF") != first);
}

#[test]
fn the_csv_has_a_line_per_entry_with_ids_and_names() {
    let projections = farm();
    let register = projections.share_register.fold();
    let csv = String::from_utf8(register_csv(register.entries(), &Two)).expect("UTF-8");
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), register.entries().len() + 1);
    assert!(lines[0].starts_with("numero;date;nature;categorie;nombre;cedant_id;cedant;"));
    let first = &register.entries()[0];
    assert!(
        lines[1].starts_with(&format!("1;{};Souscription à la constitution;", first.date)),
        "{}",
        lines[1]
    );
    // A name holding the separator is quoted; an unknown holder is shown by id.
    assert!(csv.contains("c-000001;\"Jeanne Dupont; née Martin (c-000001)\""));
    assert!(csv.contains("c-000003;Actionnaire c-000003"));
    assert_eq!(
        csv,
        String::from_utf8(register_csv(register.entries(), &Two)).expect("UTF-8")
    );
}

#[test]
fn an_account_and_a_certificate_state_the_holders_shares() {
    let (projections, drawn) = drawn_farm();
    let register = projections.share_register.fold();
    let (holder, account) = first_holders_account(register, &drawn);
    let pdf = account_pdf(&drawn, &account, &Two).expect("a PDF");
    assert_well_formed(&pdf);
    assert!(pdf == account_pdf(&drawn, &account, &Two).expect("a PDF"));

    let holdings = register.holdings_at(&holder, drawn.date);
    assert_eq!(
        holdings,
        projections
            .cap_table
            .fold()
            .holdings_of(&holder, drawn.as_of())
    );
    let certificate = certificate_pdf(&drawn, &holder, &holdings, &Two).expect("a PDF");
    assert_well_formed(&certificate);
    let none = certificate_pdf(&drawn, &holder, &BTreeMap::new(), &Two).expect("a PDF");
    assert!(certificate != none);
}

/// An outside tool, if it is installed; without it the check is skipped,
/// unless `WINDLEDGER_REQUIRE_PDF_TOOLS` is set (CI sets it and installs
/// Debian's `qpdf` and `poppler-utils`).
fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("WINDLEDGER_REQUIRE_PDF_TOOLS").is_none(),
            "{name} is required (WINDLEDGER_REQUIRE_PDF_TOOLS): apt-get install qpdf poppler-utils"
        );
        eprintln!("{name} is not installed: the check by another PDF reader is skipped");
    }
    found
}

/// The words of a PDF as poppler's pdftotext reads them, once qpdf found no
/// structural error in it.
fn read_back(
    qpdf: &std::path::Path,
    pdftotext: &std::path::Path,
    dir: &std::path::Path,
    name: &str,
    bytes: &[u8],
) -> String {
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, bytes).expect("written");
    let checked = std::process::Command::new(qpdf)
        .arg("--check")
        .arg(&path)
        .output()
        .expect("qpdf runs");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success() && said.contains("No syntax or stream encoding errors"),
        "qpdf on the {name}: {said}{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let text = std::process::Command::new(pdftotext)
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(text.status.success(), "pdftotext on the {name}");
    String::from_utf8_lossy(&text.stdout).into_owned()
}

/// The tax documents of the year with the most dividends paid, read back
/// by qpdf and pdftotext: the monthly returns' totals and each IFU's
/// beneficiary and amounts.
#[test]
fn the_tax_documents_are_read_by_other_pdf_readers() {
    let (Some(qpdf), Some(pdftotext)) = (tool("qpdf"), tool("pdftotext")) else {
        return;
    };
    let (projections, drawn) = drawn_farm();
    let paid = tax::paid_dividends(&projections);
    let year = paid
        .iter()
        .map(|p| p.paid_on.year())
        .max()
        .expect("dividends paid");
    let returns = tax::withholding_returns(&projections, year).expect("the returns");
    assert!(!returns.is_empty());
    let lines = tax::ifu(&projections, year).expect("the IFU");
    let first = lines.first().expect("a beneficiary");
    let names = std::collections::BTreeMap::from([(
        first.holder.clone(),
        tax::Beneficiary {
            name: "Zoé Lefèvre".to_owned(),
            identification: Some("Né(e) le 01/05/1970 à Saint-Agrève".to_owned()),
            address: vec![
                "3 chemin des Crêtes".to_owned(),
                "07320 Saint-Agrève".to_owned(),
            ],
        },
    )]);
    let dir = std::env::temp_dir().join(format!("windledger-tax-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let pdf = tax::withholding_returns_pdf(&drawn, year, &returns).expect("a PDF");
    // Amounts compared without their spaces (pdftotext reads the narrow
    // no-break space between thousands as it pleases).
    let bare = |t: &str| -> String {
        t.chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{202f}')
            .collect()
    };
    let text = bare(&read_back(&qpdf, &pdftotext, &dir, "2777", &pdf));
    let income_tax: u64 = returns
        .iter()
        .map(|r| r.income_tax.cents().expect("cents"))
        .sum();
    assert!(text.contains("n°2777"), "{text}");
    assert!(
        text.contains(&bare(&windledger_french::format::euros(
            Euros::from_cents(income_tax).amount()
        ))),
        "the year's total withheld: {text}"
    );
    let pdf = tax::ifu_pdf(&drawn, year, &lines, &names).expect("a PDF");
    let text = bare(&read_back(&qpdf, &pdftotext, &dir, "ifu", &pdf));
    for shown in [
        "Impriméfiscalunique",
        "ZoéLefèvre",
        "07320Saint-Agrève",
        "abattementde40%",
        &bare(&windledger_french::format::euros(
            first.eligible_dividends.amount(),
        )),
    ] {
        assert!(text.contains(shown), "{shown:?} in the IFU: {text}");
    }
    assert_eq!(
        text.matches("Page1/").count(),
        lines.len(),
        "one IFU a beneficiary"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Other readers than our own tests: qpdf finds no structural error in
/// each document, and poppler's pdftotext reads back its words, accents
/// and names included (the fonts' ToUnicode maps are right).
#[test]
fn other_pdf_readers_open_the_documents_and_read_their_words() {
    let (Some(qpdf), Some(pdftotext)) = (tool("qpdf"), tool("pdftotext")) else {
        return;
    };
    let (projections, drawn) = drawn_farm();
    let register = projections.share_register.fold();
    let (holder, account) = first_holders_account(register, &drawn);
    let holdings = register.holdings_at(&holder, drawn.date);
    let documents = [
        (
            "registre",
            register_pdf(&drawn, register.entries_as_of(drawn.as_of()), &Two).expect("a PDF"),
        ),
        (
            "compte",
            account_pdf(&drawn, &account, &Two).expect("a PDF"),
        ),
        (
            "attestation",
            certificate_pdf(&drawn, &holder, &holdings, &Two).expect("a PDF"),
        ),
    ];
    let dir = std::env::temp_dir().join(format!("windledger-pdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    for (name, bytes) in documents {
        let text = read_back(&qpdf, &pdftotext, &dir, name, &bytes);
        // A long name is never cut short: in the register's narrow
        // column it goes on over a second line.
        for shown in ["Jeanne Dupont; née", "Martin"] {
            assert!(text.contains(shown), "the {name}'s text: {text}");
        }
        assert!(!text.contains('…'), "nothing cut short in the {name}");
        assert!(
            text.contains(&drawn.head.to_hex()),
            "the {name} states its head hash"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
