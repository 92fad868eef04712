//! `windledger publish DIR` after the demo: the folder holds a checkpoint
//! signed by the server's key whose root is the Merkle root of the entries
//! the bundles hold (one per event, positions 1 to the ledger's size, each
//! with the event's hash as exported), and the tiles; publishing again
//! adds nothing; a checkpoint altered, or another log's, is refused in a
//! plain sentence and nothing is written.

use windledger_store::CheckpointSigner;
use windledger_tlog::{ENTRY_SIZE, Log, TILE_WIDTH, parse_checkpoint_text, tile_path};

use crate::support::{demo, failure, stranger_key, success, windledger};

#[test]
fn the_ledger_is_published_as_a_transparency_log() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    let said = success(&windledger(here, &["publish", "journal"]), "publish");
    assert!(said.contains("checkpoint signed by"), "{said}");

    // The demo's signing key, beside its database (`windledger-demo.key`).
    let key = std::fs::read_to_string(here.join("windledger-demo.key")).expect("the key");
    let verifier = CheckpointSigner::from_secret_key(&key)
        .expect("a signing key")
        .verifier();
    let note = std::fs::read_to_string(here.join("journal/checkpoint")).expect("a checkpoint");
    let text = verifier.open(&note).expect("signed by the server's key");
    let (origin, size, root) = parse_checkpoint_text(text).expect("a checkpoint's text");
    assert!(
        origin.starts_with("windledger/") && origin.ends_with("/tlog"),
        "{origin}"
    );
    assert!(size > 1_000, "the demo's events: {size}");

    // The entries, bundle by bundle, rebuild the tree the checkpoint signs.
    let exported = here.join("events.jsonl");
    success(
        &windledger(
            here,
            &[
                "export",
                "events",
                "--output",
                exported.to_str().expect("a path"),
            ],
        ),
        "export events",
    );
    let hashes: Vec<String> = std::fs::read_to_string(&exported)
        .expect("the export")
        .lines()
        .map(|l| {
            let event: serde_json::Value = serde_json::from_str(l).expect("JSON");
            event["hash"].as_str().expect("a hash").to_owned()
        })
        .collect();
    assert_eq!(hashes.len() as u64, size);
    let mut log = Log::new();
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for b in 0..size.div_ceil(TILE_WIDTH) {
        let width = (size - b * TILE_WIDTH).min(TILE_WIDTH) as u32;
        let path = here
            .join("journal")
            .join(tile_path("entries".to_owned(), b, width));
        let bundle = std::fs::read(&path).expect("an entry bundle");
        for (i, chunk) in bundle.chunks(ENTRY_SIZE + 2).enumerate() {
            assert_eq!(chunk[..2], (ENTRY_SIZE as u16).to_be_bytes());
            let entry = &chunk[2..];
            let position = b * TILE_WIDTH + i as u64 + 1;
            assert_eq!(entry[..8], position.to_be_bytes());
            assert_eq!(hex::encode(&entry[8..]), hashes[position as usize - 1]);
            log.append(entry).expect("in order");
            entries.push(entry.to_vec());
        }
    }
    assert_eq!(log.size(), size);
    assert_eq!(log.root(size).expect("a root"), root);
    assert!(
        here.join("journal")
            .join(tile_path("0".to_owned(), 0, 256))
            .exists()
    );

    // A receipt built from the published folder alone checks offline with
    // the key; altered, or with another key, it is refused.
    let position = size / 2;
    let leaf = &entries[position as usize - 1];
    let event_hash: [u8; 32] = leaf[8..].try_into().expect("32 bytes");
    let receipt = windledger_tlog::Receipt::new(
        origin.clone(),
        position,
        &event_hash,
        note.clone(),
        &log.inclusion_proof(position - 1, size).expect("a proof"),
    );
    let write = |name: &str, r: &windledger_tlog::Receipt| {
        let path = here.join(name);
        std::fs::write(&path, serde_json::to_string(r).expect("JSON")).expect("written");
        path.to_str().expect("a path").to_owned()
    };
    let key = verifier.to_string();
    let file = write("recu.json", &receipt);
    let said = success(
        &windledger(here, &["verify-receipt", &file, "--key", &key]),
        "verify-receipt",
    );
    assert!(
        said.contains(&format!("The event at position {position} with hash")),
        "{said}"
    );
    let mut altered = receipt.clone();
    altered.hash = hashes[0].clone();
    let file = write("recu-altere.json", &altered);
    let said = failure(
        &windledger(here, &["verify-receipt", &file, "--key", &key]),
        "verify-receipt of an altered receipt",
    );
    assert!(said.contains("the receipt does not check"), "{said}");
    let other = stranger_key("another");
    let file = write("recu.json", &receipt);
    let said = failure(
        &windledger(here, &["verify-receipt", &file, "--key", &other]),
        "verify-receipt with another key",
    );
    assert!(said.contains("is not signed by this key"), "{said}");

    // Again: nothing new.
    let said = success(&windledger(here, &["publish", "journal"]), "publish again");
    assert!(said.contains("(0 new)"), "{said}");

    // Another log's folder, or a checkpoint altered: refused.
    let said = failure(
        &windledger(
            here,
            &["publish", "journal", "--origin", "example.org/another"],
        ),
        "publish another log to the folder",
    );
    assert!(
        said.contains("publish each ledger to its own folder"),
        "{said}"
    );
    let altered = note.replacen(&size.to_string(), &(size - 1).to_string(), 1);
    std::fs::write(here.join("journal/checkpoint"), &altered).expect("altered");
    let said = failure(
        &windledger(here, &["publish", "journal"]),
        "publish over an altered checkpoint",
    );
    assert!(
        said.contains("is not a checkpoint signed by this server's key"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(here.join("journal/checkpoint")).expect("kept"),
        altered,
        "nothing written"
    );
}

