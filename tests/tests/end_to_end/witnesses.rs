//! The three parties co-sign the ledger's history (issue 23,
//! docs/transparency.md, "Witnesses"): three witnesses on 127.0.0.1 (the
//! municipality's, the citizens' college's, the industrial partner's),
//! named by the charter with a policy of 2 of 3. The server's checkpoint
//! carries their C2SP co-signatures; a receipt verifies offline under the
//! policy, and is refused with 1 of 3; a ledger rolled back or forked
//! behind the server's back (superuser tampering) gets no co-signature,
//! and the refusal is reported by the server and kept by the witnesses.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use windledger::options::WitnessPolicyOptions;
use windledger::verify_receipt::{VerifyReceiptOptions, run as verify_receipt};
use windledger_api::auth::Role;
use windledger_store::testing::TestDatabase;
use windledger_store::{CheckpointSigner, LedgerId, WitnessPolicy, on_both_backends};
use windledger_witness::{KnownLog, Witness, serve};

use crate::server::{self, LEDGER, REFERENCE_FARM, Server};

on_both_backends!(three_witnesses_co_sign_and_refuse_a_rewritten_ledger);

/// A witness served on 127.0.0.1, its state in `state_file`.
struct Running {
    signer_key: String,
    state_file: PathBuf,
    url: String,
    task: tokio::task::JoinHandle<()>,
}

async fn start_witness(
    secret_key: &str,
    log_key: &windledger_store::CheckpointVerifier,
    state_file: PathBuf,
    listener: Option<tokio::net::TcpListener>,
    url: Option<String>,
) -> Running {
    let signer = CheckpointSigner::from_secret_key(secret_key).expect("a key");
    let witness = Witness::open(
        signer,
        vec![KnownLog {
            origin: format!("windledger/{LEDGER}/tlog"),
            keys: vec![log_key.clone()],
        }],
        state_file.clone(),
    )
    .expect("a witness");
    let listener = match (listener, &url) {
        (Some(listener), _) => listener,
        (None, Some(url)) => {
            let addr = url.trim_start_matches("http://");
            tokio::net::TcpListener::bind(addr)
                .await
                .expect("the same port again")
        }
        (None, None) => unreachable!("a listener or an address"),
    };
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let task = tokio::spawn(async move {
        serve(listener, Arc::new(witness), std::future::pending())
            .await
            .expect("the witness serves");
    });
    Running {
        signer_key: secret_key.to_owned(),
        state_file,
        url,
        task,
    }
}

/// The reference farm with a charter naming `witnesses` (party, key, url),
/// 2 of them needed.
fn farm_with_witnesses(witnesses: &[(&str, String, String)]) -> String {
    let named: Vec<Value> = witnesses
        .iter()
        .map(|(party, key, url)| serde_json::json!({"party": party, "key": key, "url": url}))
        .collect();
    let policy = serde_json::json!({"quorum": 2, "witnesses": named});
    let farm = REFERENCE_FARM.replace(
        "\"charter\":{",
        &format!("\"charter\":{{\"witnesses\":{policy},"),
    );
    assert_ne!(farm, REFERENCE_FARM, "the farm has a charter to amend");
    farm
}

/// The checkpoint as `GET .../tlog/checkpoint` gives it once a round may
/// run again (rounds are at least `ROUND_EVERY` apart).
async fn checkpoint_note(server: &Server) -> (u16, String) {
    tokio::time::sleep(
        windledger_api::witnessing::ROUND_EVERY + std::time::Duration::from_millis(100),
    )
    .await;
    let response = server
        .client
        .get(server.api("/tlog/checkpoint"))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.text().await.expect("text"))
}

/// `windledger verify-receipt` on `receipt` under 2 of the witnesses.
fn check_receipt(
    dir: &std::path::Path,
    receipt: &Value,
    log_key: &str,
    witnesses: &[String],
) -> Result<String, String> {
    let path = dir.join("receipt.json");
    std::fs::write(&path, receipt.to_string()).expect("written");
    let mut out = Vec::new();
    verify_receipt(
        &VerifyReceiptOptions {
            receipt: path,
            keys: vec![log_key.to_owned()],
            witnesses: WitnessPolicyOptions {
                witnesses: witnesses.to_vec(),
                quorum: Some(2),
            },
            holder: None,
        },
        &mut out,
    )
    .map_err(|e| format!("{e:#}"))?;
    Ok(String::from_utf8(out).expect("text"))
}

async fn statuses(server: &Server) -> Vec<Value> {
    let body: Value = server.get("/tlog/witnesses", None).await.expect(200).body;
    body.as_array().expect("a list").clone()
}

