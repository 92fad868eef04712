//! RFC 9162 section 2.1, written here from the RFC's text and shared by the
//! log's tests, independent of the stored-hash layout the product uses
//! (`tlog_tiles`, Go's `sumdb/tlog` ported): the Merkle Tree Hash (MTH),
//! audit paths (PATH) and consistency proofs (PROOF) by their recursive
//! definitions, and the RFC's algorithms that verify a path (2.1.3.2) and
//! a consistency proof (2.1.4.2).
//!
//! The definitions are written once over [`Leaves`], anything that answers
//! MTH(D[lo:hi]): the leaves themselves ([`mth`] recomputes every hash
//! below, as the RFC reads), or a table of the complete subtrees' hashes
//! for a large tree (`tlog/tests/million.rs`), which answers MTH of a
//! complete subtree by looking it up and of any other range by the same
//! recursive definition.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use windledger_tlog::{ENTRY_SIZE, Hash, Log};

/// SHA-256 of the parts, concatenated.
pub fn sha(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The product's log grown by appending `entries` one by one.
pub fn grown(entries: &[[u8; ENTRY_SIZE]]) -> Log {
    let mut log = Log::new();
    for e in entries {
        log.append(e).expect("the next position");
    }
    log
}

/// RFC 9162 2.1.1: the Merkle Tree Hash of `d`.
pub fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => sha(&[]),
        1 => sha(&[&[0x00], &d[0]]),
        n => {
            let k = largest_power_of_two_below(n);
            sha(&[&[0x01], &mth(&d[..k]), &mth(&d[k..])])
        }
    }
}

/// The largest power of two strictly below `n` (n > 1).
pub fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// What the recursive definitions read of the leaves D[0:n]: the Merkle
/// Tree Hash of the range D[lo:hi].
pub trait Leaves {
    fn mth_of(&self, lo: usize, hi: usize) -> Hash;
}

impl Leaves for [Vec<u8>] {
    fn mth_of(&self, lo: usize, hi: usize) -> Hash {
        mth(&self[lo..hi])
    }
}

/// RFC 9162 2.1.3.1: PATH(m, D[n]).
pub fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    path_in(d, m, 0, d.len())
}

/// PATH(m, D[lo:hi]), `m` counted from `lo`.
pub fn path_in<L: Leaves + ?Sized>(d: &L, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
    let n = hi - lo;
    if n == 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(n);
    if m < k {
        let mut p = path_in(d, m, lo, lo + k);
        p.push(d.mth_of(lo + k, hi));
        p
    } else {
        let mut p = path_in(d, m - k, lo + k, hi);
        p.push(d.mth_of(lo, lo + k));
        p
    }
}

/// RFC 9162 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
pub fn proof(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    subproof_in(d, m, 0, d.len(), true)
}

/// PROOF(m, D[0:n]) over any [`Leaves`].
pub fn proof_in<L: Leaves + ?Sized>(d: &L, m: usize, n: usize) -> Vec<Hash> {
    subproof_in(d, m, 0, n, true)
}

/// SUBPROOF(m, D[lo:hi], b), `m` counted from `lo`.
pub fn subproof_in<L: Leaves + ?Sized>(
    d: &L,
    m: usize,
    lo: usize,
    hi: usize,
    b: bool,
) -> Vec<Hash> {
    let n = hi - lo;
    if m == n {
        return if b {
            Vec::new()
        } else {
            vec![d.mth_of(lo, hi)]
        };
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        let mut p = subproof_in(d, m, lo, lo + k, b);
        p.push(d.mth_of(lo + k, hi));
        p
    } else {
        let mut p = subproof_in(d, m - k, lo + k, hi, false);
        p.push(d.mth_of(lo, lo + k));
        p
    }
}

/// RFC 9162 2.1.3.2: whether `inclusion_path` proves the leaf whose hash
/// is `hash` at `leaf_index` in the tree of `tree_size` leaves whose root
/// is `root_hash`.
pub fn rfc_verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    hash: &Hash,
    inclusion_path: &[Hash],
    root_hash: &Hash,
) -> bool {
    // 1.
    if leaf_index >= tree_size {
        return false;
    }
    // 2., 3.
    let mut r = *hash;
    // 4.
    let reached = walk(leaf_index, tree_size - 1, inclusion_path, |p, left| {
        r = if left {
            sha(&[&[0x01], p, &r])
        } else {
            sha(&[&[0x01], &r, p])
        };
    });
    // 5.
    reached == Some(true) && r == *root_hash
}

/// RFC 9162 2.1.4.2: whether `consistency_path` proves that the tree of
/// `second` leaves (root `second_hash`) extends the tree of `first` leaves
/// (root `first_hash`), for 0 < first < second. (The RFC leaves first ==
/// second out: the same tree, with an empty proof and the same root.)
pub fn rfc_verify_consistency(
    first: u64,
    second: u64,
    first_hash: &Hash,
    second_hash: &Hash,
    consistency_path: &[Hash],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return consistency_path.is_empty() && first_hash == second_hash;
    }
    // 1.
    if consistency_path.is_empty() {
        return false;
    }
    // 2.
    let mut path = Vec::with_capacity(consistency_path.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_hash);
    }
    path.extend_from_slice(consistency_path);
    // 3., 4.
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let (mut fr, mut sr) = (path[0], path[0]);
    // 6.
    let reached = walk(fn_, sn, &path[1..], |c, left| {
        if left {
            fr = sha(&[&[0x01], c, &fr]);
            sr = sha(&[&[0x01], c, &sr]);
        } else {
            sr = sha(&[&[0x01], &sr, c]);
        }
    });
    // 7.
    fr == *first_hash && sr == *second_hash && reached == Some(true)
}

/// The walk up the tree that both verifications make (2.1.3.2 step 4,
/// 2.1.4.2 step 6), from `fn_` and `sn`: `visit` is given each hash of
/// `path` and whether it is the sibling on the left (the RFC's "if LSB(fn)
/// is set, or if fn is equal to sn"). `None` if the path is longer than the
/// walk (sn reached 0 before its end), else whether sn is 0 at its end.
fn walk(
    mut fn_: u64,
    mut sn: u64,
    path: &[Hash],
    mut visit: impl FnMut(&Hash, bool),
) -> Option<bool> {
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            visit(p, true);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            visit(p, false);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    Some(sn == 0)
}
