//! `windledger witness` as a party runs it: it prints its key and the
//! address to post to; it co-signs the demo's published checkpoint (a
//! C2SP co-signature that verifies under the key it printed); killed
//! (SIGKILL) and started again on the same state file, it still knows the
//! size it co-signed, and says so (409, `text/x.tlog.size`) to a client
//! that starts from 0; a log it does not know gets 404.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use windledger_store::{CheckpointSigner, CosignatureVerifier};
use windledger_tlog::parse_checkpoint_text;
use windledger_witness::client::{post, request_body};

use crate::support::{command, demo, success, windledger};

/// Starts the witness; its key and address, read from what it prints.
fn start(here: &std::path::Path, log: &str) -> (Child, String, String) {
    let mut child = command(
        here,
        &[
            "witness",
            "--key-file",
            "witness.key",
            "--name",
            "mairie-burdignes.example/temoin",
            "--log",
            log,
            "--state-file",
            "witness.json",
            "--listen",
            "127.0.0.1:0",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .expect("the witness starts");
    let mut lines = BufReader::new(child.stdout.take().expect("its output")).lines();
    let mut key = None;
    let mut url = None;
    while url.is_none() {
        let line = lines.next().expect("a line").expect("text");
        if let Some(k) = line.strip_prefix("Witness key (name it in the charter): ") {
            key = Some(k.to_owned());
        }
        if let Some(u) = line.strip_prefix("Witnessing on ") {
            url = Some(u.trim_end_matches("/add-checkpoint").to_owned());
        }
    }
    (child, key.expect("its key"), url.expect("its address"))
}

#[tokio::test]
async fn a_witness_co_signs_remembers_through_a_kill_and_refuses_a_stranger() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    success(&windledger(here, &["publish", "journal"]), "publish");
    let secret = std::fs::read_to_string(here.join("windledger-demo.key")).expect("the key");
    let log_key = CheckpointSigner::from_secret_key(&secret)
        .expect("a signing key")
        .verifier();
    let note = std::fs::read_to_string(here.join("journal/checkpoint")).expect("a checkpoint");
    let text = log_key.open(&note).expect("signed").to_owned();
    let (origin, size, _) = parse_checkpoint_text(&text).expect("a checkpoint");
    let log = format!("{origin} {log_key}");

    let (mut witness, key, url) = start(here, &log);
    let cosigner = CosignatureVerifier::parse(&key).expect("a witness key");
    let (status, _, line) = post(&url, request_body(0, &[], &note))
        .await
        .expect("an answer");
    assert_eq!(status, 200, "{line}");
    cosigner
        .verify(&format!("{note}{line}"))
        .expect("a co-signature by the key it printed");
    let stranger = note.replacen(&origin, "elsewhere.example/log", 1);
    let (status, _, _) = post(&url, request_body(0, &[], &stranger))
        .await
        .expect("an answer");
    assert_eq!(status, 404);

    witness.kill().expect("killed");
    witness.wait().expect("gone");
    let (mut again, same_key, url) = start(here, &log);
    assert_eq!(same_key, key, "the key file is kept");
    let (status, content_type, body) = post(&url, request_body(0, &[], &note))
        .await
        .expect("an answer");
    assert_eq!(status, 409);
    assert_eq!(content_type.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(body, format!("{size}\n"));
    let (status, _, _) = post(&url, request_body(size, &[], &note))
        .await
        .expect("an answer");
    assert_eq!(status, 200, "the same tree, from the size it knows");
    again.kill().expect("killed");
    again.wait().expect("gone");
}