/// The witnesses' statuses, the first two refusing for a reason that says
/// `why`.
async fn first_two_refusing(server: &Server, why: &str) -> Vec<Value> {
    let reported = statuses(server).await;
    for s in &reported[..2] {
        assert!(
            s["refusal"].as_str().is_some_and(|r| r.contains(why)),
            "{s}"
        );
    }
    reported
}

async fn three_witnesses_co_sign_and_refuse_a_rewritten_ledger(db: TestDatabase) {
    let dir = tempfile::tempdir().expect("a folder");
    let log_key = db.checkpoint_signer().verifier();
    let parties = [
        "Mairie de Burdignes",
        "Collège des citoyens",
        "Partenaire industriel",
    ];
    let mut witnesses = Vec::new();
    let mut named = Vec::new();
    for (i, party) in parties.iter().enumerate() {
        let signer = CheckpointSigner::generate(&format!("temoin-{i}.example")).expect("a key");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let running = start_witness(
            &signer.to_secret_key(),
            &log_key,
            dir.path().join(format!("witness-{i}.json")),
            Some(listener),
            None,
        )
        .await;
        named.push((*party, signer.cosigner().to_string(), running.url.clone()));
        witnesses.push(running);
    }
    let witness_keys: Vec<String> = named.iter().map(|(_, k, _)| k.clone()).collect();
    let policy = WitnessPolicy {
        witnesses: witness_keys
            .iter()
            .map(|k| windledger_store::CosignatureVerifier::parse(k).expect("a key"))
            .collect(),
        quorum: 2,
    };
    let store = db.store().await;
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    windledger_app::import::import(
        store.clone(),
        ledger.clone(),
        farm_with_witnesses(&named).as_bytes(),
        |_| {},
    )
    .await
    .expect("the farm imports with its witnesses");
    let server = Server::start(db, store).await;

    // The checkpoint is co-signed by the three witnesses.
    let (status, note) = checkpoint_note(&server).await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(
        policy.check(&note).expect("co-signed"),
        parties
            .iter()
            .enumerate()
            .map(|(i, _)| format!("temoin-{i}.example"))
            .collect::<Vec<_>>()
    );
    let size = server.head().await;
    assert!(note.contains(&format!("\n{size}\n")), "{note}");
    for s in statuses(&server).await {
        assert_eq!(s["cosigned_size"], size, "{s}");
        assert!(s["refusal"].is_null(), "{s}");
    }

    // A receipt carries that checkpoint and verifies offline under 2 of 3.
    let receipt: Value = server.get("/receipts/3", None).await.expect(200).body;
    // A receipt checked offline against the log's key and the witnesses'.
    let checked =
        |receipt: &Value| check_receipt(dir.path(), receipt, &log_key.to_string(), &witness_keys);
    let said = checked(&receipt).expect("the receipt verifies under the policy");
    assert!(
        said.contains(
            "co-signed by the witnesses temoin-0.example, temoin-1.example, temoin-2.example"
        ),
        "{said}"
    );
    // With one co-signature of three, the same receipt is refused.
    let mut lines: Vec<&str> = receipt["checkpoint"]
        .as_str()
        .expect("a note")
        .split_inclusive('\n')
        .collect();
    let cosignatures: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("\u{2014} temoin-"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(cosignatures.len(), 3);
    lines.remove(cosignatures[2]);
    lines.remove(cosignatures[1]);
    let mut one = receipt.clone();
    one["checkpoint"] = Value::String(lines.concat());
    let refused = checked(&one).expect_err("1 of 3 is not 2 of 3");
    assert!(
        refused.contains(
            "co-signed by 1 of the witnesses the charter names (temoin-0.example), 2 are needed"
        ),
        "{refused}"
    );

    // `windledger publish` asks the same witnesses: the folder's
    // checkpoint carries their co-signatures.
    let published = dir.path().join("journal");
    let said = publish(&server, dir.path(), &published)
        .await
        .expect("published");
    assert!(
        said.contains(
            "and co-signed by the witnesses temoin-0.example, temoin-1.example, temoin-2.example"
        ),
        "{said}"
    );
    let note = std::fs::read_to_string(published.join("checkpoint")).expect("a checkpoint");
    assert_eq!(policy.check(&note).expect("co-signed").len(), 3);

    // One witness stops: the ledger grows, 2 of 3 still co-sign.
    witnesses[2].task.abort();
    let _ = (&mut witnesses[2].task).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    server
        .post("/shareholders", &secretary, server::admission("cit-951"))
        .await
        .expect(201);
    let grown = server.head().await;
    let (status, note) = checkpoint_note(&server).await;
    assert_eq!(status, 200, "{note}");
    assert!(note.contains(&format!("\n{grown}\n")), "{note}");
    assert_eq!(policy.check(&note).expect("2 of 3").len(), 2);
    let down = statuses(&server).await;
    assert!(
        down[2]["refusal"]
            .as_str()
            .is_some_and(|r| r.contains("cannot connect")),
        "{down:?}"
    );
    let (_, still) = start_witness_again(&mut witnesses, 2, &log_key).await;
    assert!(still.is_empty());

    // A superuser cuts the last events behind the server's back, and the
    // server restarts on the shorter ledger: no witness co-signs it, the
    // server says why.
    let cut = grown - 4;
    server.db.cut_history(&ledger, cut).await;
    let server = server.restart().await;
    assert_eq!(server.head().await, cut);
    let (status, refusal) = checkpoint_note(&server).await;
    assert_eq!(status, 503, "{refusal}");
    assert!(refusal.contains("rolled back"), "{refusal}");
    let reported = first_two_refusing(&server, "rolled back").await;
    for s in &reported[..2] {
        assert_eq!(s["cosigned_size"], grown, "{s}");
    }
    // Nor does `windledger publish` get a checkpoint for it: nothing is
    // written.
    let elsewhere = dir.path().join("journal-cut");
    let refused = publish(&server, dir.path(), &elsewhere)
        .await
        .expect_err("no co-signature for a rolled-back ledger");
    assert!(
        refused.contains("the witnesses did not co-sign the checkpoint"),
        "{refused}"
    );
    assert!(refused.contains("rolled back"), "{refused}");
    assert!(!elsewhere.join("checkpoint").exists());

    // New events on the cut ledger make it longer than what the witnesses
    // co-signed, with another history: a fork, refused (422) and kept.
    for n in 0..6 {
        server
            .post(
                "/shareholders",
                &secretary_of(&server).await,
                server::admission(&format!("cit-96{n}")),
            )
            .await
            .expect(201);
    }
    assert!(server.head().await > grown);
    let (status, refusal) = checkpoint_note(&server).await;
    assert_eq!(status, 503, "{refusal}");
    first_two_refusing(&server, "forked or rewritten").await;
    for w in &witnesses[..2] {
        let mut evidence = w.state_file.clone().into_os_string();
        evidence.push(".refused");
        let kept = std::fs::read_to_string(&evidence).expect("the refused checkpoints are kept");
        assert!(kept.contains("consistency proof does not show"), "{kept}");
    }
    server.stop().await;
    for w in witnesses {
        w.task.abort();
    }
}

/// `windledger publish` of the server's ledger to `folder`, with the
/// server's key: what it says, or its error.
async fn publish(
    server: &Server,
    dir: &std::path::Path,
    folder: &std::path::Path,
) -> Result<String, String> {
    let key_file = dir.join("server.key");
    std::fs::write(&key_file, server.signer.to_secret_key()).expect("written");
    let mut said = Vec::new();
    windledger::publish::run(
        &windledger::publish::PublishOptions {
            dir: folder.to_owned(),
            origin: None,
            ledger: windledger::options::LedgerOptions {
                database_url: server.db.url.clone(),
                ledger: LEDGER.to_owned(),
            },
            keys: windledger::options::KeyOptions {
                key_file,
                vault_key_file: dir.join("vault.key"),
            },
        },
        &mut said,
    )
    .await
    .map_err(|e| format!("{e:#}"))?;
    Ok(String::from_utf8(said).expect("text"))
}

async fn secretary_of(server: &Server) -> String {
    server.token(LEDGER, Role::Secretary, None).await
}

/// Restarts witness `i` on its port with its state: what it co-signed
/// (its state file) survives. Returns its url and any refusal kept.
async fn start_witness_again(
    witnesses: &mut [Running],
    i: usize,
    log_key: &windledger_store::CheckpointVerifier,
) -> (String, String) {
    if !witnesses[i].task.is_finished() {
        witnesses[i].task.abort();
        let _ = (&mut witnesses[i].task).await;
    }
    let old = &witnesses[i];
    let running = start_witness(
        &old.signer_key,
        log_key,
        old.state_file.clone(),
        None,
        Some(old.url.clone()),
    )
    .await;
    let mut evidence = running.state_file.clone().into_os_string();
    evidence.push(".refused");
    let kept = std::fs::read_to_string(evidence).unwrap_or_default();
    let url = running.url.clone();
    witnesses[i] = running;
    (url, kept)
}
