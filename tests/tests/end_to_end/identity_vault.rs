//! The identity vault end to end, on both backends: 20 holders admitted
//! with their identities (names, e-mails, IBANs planted), 10 of them exited
//! long enough ago and erased through the API; then nothing of the erased
//! ones is left readable in the database (not their values, not even the
//! ciphertexts and wrapped keys that held them), the 10 others still read,
//! the chain verifies and the projections still show the erased holders by
//! id. The access rules of the identity routes and the read log are checked
//! on the way.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use windledger_api::auth::Role;
use windledger_app::command::Command;
use windledger_app::people::Vault;
use windledger_domain::company::{CompanyCommand, HolderKind};
use windledger_fixtures::farm::{CIT, college, commune, holder};
use windledger_fixtures::small_farm::{LOCAL_A, charter, formed, incorporation};
use windledger_store::testing::TestDatabase;
use windledger_store::{LedgerId, Verification};
use windledger_vault::{Commitment, Person, Salt};

use crate::server::{LEDGER, Server};

windledger_store::on_both_backends!(
    erased_identities_leave_nothing_readable_and_the_ledger_still_verifies
);

/// A valid French IBAN for `n`: the check digits computed (ISO 13616).
fn iban(n: u32) -> String {
    let bban = format!("300060000{n:011}12");
    let digits: String = format!("{bban}FR00")
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => d.to_string(),
            None => (u32::from(c) - u32::from('A') + 10).to_string(),
        })
        .collect();
    let remainder = digits
        .bytes()
        .fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("FR{:02}{bban}", 98 - remainder)
}

fn planted(n: u32) -> [String; 3] {
    [
        format!("Plantedname{n:02}"),
        format!("planted.person{n:02}@example.org"),
        iban(n),
    ]
}

