//! The ledger served as a transparency log (issue 23, docs/transparency.md):
//! on the reference farm, the checkpoint verifies under the server's key;
//! the entry bundles and hash tiles fetched as any C2SP `tlog-tiles` client
//! would rebuild the tree it signs, each entry the position and hash of
//! the event there; the inclusion and consistency proofs the server gives
//! check against the roots; a later checkpoint extends the earlier one.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use windledger_api::auth::Role;
use windledger_store::testing::TestDatabase;
use windledger_store::{CheckpointVerifier, LedgerId, on_both_backends};
use windledger_tlog::{
    ENTRY_SIZE, Hash, Log, TILE_WIDTH, parse_checkpoint_text, tile_path, verify_consistency,
    verify_inclusion,
};

use crate::server::{LEDGER, REFERENCE_FARM, Server};

on_both_backends!(the_ledger_is_a_transparency_log_any_client_checks);

/// `GET .../tlog/<path>`: status, headers and bytes.
async fn fetch(server: &Server, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = server
        .client
        .get(server.api(&format!("/tlog/{path}")))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.bytes().await.expect("a body").to_vec(),
    )
}

/// The checkpoint, verified: its size and root.
async fn checkpoint(server: &Server, verifier: &CheckpointVerifier) -> (u64, Hash) {
    let (status, headers, body) = fetch(server, "checkpoint").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let note = String::from_utf8(body).expect("text");
    let text = verifier.open(&note).expect("signed by the server's key");
    let (origin, size, root) = parse_checkpoint_text(text).expect("a checkpoint");
    assert_eq!(origin, format!("windledger/{LEDGER}/tlog"));
    (size, root)
}

/// The base64 hashes of an answer's `proof`.
fn proof_of(answer: &Value) -> Vec<Hash> {
    answer["proof"]
        .as_array()
        .expect("a proof")
        .iter()
        .map(base64_hash)
        .collect()
}

fn base64_hash(v: &Value) -> Hash {
    B64.decode(v.as_str().expect("base64"))
        .expect("base64")
        .try_into()
        .expect("32 bytes")
}

async fn the_ledger_is_a_transparency_log_any_client_checks(db: TestDatabase) {
    let store = db.store().await;
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    windledger_app::import::import(
        store.clone(),
        ledger.clone(),
        REFERENCE_FARM.as_bytes(),
        |_| {},
    )
    .await
    .expect("the farm imports");
    let server = Server::start(db, store).await;
    let signed: Value = server.get("/checkpoint", None).await.expect(200).body;
    let verifier =
        CheckpointVerifier::parse(signed["public_key"].as_str().expect("a key")).expect("a key");
    let (size, root) = checkpoint(&server, &verifier).await;
    assert_eq!(size, server.head().await);

    // Every entry bundle, read as a client would: the tree they make is
    // the one the checkpoint signs, each entry the event at its position.
    let mut log = Log::new();
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for b in 0..size.div_ceil(TILE_WIDTH) {
        let width = (size - b * TILE_WIDTH).min(TILE_WIDTH) as u32;
        let path = tile_path("entries".to_owned(), b, width);
        let (status, headers, bundle) = fetch(&server, &path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        for chunk in bundle.chunks(ENTRY_SIZE + 2) {
            log.append(&chunk[2..]).expect("in order");
            entries.push(chunk[2..].to_vec());
        }
    }
    assert_eq!(log.size(), size);
    assert_eq!(log.root(size).expect("a root"), root);
    for position in [1, 1_000, size] {
        let event = server.event_at(position).await;
        let leaf = &entries[position as usize - 1];
        assert_eq!(leaf[..8], position.to_be_bytes());
        assert_eq!(leaf[8..], event.hash.0);
    }
    // The level-0 tiles hold the leaves' hashes.
    let (status, _, tile) = fetch(&server, "tile/0/000").await;
    assert_eq!(status, 200);
    for i in [0u64, 17, 255] {
        let leaf = &entries[i as usize];
        let hash: Hash = Sha256::new()
            .chain_update([0u8])
            .chain_update(leaf)
            .finalize()
            .into();
        assert_eq!(tile[i as usize * 32..][..32], hash);
    }
    for missing in [
        tile_path("0".to_owned(), size / TILE_WIDTH + 1, 256),
        "tile/0/000.p/300".to_owned(),
        "tile/entries/x000/000".to_owned(),
    ] {
        let (status, _, _) = fetch(&server, &missing).await;
        assert_eq!(status, 404, "{missing}");
    }

    // Proofs, checked against the roots.
    for position in [1, 777, size] {
        let answer = server
            .get(
                &format!("/proofs/inclusion?position={position}&size={size}"),
                None,
            )
            .await
            .expect(200)
            .body;
        let proof = proof_of(&answer);
        let entry = hex::decode(answer["entry"].as_str().expect("hex")).expect("hex");
        assert_eq!(entry, entries[position as usize - 1]);
        assert_eq!(base64_hash(&answer["root"]), root);
        verify_inclusion(&proof, size, &root, position - 1, &entry).expect("included");
    }
    // A receipt to keep: checked with the key, refused once altered.
    let receipt: windledger_tlog::Receipt =
        serde_json::from_value(server.get("/receipts/777", None).await.expect(200).body)
            .expect("a receipt");
    let text = verifier
        .open(&receipt.checkpoint)
        .expect("signed")
        .to_owned();
    let shown = receipt.verify(&text).expect("the event is in the log");
    assert_eq!((shown.position, shown.size), (777, size));
    let mut altered = receipt.clone();
    altered.hash = hex::encode([7u8; 32]);
    assert!(altered.verify(&text).is_err());
    server
        .get("/receipts/0", None)
        .await
        .problem(404, "not-found");
    server
        .get(&format!("/receipts/{}", size + 5), None)
        .await
        .problem(404, "not-found");
    server
        .get(&format!("/proofs/inclusion?position={}", size + 1), None)
        .await
        .problem(422, "validation");
    server
        .get("/proofs/inclusion?position=0", None)
        .await
        .problem(422, "validation");

    // A new event: the next checkpoint extends this one.
    let token = server.token(LEDGER, Role::Secretary, None).await;
    let holders: Value = server.get("/holders", Some(&token)).await.expect(200).body;
    let holder = holders
        .as_array()
        .expect("holders")
        .iter()
        .find(|h| h["history"]["kind"] == "individual")
        .and_then(|h| h["holder"].as_str())
        .expect("an individual")
        .to_owned();
    server
        .post(
            &format!("/holders/{holder}/identity"),
            &token,
            json!({"person": {
                "identity": {"person": "natural", "family_name": "Martin", "given_names": "Camille", "birth": null},
                "address": {"lines": ["1 place de la Mairie"], "postal_code": "42026", "city": "Taillard", "country": "FR"},
                "email": null, "tax_residence": "FR", "bank_account": null}}),
        )
        .await
        .expect(201);
    let (later, later_root) = checkpoint(&server, &verifier).await;
    assert_eq!(later, size + 1);
    let answer = server
        .get(&format!("/proofs/consistency?from={size}&to={later}"), None)
        .await
        .expect(200)
        .body;
    let proof = proof_of(&answer);
    verify_consistency(&proof, size, &root, later, &later_root)
        .expect("the later tree extends the earlier");
    server
        .get("/proofs/consistency?from=0", None)
        .await
        .problem(422, "validation");
    server.stop().await;
}
