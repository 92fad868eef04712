//! A meeting's attendance sheet through the API, on both backends: the
//! reference farm's 2025 meeting, its totals by college those the tally
//! counted, drawn again to the same bytes, with names for the secretary
//! and ids for the municipality.

use crate::server::{LEDGER, Server};
use reqwest::StatusCode;
use windledger_api::auth::Role;
use windledger_french::format;

windledger_store::on_both_backends!(the_attendance_sheet_lists_who_took_part_as_the_tally_counted);

/// The text of a PDF by poppler's `pdftotext`, if it is installed (CI
/// requires it: `WINDLEDGER_REQUIRE_PDF_TOOLS`).
pub(crate) fn text_of(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("feuille.pdf");
    std::fs::write(&path, pdf).expect("written");
    match std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
    {
        // Spaces as one kind: the sheet's narrow no-break spaces between
        // thousands come back as the reader decides.
        Ok(out) if out.status.success() => Some(spaced(&String::from_utf8_lossy(&out.stdout))),
        other => {
            assert!(
                std::env::var_os("WINDLEDGER_REQUIRE_PDF_TOOLS").is_none(),
                "pdftotext is required: {other:?}"
            );
            None
        }
    }
}

fn spaced(text: &str) -> String {
    text.replace(['\u{202f}', '\u{a0}'], " ")
}

async fn the_attendance_sheet_lists_who_took_part_as_the_tally_counted(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let municipality = server.token(LEDGER, Role::Municipality, Some("ccmp")).await;
    let fetch = async |path: &str, token: &str| {
        let response = reqwest::Client::new()
            .get(server.api(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            kind,
            response.bytes().await.expect("a body").to_vec(),
        )
    };
    let sheet = "/meetings/ago-2025/attendance.pdf";
    let (status, kind, pdf) = fetch(sheet, &secretary).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(fetch(sheet, &secretary).await.2, pdf, "the same bytes");

    // Each college's line says the votes present and on the roll the
    // close counted.
    let record = server
        .get("/meetings/ago-2025", Some(&secretary))
        .await
        .expect(200);
    let colleges = record.body["closed"]["results"][0]["colleges"]
        .as_array()
        .expect("the tally by college")
        .clone();
    assert!(!colleges.is_empty());
    if let Some(text) = text_of(&pdf) {
        assert!(text.contains("Feuille de présence"), "{text}");
        assert!(text.contains("R225-95"));
        for college in &colleges {
            let count = |field: &str| college[field].as_u64().expect("a count");
            let line = spaced(&format!(
                "{} voix sur {}.",
                format::int(count("present")),
                format::int(count("roll_total"))
            ));
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert!(text.contains("Certifiée exacte par le bureau"));
    }
    // The municipality's sheet names holders by their ids.
    let (status, _, theirs) = fetch(sheet, &municipality).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(text) = text_of(&theirs) {
        assert!(text.contains("Actionnaire cit-"), "{text}");
    }
    // No such meeting.
    let (status, _, _) = fetch("/meetings/ago-1999/attendance.pdf", &secretary).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}