fn person(n: u32) -> Person {
    let [name, email, iban] = planted(n);
    serde_json::from_value(json!({
        "identity": {"person": "natural", "family_name": name, "given_names": "Camille",
                     "birth": {"date": "1980-01-01", "place": "Redon"}},
        "address": {"lines": [format!("{n} chemin des Ailes")], "postal_code": "42026",
                    "city": "Taillard", "country": "FR"},
        "email": email,
        "tax_residence": "FR",
        "bank_account": {"iban": iban, "bic": "AGRIFRPP"},
    }))
    .expect("a valid person")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn id(n: u32) -> String {
    format!("p-{n:02}")
}

async fn erased_identities_leave_nothing_readable_and_the_ledger_still_verifies(db: TestDatabase) {
    let store = db.store().await;
    let ledger = LedgerId::parse(LEDGER).expect("a ledger id");
    store.create_ledger(&ledger).await.expect("a ledger");
    let server = Server::start(db, store).await;
    // The server's own vault (its master key), as the API uses it.
    let vault: Vault = server
        .state
        .vault()
        .expect("the test server's vault")
        .clone();
    let runtime = server.state.open(&ledger).await.expect("the ledger opens");
    let run = |command: CompanyCommand| {
        let runtime = runtime.clone();
        async move {
            runtime
                .execute(
                    &runtime.company_id(),
                    Command::Company(Box::new(command)),
                    HashMap::new(),
                )
                .await
                .expect("the command is recorded")
        }
    };
    run(CompanyCommand::Incorporate {
        company: incorporation(),
        charter: charter().build(),
    })
    .await;
    for n in 0..20 {
        let receipts = vault
            .admit(
                &runtime,
                Command::Company(Box::new(CompanyCommand::AdmitShareholder {
                    holder: holder(id(n)),
                    kind: HolderKind::Individual,
                    college: college(CIT),
                    commune: commune(LOCAL_A),
                    effective_date: formed(),
                    identity: None,
                    members: None,
                })),
                person(n),
                HashMap::new(),
            )
            .await
            .expect("admitted with an identity");
        let types: Vec<&str> = receipts.iter().map(|r| r.event_type.as_str()).collect();
        assert_eq!(types, ["ShareholderAdmitted", "IdentityRecorded"]);
    }
    // The first ten leave on the day they came: ten years have run since.
    for n in 0..10 {
        run(CompanyCommand::RecordExit {
            holder: holder(id(n)),
            effective_date: formed(),
        })
        .await;
    }

    // What the vault holds of the ten to erase, to look for afterwards.
    let mut sealed_bytes = Vec::new();
    for n in 0..10 {
        let key = server
            .store
            .vault_key(LEDGER, &id(n))
            .await
            .expect("read")
            .expect("a key");
        sealed_bytes.push(key.wrapped_key);
        for v in server
            .store
            .vault_versions(LEDGER, &id(n))
            .await
            .expect("read")
        {
            sealed_bytes.push(v.sealed.ciphertext[..32].to_vec());
        }
    }
    for bytes in &sealed_bytes {
        assert!(
            !server.db.places_holding(bytes).await.is_empty(),
            "the scan finds what is there"
        );
    }

    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let municipality = server
        .token(LEDGER, Role::Municipality, Some(&id(12)))
        .await;
    let own = server.token(LEDGER, Role::Shareholder, Some(&id(12))).await;
    let call = |method: Method, path: String, token: Option<String>, body: Option<Value>| {
        let server = &server;
        async move {
            server
                .call(
                    method,
                    &server.api(&path),
                    token.as_deref(),
                    body.as_ref(),
                    None,
                )
                .await
        }
    };
    // The vault's read log, of one holder or of all.
    let read_log = |holder: Option<String>| {
        let server = &server;
        async move {
            server
                .store
                .vault_reads(LEDGER, holder.as_deref())
                .await
                .expect("the read log")
        }
    };
    // A GET with `token`.
    let get = |path: String, token: &String| call(Method::GET, path, Some(token.clone()), None);

    // The API admits no holder without their identity.
    let mut no_person = crate::server::admission("p-99");
    no_person["effective_date"] = json!(formed().to_string());
    if let Some(fields) = no_person.as_object_mut() {
        fields.remove("person");
    }
    let refused = call(
        Method::POST,
        "/shareholders".to_owned(),
        Some(secretary.clone()),
        Some(no_person),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("\"person\"")),
        "{}",
        refused.body
    );

    // Erasure: refused for a holder still in the company, then done for the
    // ten who left.
    let refused = call(
        Method::POST,
        format!("/holders/{}/identity/erasure", id(12)),
        Some(secretary.clone()),
        Some(json!({})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.body["rule"], "NotExited", "{}", refused.body);
    for n in 0..10 {
        let erased = call(
            Method::POST,
            format!("/holders/{}/identity/erasure", id(n)),
            Some(secretary.clone()),
            Some(json!({})),
        )
        .await;
        assert_eq!(erased.status, StatusCode::CREATED, "{}", erased.body);
        assert_eq!(erased.body["receipts"][0]["event_type"], "IdentityErased");
    }

    // Nothing of the erased is readable anywhere in the database.
    for n in 0..10 {
        for value in planted(n) {
            assert_eq!(
                server.db.places_holding(value.as_bytes()).await,
                Vec::<String>::new(),
                "{value}"
            );
        }
        let gone = get(format!("/holders/{}/identity", id(n)), &secretary).await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
    for bytes in &sealed_bytes {
        assert_eq!(
            server.db.places_holding(bytes).await,
            Vec::<String>::new(),
            "an erased person's sealed bytes"
        );
    }
    // Nor in an export of the ledger, nor in a backup taken after the
    // erasure, once restored into a new database (where the kept ones'
    // sealed data is, still sealed).
    let mut export = Vec::new();
    server
        .store
        .export_jsonl(&ledger, &mut export, |_, _| {})
        .await
        .expect("an export");
    let folder = tempfile::tempdir().expect("a folder");
    let (key, _) = windledger_app::backup::BackupKey::read_or_create(&folder.path().join("k"))
        .expect("a backup key");
    let copies = folder.path().join("copies");
    windledger_app::backup::back_up(&server.store, &copies, &key, |_| {})
        .await
        .expect("a backup");
    let restored = TestDatabase::sqlite();
    windledger_app::backup::restore(
        &restored.store().await,
        &copies,
        &key,
        &server.db.keys(),
        |_, _| {},
    )
    .await
    .expect("the backup restores");
    for n in 0..10 {
        for value in planted(n) {
            assert!(
                !contains(&export, value.as_bytes()),
                "{value} in the export"
            );
            assert_eq!(
                restored.places_holding(value.as_bytes()).await,
                Vec::<String>::new(),
                "{value} in the restored backup"
            );
        }
    }
    for bytes in &sealed_bytes {
        assert_eq!(
            restored.places_holding(bytes).await,
            Vec::<String>::new(),
            "an erased person's sealed bytes in the restored backup"
        );
    }
    let kept = server
        .store
        .vault_versions(LEDGER, &id(15))
        .await
        .expect("a kept person's versions");
    assert!(
        !restored
            .places_holding(&kept[0].sealed.ciphertext[..32])
            .await
            .is_empty(),
        "the kept are in the restored backup, still sealed"
    );

    // The ten kept still read, by the secretary (logged) and each their
    // own; the others' tokens may not.
    for n in 10..20 {
        let read = get(format!("/holders/{}/identity", id(n)), &secretary).await;
        assert_eq!(read.status, StatusCode::OK, "{}", read.body);
        assert_eq!(
            read.body["person"]["identity"]["family_name"],
            planted(n)[0]
        );
        assert_eq!(read.body["person"]["bank_account"]["iban"], planted(n)[2]);
    }
    let reads = read_log(Some(id(15))).await;
    assert_eq!(reads.len(), 1);
    assert!(reads[0].reader.starts_with("secretary:"), "{reads:?}");
    // A document printed for the secretary reads the names it prints, each
    // read logged; the municipality's register shows ids and reads none.
    let printed = get(format!("/holders/{}/certificate.pdf", id(16)), &secretary).await;
    assert_eq!(printed.status, StatusCode::OK);
    let reads = read_log(Some(id(16))).await;
    assert!(
        reads
            .iter()
            .any(|r| r.purpose == "printed on a document" && r.reader.starts_with("secretary:")),
        "{reads:?}"
    );
    let before = read_log(None).await.len();
    let register = get("/share-register.csv".to_owned(), &municipality).await;
    assert_eq!(register.status, StatusCode::OK);
    let after = read_log(None).await.len();
    assert_eq!(after, before, "the municipality reads no identity");
    let path = format!("/holders/{}/identity", id(12));
    let other = format!("/holders/{}/identity", id(13));
    assert_eq!(
        call(Method::GET, path.clone(), Some(own.clone()), None)
            .await
            .status,
        StatusCode::OK
    );
    for (token, path, status) in [
        (Some(own.clone()), other.clone(), StatusCode::FORBIDDEN),
        (
            Some(municipality.clone()),
            path.clone(),
            StatusCode::FORBIDDEN,
        ),
        (None, path.clone(), StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(call(Method::GET, path, token, None).await.status, status);
    }

    // A holder corrects their own identity; the export (GDPR) shows both
    // versions, each with the salt that makes its commitment checkable.
    let mut moved = person(12);
    moved.address.city = "Avessac".into();
    let corrected = call(
        Method::POST,
        path.clone(),
        Some(own.clone()),
        Some(json!({"person": moved})),
    )
    .await;
    assert_eq!(corrected.status, StatusCode::CREATED, "{}", corrected.body);
    let export = get(format!("{path}/export"), &own).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    let versions = export.body["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    for v in versions {
        let person: Person = serde_json::from_value(v["person"].clone()).expect("a person");
        let salt: Salt = serde_json::from_value(v["salt"].clone()).expect("a salt");
        assert_eq!(
            Commitment::of(&person, &salt).to_hex(),
            v["commitment"].as_str().expect("hex")
        );
    }
    assert_eq!(versions[1]["person"]["address"]["city"], "Avessac");
    assert_eq!(export.body["in_force"], versions[1]["commitment"]);

    // The ledger: intact, and the erased holders still there by id.
    let keys = server.db.keys();
    match server.store.verify(&ledger, &keys, &[], |_, _| {}).await {
        Ok(Verification::Intact { .. }) => {}
        other => panic!("the chain should be intact: {other:?}"),
    }
    runtime.projections.read(|p| {
        let cap_table = p.cap_table.fold();
        for n in 0..10 {
            assert!(cap_table.holder(&holder(id(n))).is_some());
            assert!(cap_table.identity_erased(&holder(id(n))));
        }
    });
    server.stop().await;
}
