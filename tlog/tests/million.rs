//! The log at 1,000,000 events, checked by another implementation than
//! the one it is built with (issue 23): the product's [`Log`] grows the
//! tree leaf by leaf through `tlog_tiles` and gives its roots, proofs and
//! hash tiles; RFC 9162's definitions, written in the tests
//! (`support/mod.rs`, shared with `tlog.rs`), compute the same from the
//! entries alone, and every answer must be theirs.
//!
//! At this size the recursive definitions would hash the whole tree again
//! for every proof, so they read the hashes of complete subtrees from a
//! table ([`Subtrees`]), computed once from the entries by the definition
//! of MTH for 2^k leaves (HASH(0x01 || MTH of the first half || MTH of the
//! second)); the table is itself checked against the plain recursion
//! (`support::mth`, every hash below recomputed) for the whole tree.
//!
//! The check lists everything that disagrees rather than stopping at the
//! first, and [`a_wrong_hash_anywhere_is_caught`] shows that it fails: a
//! log holding one other event hash, at a random position, disagrees on the
//! roots, the proofs and the tiles that cover it; one byte changed in one
//! tile is found in that tile.

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use support::{
    Leaves, grown, largest_power_of_two_below, mth, path_in, proof_in, rfc_verify_consistency,
    rfc_verify_inclusion, sha,
};
use windledger_fixtures::rng::Rng;
use windledger_tlog::{ENTRY_SIZE, Hash, Log, verify_consistency, verify_inclusion};

/// The ledger's size.
const EVENTS: usize = 1_000_000;
/// Inclusion proofs checked, and consistency proofs.
const PROOFS: usize = 200;
/// The seed of the sizes and positions drawn.
const SEED: u64 = 0x7769_6e64_6c65_6467;

/// The hash of the event at `position`: SHA-256 of the position, so that
/// the entries look random and are the same at every run.
fn event_hash(position: u64) -> Hash {
    sha(&[&position.to_be_bytes()])
}

/// An entry as docs/transparency.md defines it: the position (8 bytes,
/// big-endian), then the event's hash.
fn entry_of(position: u64, hash: &Hash) -> [u8; ENTRY_SIZE] {
    let mut e = [0; ENTRY_SIZE];
    e[..8].copy_from_slice(&position.to_be_bytes());
    e[8..].copy_from_slice(hash);
    e
}

fn entries(n: usize) -> Vec<[u8; ENTRY_SIZE]> {
    (1..=n as u64)
        .map(|p| entry_of(p, &event_hash(p)))
        .collect()
}

/// The hashes of the leaves' complete subtrees: `levels[l][i]` is
/// MTH(D[i·2^l : (i+1)·2^l]).
struct Subtrees {
    levels: Vec<Vec<Hash>>,
}

impl Subtrees {
    fn new(entries: &[[u8; ENTRY_SIZE]]) -> Self {
        // MTH({d}) = HASH(0x00 || d).
        let mut levels = vec![
            entries
                .iter()
                .map(|e| sha(&[&[0x00], e]))
                .collect::<Vec<_>>(),
        ];
        // MTH of 2^(l+1) leaves: k = 2^l, the two halves' MTH under 0x01.
        while let Some(below) = levels.last().filter(|l| l.len() >= 2) {
            let next = below
                .chunks_exact(2)
                .map(|pair| sha(&[&[0x01], &pair[0], &pair[1]]))
                .collect();
            levels.push(next);
        }
        Self { levels }
    }

    fn leaf(&self, index: u64) -> Hash {
        self.levels[0][index as usize]
    }

    fn root(&self, size: u64) -> Hash {
        self.mth_of(0, size as usize)
    }
}

impl Leaves for Subtrees {
    /// A complete subtree's hash from the table; any other range by RFC
    /// 9162 2.1.1.
    fn mth_of(&self, lo: usize, hi: usize) -> Hash {
        let n = hi - lo;
        if n == 0 {
            return sha(&[]);
        }
        if n.is_power_of_two() && lo.is_multiple_of(n) {
            return self.levels[n.trailing_zeros() as usize][lo / n];
        }
        let k = largest_power_of_two_below(n);
        sha(&[&[0x01], &self.mth_of(lo, lo + k), &self.mth_of(lo + k, hi)])
    }
}

