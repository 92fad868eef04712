//! The log checked against an implementation written in the tests
//! (`support/mod.rs`), straight from RFC 9162 section 2.1 (MTH, PATH,
//! PROOF, by their recursive definitions), independent of the stored-hash
//! layout the product uses (`tlog_tiles`, Go's `sumdb/tlog` ported); and
//! the C2SP tiles and entry bundles read back against it. `million.rs`
//! does the same at 1,000,000 leaves.

mod support;

use proptest::prelude::*;
use support::{grown, mth, path, proof, sha};
use windledger_tlog::{
    ENTRY_SIZE, Log, TILE_WIDTH, checkpoint_text, entry, entry_bundles, parse_checkpoint_text,
    verify_consistency, verify_inclusion,
};

/// `n` entries, the event hashes drawn from `seed`.
fn entries(n: usize, seed: u8) -> Vec<[u8; ENTRY_SIZE]> {
    (1..=n as u64)
        .map(|p| entry(p, &sha(&[&[seed], &p.to_be_bytes()])))
        .collect()
}

fn as_data(entries: &[[u8; ENTRY_SIZE]]) -> Vec<Vec<u8>> {
    entries.iter().map(|e| e.to_vec()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn roots_and_proofs_are_rfc_9162s(n in 1usize..140, seed: u8, m_seed: usize, k_seed: usize) {
        let e = entries(n, seed);
        let d = as_data(&e);
        let log = grown(&e);
        let size = 1 + k_seed % n;
        prop_assert_eq!(log.root(size as u64).unwrap(), mth(&d[..size]));
        let m = m_seed % size;
        let p = log.inclusion_proof(m as u64, size as u64).unwrap();
        prop_assert_eq!(&p, &path(m, &d[..size]));
        let root = mth(&d[..size]);
        prop_assert!(verify_inclusion(&p, size as u64, &root, m as u64, &e[m]).is_ok());
        // Another entry, or another root, does not check.
        let other = (m + 1) % size;
        if other != m {
            prop_assert!(verify_inclusion(&p, size as u64, &root, m as u64, &e[other]).is_err());
        }
        let mut wrong = root;
        wrong[0] ^= 1;
        prop_assert!(verify_inclusion(&p, size as u64, &wrong, m as u64, &e[m]).is_err());

        let from = 1 + m_seed % size;
        let c = log.consistency_proof(from as u64, size as u64).unwrap();
        prop_assert_eq!(&c, &proof(from, &d[..size]));
        let old = mth(&d[..from]);
        prop_assert!(verify_consistency(&c, from as u64, &old, size as u64, &root).is_ok());
        if from < size {
            let mut forked = old;
            forked[31] ^= 0x80;
            prop_assert!(verify_consistency(&c, from as u64, &forked, size as u64, &root).is_err());
        }
    }
}

#[test]
fn the_empty_tree_and_bad_requests() {
    let log = Log::new();
    assert_eq!(log.root(0).unwrap(), mth(&[]));
    assert!(log.root(1).is_err());
    let log = grown(&entries(5, 1));
    assert!(log.inclusion_proof(5, 5).is_err());
    assert!(log.inclusion_proof(0, 6).is_err());
    assert!(log.consistency_proof(0, 5).is_err());
    assert!(log.consistency_proof(4, 3).is_err());
    let mut log = log;
    assert!(
        log.append(&entry(7, &[0; 32])).is_err(),
        "position 6 comes next"
    );
    assert!(log.append(&[0; 12]).is_err());
}

/// The tiles of a tree grown in steps, read back: level 0 holds the leaf
/// hashes, level 1 the roots of each 256 leaves, partial tiles what is
/// there; together with the entry bundles they give back the root.
#[test]
fn tiles_and_bundles_give_back_the_tree() {
    let n = 3 * 256 * 256 / 2 + 77; // full and partial tiles at levels 0, 1 and 2
    let e = entries(n, 9);
    let d = as_data(&e);
    let log = grown(&e);
    let mut files = std::collections::BTreeMap::new();
    let mut old = 0;
    for new in [1, 255, 256, 257, 1000, 70_000, n as u64] {
        for (path, bytes) in log.tiles(old, new).unwrap() {
            files.insert(path, bytes);
        }
        for (path, bytes) in entry_bundles(&e, old, new).unwrap() {
            files.insert(path, bytes);
        }
        old = new;
    }
    let size = n as u64;
    // Level 0: every full tile and the last partial one, the leaf hashes.
    let full = size / TILE_WIDTH;
    for t in 0..full {
        let path = windledger_tlog::tile_path("0".to_owned(), t, 256);
        let tile = &files[&path];
        for i in 0..256 {
            let leaf = (t * TILE_WIDTH + i) as usize;
            assert_eq!(
                &tile[i as usize * 32..][..32],
                &mth(&d[leaf..=leaf]),
                "{path}"
            );
        }
    }
    let rest = (size % TILE_WIDTH) as u32;
    let partial = windledger_tlog::tile_path("0".to_owned(), full, rest);
    assert_eq!(files[&partial].len(), rest as usize * 32);
    // Level 1: the root of each complete 256 leaves.
    let level1 = windledger_tlog::tile_path("1".to_owned(), 0, 256);
    let tile = &files[&level1];
    for i in [0usize, 1, 100, 255] {
        assert_eq!(
            &tile[i * 32..][..32],
            &mth(&d[i * 256..(i + 1) * 256]),
            "{level1}"
        );
    }
    // Level 2: one partial tile, of one hash (the first 65,536 leaves).
    let level2 = windledger_tlog::tile_path("2".to_owned(), 0, 1);
    assert_eq!(files[&level2], mth(&d[..65_536]).to_vec());
    // The entry bundles hold every entry, each length-prefixed, in order.
    let mut read = Vec::new();
    for b in 0..size.div_ceil(TILE_WIDTH) {
        let width = (size - b * TILE_WIDTH).min(TILE_WIDTH) as u32;
        let bundle = &files[&windledger_tlog::tile_path("entries".to_owned(), b, width)];
        let mut rest = bundle.as_slice();
        while let [hi, lo, tail @ ..] = rest {
            let len = u16::from_be_bytes([*hi, *lo]) as usize;
            read.push(tail[..len].to_vec());
            rest = &tail[len..];
        }
    }
    assert_eq!(read, d);
    assert_eq!(mth(&read), log.root(size).unwrap());
    assert_eq!(
        windledger_tlog::tile_path("0".to_owned(), 1_234_067, 8),
        "tile/0/x001/x234/067.p/8"
    );
}

#[test]
fn a_checkpoints_text_is_c2sps() {
    let root = sha(&[b"root"]);
    let text = checkpoint_text("example.org/log", 42, &root, &[]);
    assert_eq!(text, format!("example.org/log\n42\n{}\n", base64_of(&root)));
    assert_eq!(
        parse_checkpoint_text(&text),
        Some(("example.org/log".to_owned(), 42, root))
    );
    assert_eq!(parse_checkpoint_text("o\n042\nAAAA\n"), None);
    assert_eq!(parse_checkpoint_text("\n1\nAAAA\n"), None);
}

fn base64_of(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