/// `windledger publish` killed (SIGKILL) at moments spread over its run,
/// into a fresh folder each time: whatever the moment, the folder holds
/// either no checkpoint or one that verifies and whose every tile and
/// bundle is there with the bytes the tree gives; publishing again then
/// completes, and the folder is whole.
#[cfg(unix)]
#[test]
fn a_publish_killed_at_any_moment_leaves_a_whole_log_or_none() {
    use std::time::{Duration, Instant};

    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    let key = std::fs::read_to_string(here.join("windledger-demo.key")).expect("the key");
    let verifier = CheckpointSigner::from_secret_key(&key)
        .expect("a signing key")
        .verifier();
    // How long a whole publish takes here, to spread the kills over it.
    let started = Instant::now();
    success(&windledger(here, &["publish", "timed"]), "publish");
    let whole = started.elapsed();
    let reference = here.join("timed");

    let check = |dir: &std::path::Path| -> Option<u64> {
        let note = std::fs::read_to_string(dir.join("checkpoint")).ok()?;
        let text = verifier.open(&note).expect("a whole, signed checkpoint");
        let (_, size, root) = parse_checkpoint_text(text).expect("a checkpoint");
        // Every file the tree of that size needs is there, as the whole
        // publish wrote it (tiles and bundles never change once written).
        let mut log = Log::new();
        for b in 0..size.div_ceil(TILE_WIDTH) {
            let width = (size - b * TILE_WIDTH).min(TILE_WIDTH) as u32;
            let path = tile_path("entries".to_owned(), b, width);
            let bundle = std::fs::read(dir.join(&path)).expect("the bundle is there");
            assert_eq!(
                bundle,
                std::fs::read(reference.join(&path)).expect("the same")
            );
            for chunk in bundle.chunks(ENTRY_SIZE + 2) {
                log.append(&chunk[2..]).expect("in order");
            }
        }
        assert_eq!(log.root(size).expect("a root"), root);
        for (path, bytes) in log.tiles(0, size).expect("tiles") {
            assert_eq!(
                std::fs::read(dir.join(&path)).expect("the tile is there"),
                bytes,
                "{path}"
            );
        }
        Some(size)
    };
    assert!(check(&reference).is_some());

    let rounds: u32 = 8;
    let mut interrupted = 0;
    for round in 0..rounds {
        let dir = format!("killed-{round}");
        // Spread over the run, from the start to a little past its end.
        let delay = whole.mul_f64(f64::from(round) / f64::from(rounds - 1) * 1.1);
        let mut child = crate::support::command(here, &["publish", &dir])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("publish starts");
        std::thread::sleep(delay.max(Duration::from_millis(1)));
        if child.try_wait().expect("a status").is_none() {
            interrupted += 1;
        }
        let _ = child.kill();
        child.wait().expect("gone");
        let before = check(&here.join(&dir));
        let said = success(
            &windledger(here, &["publish", &dir]),
            "publish after a kill",
        );
        assert!(said.contains("Published"), "{said}");
        let after = check(&here.join(&dir)).expect("a whole log");
        assert!(before.is_none_or(|b| b == after), "{before:?} {after}");
    }
    assert!(interrupted > 0, "no publish was killed mid-run");
}