/// `hash` with one bit flipped somewhere, drawn from `random`.
fn bit_flipped(random: &mut Rng, hash: &Hash) -> Hash {
    let mut h = *hash;
    h[random.below(32) as usize] ^= 1 << random.below(8);
    h
}

/// A C2SP `tlog-tiles` hash tile's path, written here from the
/// specification: `tile/<L>/<N>`, `N` in groups of three digits each but
/// the last prefixed with `x`, then `.p/<W>` for a partial tile.
fn c2sp_tile_path(level: u64, n: u64, width: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    let partial = if width == 256 {
        String::new()
    } else {
        format!(".p/{width}")
    };
    format!("tile/{level}/{}{partial}", groups.join("/"))
}

/// What RFC 9162 says of one proof: the definition that gives it (`PATH`,
/// `PROOF`), its arguments as the RFC writes them, and the section of the
/// algorithm that verifies it.
struct Rfc<'a> {
    definition: &'a str,
    arguments: String,
    section: &'a str,
}

impl<'a> Rfc<'a> {
    fn new(definition: &'a str, arguments: String, section: &'a str) -> Self {
        Rfc {
            definition,
            arguments,
            section,
        }
    }
}

/// The proof the log answered for `what`, after listing in `wrong` how it
/// disagrees with the reference: no proof at all (then `None`), not the
/// `expected` one (RFC 9162's), or refused by RFC 9162's verification
/// (`rfc_accepts`). The reference's own proof must be accepted, or the test
/// is wrong.
fn compared<E: std::fmt::Display>(
    what: &str,
    answered: Result<Vec<Hash>, E>,
    expected: &[Hash],
    rfc: Rfc,
    rfc_accepts: impl Fn(&[Hash]) -> bool,
    wrong: &mut Vec<String>,
) -> Option<Vec<Hash>> {
    let Rfc {
        definition,
        arguments,
        section,
    } = rfc;
    assert!(
        rfc_accepts(expected),
        "the reference's own {definition}({arguments}) does not verify: the test is wrong"
    );
    let proof = match answered {
        Ok(proof) => proof,
        Err(e) => {
            wrong.push(format!("no {what}: {e}"));
            return None;
        }
    };
    if proof != expected {
        wrong.push(format!("{what}: not RFC 9162's {definition}"));
    }
    if !rfc_accepts(&proof) {
        wrong.push(format!(
            "{what}: refused by RFC 9162's verification ({section})"
        ));
    }
    Some(proof)
}

/// What of `log`, grown from `entries`, disagrees with the RFC 9162
/// definitions over the same entries (`reference`): roots at some sizes,
/// [`PROOFS`] inclusion and consistency proofs at sizes and positions
/// drawn from `random`, and the hash tiles of the whole tree and of the
/// tree grown in steps.
fn disagreements(
    log: &Log,
    entries: &[[u8; ENTRY_SIZE]],
    reference: &Subtrees,
    random: &mut Rng,
) -> Vec<String> {
    let size = log.size();
    let mut wrong = Vec::new();

    // Roots: around the tiles' edges, the last two sizes, and random ones.
    let mut sizes: Vec<u64> = [1, 2, 3, 255, 256, 257, 65_535, 65_536, 65_537]
        .into_iter()
        .chain([size - 1, size])
        .chain((0..20).map(|_| 1 + random.below(size)))
        .filter(|s| (1..=size).contains(s))
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for &s in &sizes {
        match log.root(s) {
            Ok(root) if root == reference.root(s) => {}
            Ok(_) => wrong.push(format!("the root of the tree of {s}")),
            Err(e) => wrong.push(format!("no root for the tree of {s}: {e}")),
        }
    }

    // Inclusion proofs: half in the whole tree, half in smaller ones.
    for i in 0..PROOFS {
        let s = if i % 2 == 0 {
            size
        } else {
            1 + random.below(size)
        };
        let index = random.below(s);
        let root = reference.root(s);
        let leaf = reference.leaf(index);
        let expected = path_in(reference, index as usize, 0, s as usize);
        let what = format!("the inclusion proof of leaf {index} in the tree of {s}");
        let rfc = Rfc::new("PATH", format!("{index}, D[{s}]"), "2.1.3.2");
        let entry = &entries[index as usize];
        let accepts = |proof: &[Hash]| rfc_verify_inclusion(index, s, &leaf, proof, &root);
        let answered = log.inclusion_proof(index, s);
        let Some(proof) = compared(&what, answered, &expected, rfc, accepts, &mut wrong) else {
            continue;
        };
        if verify_inclusion(&proof, s, &root, index, entry).is_err() {
            wrong.push(format!("{what}: refused by the product's verification"));
        }
        if !proof.is_empty() {
            let mut altered = proof.clone();
            let at = random.below(proof.len() as u64) as usize;
            altered[at] = bit_flipped(random, &altered[at]);
            assert!(
                !rfc_verify_inclusion(index, s, &leaf, &altered, &root),
                "RFC 9162's verification accepts an altered path: the test is wrong"
            );
            if verify_inclusion(&altered, s, &root, index, entry).is_ok() {
                wrong.push(format!(
                    "{what}: altered, accepted by the product's verification"
                ));
            }
        }
    }

    // Consistency proofs: to the whole tree, or between two smaller ones.
    for i in 0..PROOFS {
        let to = if i % 2 == 0 {
            size
        } else {
            2 + random.below(size - 1)
        };
        let from = 1 + random.below(to - 1);
        let (old, new) = (reference.root(from), reference.root(to));
        let expected = proof_in(reference, from as usize, to as usize);
        let what = format!("the consistency proof from {from} to {to}");
        let rfc = Rfc::new("PROOF", format!("{from}, D[{to}]"), "2.1.4.2");
        let accepts = |proof: &[Hash]| rfc_verify_consistency(from, to, &old, &new, proof);
        let answered = log.consistency_proof(from, to);
        let Some(proof) = compared(&what, answered, &expected, rfc, accepts, &mut wrong) else {
            continue;
        };
        if verify_consistency(&proof, from, &old, to, &new).is_err() {
            wrong.push(format!("{what}: refused by the product's verification"));
        }
        let forked = bit_flipped(random, &old);
        assert!(
            !rfc_verify_consistency(from, to, &forked, &new, &proof),
            "RFC 9162's verification accepts a fork: the test is wrong"
        );
        if verify_consistency(&proof, from, &forked, to, &new).is_ok() {
            wrong.push(format!(
                "{what}: a fork accepted by the product's verification"
            ));
        }
    }

    // Hash tiles: the whole tree's, then the tree grown in steps whose
    // ends fall inside tiles at levels 0, 1 and 2.
    let mut steps = vec![(0, size)];
    let mut old = 0;
    for new in [1, 255, 256, 257, 65_537, 700_001, size - 1, size] {
        if new > old && new <= size {
            steps.push((old, new));
            old = new;
        }
    }
    for (old, new) in steps {
        match log.tiles(old, new) {
            Ok(tiles) => wrong.extend(tile_disagreements(
                &tiles.into_iter().collect(),
                reference,
                old,
                new,
            )),
            Err(e) => wrong.push(format!("no tiles from {old} to {new}: {e}")),
        }
    }
    wrong
}

/// What of `tiles`, the hash tiles to publish when the tree grows from
/// `old` to `new` leaves, is not C2SP's: each tile at level `L` holds the
/// hashes at height 8L of the tree, 256 to a tile (fewer in the last,
/// partial one), and a tree that grows publishes each tile that is new or
/// wider, no other.
fn tile_disagreements(
    tiles: &BTreeMap<String, Vec<u8>>,
    reference: &Subtrees,
    old: u64,
    new: u64,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut expected = 0;
    for level in 0.. {
        let height = 8 * level;
        let (had, has) = (old >> height, new >> height);
        if has == 0 {
            break;
        }
        let hashes = &reference.levels[height as usize];
        for n in 0..has.div_ceil(256) {
            let width = (has - 256 * n).min(256);
            if width == had.saturating_sub(256 * n).min(256) {
                continue;
            }
            expected += 1;
            let path = c2sp_tile_path(level, n, width);
            let start = (256 * n) as usize;
            let want = hashes[start..start + width as usize].concat();
            match tiles.get(&path) {
                None => wrong.push(format!("the tile {path} is missing ({old} to {new})")),
                Some(bytes) if *bytes != want => wrong.push(format!(
                    "the tile {path} ({old} to {new}): not the tree's hashes"
                )),
                Some(_) => {}
            }
        }
    }
    if tiles.len() != expected {
        wrong.push(format!(
            "{} tiles from {old} to {new}, not {expected}",
            tiles.len()
        ));
    }
    wrong
}

#[test]
fn a_million_events_are_rfc_9162s() {
    let started = Instant::now();
    let entries = entries(EVENTS);
    let log = grown(&entries);
    let built = started.elapsed();
    let reference = Subtrees::new(&entries);
    // The table agrees with the plain recursion over every leaf.
    let data: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
    assert_eq!(
        reference.root(EVENTS as u64),
        mth(&data),
        "the table of subtrees is not RFC 9162's MTH: the test is wrong"
    );
    drop(data);
    let referenced = started.elapsed();
    let wrong = disagreements(&log, &entries, &reference, &mut Rng::splitmix(SEED));
    eprintln!(
        "# {EVENTS} events: log built in {:.1} s, reference in {:.1} s, checked in {:.1} s",
        built.as_secs_f64(),
        (referenced - built).as_secs_f64(),
        (started.elapsed() - referenced).as_secs_f64()
    );
    assert!(
        wrong.is_empty(),
        "the log of {EVENTS} events disagrees with RFC 9162 ({} findings, the first 40):\n{}",
        wrong.len(),
        wrong[..wrong.len().min(40)].join("\n")
    );
}

/// The check fails where it should: a log that holds another hash for one
/// event, anywhere, disagrees on the roots, the proofs and the tiles that
/// cover it; one bit changed in one tile is found there. (On a smaller
/// tree, with tiles at the same three levels.)
#[test]
fn a_wrong_hash_anywhere_is_caught() {
    const N: usize = 70_001;
    let entries = entries(N);
    let reference = Subtrees::new(&entries);
    let mut random = Rng::splitmix(SEED ^ 1);

    let log = grown(&entries);
    assert_eq!(
        disagreements(&log, &entries, &reference, &mut random),
        Vec::<String>::new()
    );

    for _ in 0..3 {
        let position = 1 + random.below(N as u64);
        let mut other = entries.clone();
        let index = position as usize - 1;
        other[index] = entry_of(position, &bit_flipped(&mut random, &event_hash(position)));
        let wrong = disagreements(&grown(&other), &entries, &reference, &mut random);
        let tile = c2sp_tile_path(
            0,
            (index / 256) as u64,
            256.min(N - index / 256 * 256) as u64,
        );
        for finding in [
            format!("the root of the tree of {N}"),
            format!("the tile {tile} (0 to {N}): not the tree's hashes"),
        ] {
            assert!(
                wrong.contains(&finding),
                "event {position} altered: {finding:?} not among {wrong:#?}"
            );
        }
        assert!(
            wrong.iter().any(|w| w.starts_with("the inclusion proof")),
            "event {position} altered: no inclusion proof found wrong"
        );
    }

    let size = N as u64;
    let mut tiles: BTreeMap<String, Vec<u8>> = log.tiles(0, size).unwrap().into_iter().collect();
    assert!(tile_disagreements(&tiles, &reference, 0, size).is_empty());
    let paths: Vec<String> = tiles.keys().cloned().collect();
    for level in ["tile/0/", "tile/1/", "tile/2/"] {
        let mut altered = tiles.clone();
        let on_level: Vec<&String> = paths.iter().filter(|p| p.starts_with(level)).collect();
        let path = on_level[random.below(on_level.len() as u64) as usize];
        let bytes = altered.get_mut(path).unwrap();
        let at = random.below(bytes.len() as u64) as usize;
        bytes[at] ^= 1 << random.below(8);
        assert_eq!(
            tile_disagreements(&altered, &reference, 0, size),
            vec![format!(
                "the tile {path} (0 to {size}): not the tree's hashes"
            )]
        );
    }
    tiles.pop_last();
    assert!(
        tile_disagreements(&tiles, &reference, 0, size)
            .iter()
            .any(|w| w.ends_with("is missing (0 to 70001)"))
    );
}
