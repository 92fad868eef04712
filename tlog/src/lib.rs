//! The ledger as a transparency log (issue 23): an RFC 6962 / RFC 9162
//! Merkle tree over the ledger's events in position order, published in the
//! formats of the transparency-log ecosystem (C2SP `tlog-tiles`,
//! `tlog-checkpoint`), so that standard tools and independent parties can
//! check it.
//!
//! - A leaf commits to an event's position and hash ([`entry`]), never to
//!   its payload: the log holds no personal data and can be public. The
//!   hash chain stays (each event's hash covers the previous one's); the
//!   tree adds what a chain cannot give, a short proof that one event is in
//!   the ledger ([`Log::inclusion_proof`]) and that a later ledger extends
//!   an earlier one ([`Log::consistency_proof`]), checkable by someone who
//!   holds neither.
//! - [`Log`] answers for the tree's stored hashes in the layout of Go's
//!   `golang.org/x/mod/sumdb/tlog` (Crosby and Wallach's), through
//!   Cloudflare's port `tlog_tiles`, but holds only every fourth level
//!   (0, 4, 8...: the hash tiles are made of levels 0, 8, 16...; about
//!   1.07 hashes a leaf rather than two), and the tree's right edge; a
//!   node in between is computed when a proof asks for it (at most 7
//!   hashes). Appending a leaf hashes on average under two nodes,
//!   whatever the tree's size.
//! - [`Log::tiles`] and [`entry_bundles`] are the C2SP `tlog-tiles` files
//!   of a tree grown from one size to another, under the paths the
//!   specification gives (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`);
//!   [`checkpoint_text`] the note text a checkpoint signs.
//!
//! Pure: no IO, no clock; the caller stores the hashes and signs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use tlog_tiles::{
    Hash as TlogHash, HashReader, Tile, check_record, check_tree, node_hash, prove_record,
    prove_tree, record_hash, split_stored_hash_index, tree_hash,
};

/// A SHA-256 hash: a leaf's, a node's, a tree's root.
pub type Hash = [u8; 32];

/// The tiles' height (C2SP `tlog-tiles`: 8, so 256 hashes a full tile).
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile (or bundle).
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The bytes of an entry: the event's position (8, big-endian) and hash
/// (32).
pub const ENTRY_SIZE: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    #[error("the tree has {size} leaves: {asked} is beyond it")]
    BeyondTree { asked: u64, size: u64 },
    #[error("leaf {index} is not in a tree of {size}")]
    NotInTree { index: u64, size: u64 },
    #[error(
        "a consistency proof runs from a size of 1 or more to a larger or equal one, not {from} to {to}"
    )]
    BadRange { from: u64, to: u64 },
    #[error("the entry has {0} bytes, not {ENTRY_SIZE}")]
    BadEntry(usize),
    #[error("entry {position} follows entry {previous}: the positions run 1, 2, 3...")]
    OutOfOrder { position: u64, previous: u64 },
    #[error("the proof does not check: {0}")]
    InvalidProof(String),
}

/// The entry of the event at `position` (1-based) with `hash`: what its
/// leaf commits to (RFC 6962: the leaf hash is SHA-256(0x00 || entry)).
pub fn entry(position: u64, hash: &Hash) -> [u8; ENTRY_SIZE] {
    let mut e = [0u8; ENTRY_SIZE];
    e[..8].copy_from_slice(&position.to_be_bytes());
    e[8..].copy_from_slice(hash);
    e
}

/// The leaf hash of an entry: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    record_hash(entry).0
}

/// A Merkle tree grown one leaf at a time. It holds in memory the nodes
/// of every fourth level (0, 4, 8...: about 1.07 hashes a leaf, 34 MB for
/// a million events), in chunks of fixed size so that growing never holds
/// twice what it needs as a doubling vector would, and the last node of
/// every level (the tree's right edge). Any other node is computed from
/// the level below it that is held. The entries are not kept: they are
/// the ledger's positions and hashes, which the ledger holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    /// `rows[j]`: the nodes of level `j * HELD_EVERY`, left to right.
    rows: Vec<Chunked>,
    /// `edge[k]`: the last node of level `k`.
    edge: Vec<Hash>,
    size: u64,
}

/// Hashes in chunks of [`CHUNK`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Chunked {
    chunks: Vec<Vec<Hash>>,
    len: usize,
}

/// The levels held are those of this multiple: the tiles' (0, 8, 16...)
/// and those half way (4, 12...), so that a node of any other level is
/// hashed up from at most 8 held below it (7 hashes); the levels half way
/// add a sixteenth to the hashes held.
const HELD_EVERY: u8 = TILE_HEIGHT / 2;

/// Hashes a chunk: a full tile's (8 KiB).
const CHUNK: usize = TILE_WIDTH as usize;

impl Chunked {
    fn push(&mut self, hash: Hash) {
        if self.len.is_multiple_of(CHUNK) {
            // Grown as it fills (to CHUNK, a power of two, at most): the
            // room held and not used is at most half a chunk (a farm of
            // 2,430 events holds 2,432 hashes at level 0).
            self.chunks.push(Vec::new());
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(hash);
            self.len += 1;
        }
    }

    fn get(&self, index: u64) -> Option<&Hash> {
        let index = usize::try_from(index).ok()?;
        self.chunks.get(index / CHUNK)?.get(index % CHUNK)
    }
}

impl Log {
    /// Node `n` of `level` (a node of level `k` covers `2^k` leaves), if
    /// the tree holds all its leaves.
    fn node(&self, level: u8, n: u64) -> Option<Hash> {
        let (row, above) = (level / HELD_EVERY, level % HELD_EVERY);
        let row = self.rows.get(usize::from(row))?;
        if above == 0 {
            return row.get(n).copied();
        }
        // The last node of its level (a tree root's part, a consistency
        // proof's) is at hand; any other is hashed up from the held level
        // below it.
        let width = 1u64 << above;
        let first = n.checked_mul(width)?;
        let last = first.checked_add(width - 1)?;
        if last >= row.len as u64 {
            return None;
        }
        if n + 1 == self.size >> level
            && let Some(h) = self.edge.get(usize::from(level))
        {
            return Some(*h);
        }
        let mut hashes: Vec<TlogHash> = (first..=last)
            .map(|i| row.get(i).map(|h| TlogHash(*h)))
            .collect::<Option<_>>()?;
        while hashes.len() > 1 {
            hashes = hashes
                .chunks_exact(2)
                .map(|pair| node_hash(pair[0], pair[1]))
                .collect();
        }
        hashes.pop().map(|h| h.0)
    }
}

impl HashReader for Log {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TlogHash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                let (level, n) = split_stored_hash_index(i);
                self.node(level, n)
                    .map(TlogHash)
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

fn proof_error(e: tlog_tiles::Error) -> TlogError {
    TlogError::InvalidProof(e.to_string())
}

impl Log {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the leaf of the event at the next position, checking that
    /// `entry` is that position's.
    pub fn append(&mut self, entry: &[u8]) -> Result<(), TlogError> {
        let position = entry_position(entry)?;
        if position != self.size + 1 {
            return Err(TlogError::OutOfOrder {
                position,
                previous: self.size,
            });
        }
        // The leaf, then each node it completes: a node whose index is
        // odd is a right child, hashed with its left sibling, the last
        // node of its level.
        let (mut hash, mut n, mut level) = (record_hash(entry), self.size, 0usize);
        loop {
            if level.is_multiple_of(usize::from(HELD_EVERY)) {
                let row = level / usize::from(HELD_EVERY);
                if self.rows.len() == row {
                    self.rows.push(Chunked::default());
                }
                self.rows[row].push(hash.0);
            }
            if n % 2 == 0 {
                break;
            }
            let left = self.edge[level];
            self.edge[level] = hash.0;
            hash = node_hash(TlogHash(left), hash);
            n /= 2;
            level += 1;
        }
        if self.edge.len() == level {
            self.edge.push(hash.0);
        } else {
            self.edge[level] = hash.0;
        }
        self.size += 1;
        Ok(())
    }

    fn check_size(&self, size: u64) -> Result<(), TlogError> {
        if size > self.size {
            return Err(TlogError::BeyondTree {
                asked: size,
                size: self.size,
            });
        }
        Ok(())
    }

    /// The root hash of the tree of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, TlogError> {
        self.check_size(size)?;
        Ok(tree_hash(size, self).map_err(proof_error)?.0)
    }

    /// The RFC 6962 audit path of leaf `index` (0-based) in the tree of
    /// the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TlogError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TlogError::NotInTree { index, size });
        }
        Ok(prove_record(size, index, self)
            .map_err(proof_error)?
            .into_iter()
            .map(|h| h.0)
            .collect())
    }

    /// The RFC 6962 consistency proof from the tree of `from` leaves to
    /// the tree of `to`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, TlogError> {
        self.check_size(to)?;
        if from == 0 || from > to {
            return Err(TlogError::BadRange { from, to });
        }
        Ok(prove_tree(to, from, self)
            .map_err(proof_error)?
            .into_iter()
            .map(|h| h.0)
            .collect())
    }

    /// The hash tile at `level`, index `n`, of `width` hashes, if the tree
    /// holds it (its hashes all stored): the bytes `tiles` writes at its
    /// path, read alone.
    pub fn tile(&self, level: u8, n: u64, width: u32) -> Option<Vec<u8>> {
        if level >= 8 || !(1..=1u32 << TILE_HEIGHT).contains(&width) {
            return None;
        }
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        let end = n
            .checked_mul(TILE_WIDTH)?
            .checked_add(u64::from(width))?
            .checked_shl(shift)
            .filter(|end| end >> shift == n * TILE_WIDTH + u64::from(width))?;
        if end > self.size() {
            return None;
        }
        Tile::new(TILE_HEIGHT, level, n, width, false)
            .read_data(self)
            .ok()
    }

    /// The hash tiles to publish when the tree grows from `old` to `new`
    /// leaves, each with its C2SP path (`tile/<L>/<N>[.p/<W>]`) and bytes.
    pub fn tiles(&self, old: u64, new: u64) -> Result<Vec<(String, Vec<u8>)>, TlogError> {
        self.check_size(new)?;
        if old > new {
            return Err(TlogError::BadRange { from: old, to: new });
        }
        Tile::new_tiles(TILE_HEIGHT, old, new)
            .into_iter()
            .map(|t| {
                let data = t.read_data(self).map_err(proof_error)?;
                Ok((
                    tile_path(t.level().to_string(), t.level_index(), t.width()),
                    data,
                ))
            })
            .collect()
    }
}

fn entry_position(entry: &[u8]) -> Result<u64, TlogError> {
    let bytes: [u8; 8] = entry
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .filter(|_| entry.len() == ENTRY_SIZE)
        .ok_or(TlogError::BadEntry(entry.len()))?;
    Ok(u64::from_be_bytes(bytes))
}

/// A C2SP tile path: `tile/<level>/<N>` with `N` in groups of three
/// digits (`x001/x234/067`), and `.p/<W>` for a partial tile.
pub fn tile_path(level: String, n: u64, width: u32) -> String {
    let mut digits = format!("{:03}", n % 1000);
    let mut rest = n / 1000;
    while rest > 0 {
        digits = format!("x{:03}/{digits}", rest % 1000);
        rest /= 1000;
    }
    let partial = if u64::from(width) == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    };
    format!("tile/{level}/{digits}{partial}")
}

/// The entry bundles (`tile/entries/<N>[.p/<W>]`) to publish when the
/// tree grows from `old` to `new` leaves, `entries` being every entry
/// from the first: each bundle is its entries, each a big-endian `u16`
/// length then the entry's bytes.
pub fn entry_bundles(
    entries: &[[u8; ENTRY_SIZE]],
    old: u64,
    new: u64,
) -> Result<Vec<(String, Vec<u8>)>, TlogError> {
    let size = entries.len() as u64;
    if new > size {
        return Err(TlogError::BeyondTree { asked: new, size });
    }
    if old > new {
        return Err(TlogError::BadRange { from: old, to: new });
    }
    let mut bundles = Vec::new();
    if new == old {
        return Ok(bundles);
    }
    // The bundles that gain entries: from the one that holds entry `old`
    // (0-based; partial until now, or new) to the one that holds the last.
    for n in old / TILE_WIDTH..=(new - 1) / TILE_WIDTH {
        let start = n * TILE_WIDTH;
        let end = (start + TILE_WIDTH).min(new);
        let mut data = Vec::with_capacity((end - start) as usize * (ENTRY_SIZE + 2));
        for e in &entries[start as usize..end as usize] {
            data.extend_from_slice(&(ENTRY_SIZE as u16).to_be_bytes());
            data.extend_from_slice(e);
        }
        let width = u32::try_from(end - start).unwrap_or(u32::MAX);
        bundles.push((tile_path("entries".to_owned(), n, width), data));
    }
    Ok(bundles)
}

/// The text of a C2SP `tlog-checkpoint` (what a signed note signs):
/// `<origin>\n<size>\n<base64 root>\n`, then any extension lines.
pub fn checkpoint_text(origin: &str, size: u64, root: &Hash, extensions: &[String]) -> String {
    let mut text = format!("{origin}\n{size}\n{}\n", B64.encode(root));
    for line in extensions {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// A checkpoint's origin, size and root, read from its note text.
pub fn parse_checkpoint_text(text: &str) -> Option<(String, u64, Hash)> {
    let mut lines = text.lines();
    let origin = lines.next().filter(|o| !o.is_empty())?.to_owned();
    let size = lines.next()?;
    if size.len() > 1 && size.starts_with('0') {
        return None;
    }
    let size = size.parse().ok()?;
    let root = B64.decode(lines.next()?).ok()?.try_into().ok()?;
    Some((origin, size, root))
}

/// Checks that `proof` shows the leaf of `entry` at `index` in the tree
/// of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    proof: &[Hash],
    size: u64,
    root: &Hash,
    index: u64,
    entry: &[u8],
) -> Result<(), TlogError> {
    if index >= size {
        return Err(TlogError::NotInTree { index, size });
    }
    let proof: Vec<TlogHash> = proof.iter().map(|h| TlogHash(*h)).collect();
    check_record(
        &proof,
        size,
        TlogHash(*root),
        index,
        TlogHash(leaf_hash(entry)),
    )
    .map_err(proof_error)
}

/// Checks that `proof` shows the tree of `to` leaves (root `to_root`)
/// extends the tree of `from` leaves (root `from_root`).
pub fn verify_consistency(
    proof: &[Hash],
    from: u64,
    from_root: &Hash,
    to: u64,
    to_root: &Hash,
) -> Result<(), TlogError> {
    if from == 0 || from > to {
        return Err(TlogError::BadRange { from, to });
    }
    let proof: Vec<TlogHash> = proof.iter().map(|h| TlogHash(*h)).collect();
    check_tree(&proof, to, TlogHash(*to_root), from, TlogHash(*from_root)).map_err(proof_error)
}

/// A receipt a person keeps: the event at a position with its hash, the
/// log's checkpoint that includes it (a signed note) and the proof, all
/// that [`Receipt::verify`] needs besides the log's key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The log's origin (the checkpoint's first line).
    pub origin: String,
    /// The event's position in the ledger (from 1).
    pub position: u64,
    /// The event's chain hash (hex).
    pub hash: String,
    /// The checkpoint (a C2SP signed note) the proof is against.
    pub checkpoint: String,
    /// The RFC 6962 audit path from the event's leaf to the checkpoint's
    /// root (base64 hashes).
    pub proof: Vec<String>,
    /// The event itself, as `windledger export events` writes it, when the
    /// receipt is given to someone who may read it (a meeting's roll, to
    /// its members): its hash, recomputed, must be `hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<serde_json::Value>,
}

/// What a verified receipt shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub origin: String,
    pub position: u64,
    /// The tree's size the checkpoint signs.
    pub size: u64,
}

impl Receipt {
    /// The receipt of the event at `position` with `hash`, and the proof
    /// of its leaf against the root `checkpoint` signs.
    pub fn new(
        origin: String,
        position: u64,
        hash: &Hash,
        checkpoint: String,
        proof: &[Hash],
    ) -> Self {
        Self {
            origin,
            position,
            hash: hex::encode(hash),
            checkpoint,
            proof: proof.iter().map(|h| B64.encode(h)).collect(),
            event: None,
        }
    }

    /// Checks the receipt against `text`, the checkpoint's note text once
    /// its signature is checked by the caller (with the log's key):
    /// the origin is the receipt's, and the proof takes the event's leaf
    /// to the checkpoint's root.
    pub fn verify(&self, text: &str) -> Result<Verified, TlogError> {
        let bad = |why: &str| TlogError::InvalidProof(why.to_owned());
        let (origin, size, root) =
            parse_checkpoint_text(text).ok_or_else(|| bad("the checkpoint is not a checkpoint"))?;
        if origin != self.origin {
            return Err(bad("the checkpoint is another log's"));
        }
        let hash: Hash = hex::decode(&self.hash)
            .ok()
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| bad("the event's hash is not 64 hexadecimal digits"))?;
        let index = self
            .position
            .checked_sub(1)
            .ok_or_else(|| bad("positions count from 1"))?;
        let proof = self
            .proof
            .iter()
            .map(|h| {
                B64.decode(h)
                    .ok()
                    .and_then(|h| h.try_into().ok())
                    .ok_or_else(|| bad("a proof's hash is not base64 of 32 bytes"))
            })
            .collect::<Result<Vec<Hash>, _>>()?;
        verify_inclusion(&proof, size, &root, index, &entry(self.position, &hash))?;
        Ok(Verified {
            origin,
            position: self.position,
            size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tile read alone is the one `tiles` writes at its path, for every
    /// tile of trees of several sizes; one beyond the tree is none.
    #[test]
    fn a_tile_read_alone_is_the_published_one() {
        let mut log = Log::new();
        for size in 1..=70_000u64 {
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&size.to_le_bytes());
            log.append(&entry(size, &hash)).expect("in order");
            if ![1, 255, 256, 257, 65_535, 65_536, 70_000].contains(&size) {
                continue;
            }
            for (path, bytes) in log.tiles(0, size).expect("tiles") {
                let rest = path.strip_prefix("tile/").expect("a tile path");
                let (rest, width) = match rest.split_once(".p/") {
                    Some((r, w)) => (r, w.parse().expect("a width")),
                    None => (rest, 256),
                };
                let (level, digits) = rest.split_once('/').expect("level/index");
                let n: u64 = digits.replace(['x', '/'], "").parse().expect("an index");
                let level: u8 = level.parse().expect("a level");
                assert_eq!(log.tile(level, n, width), Some(bytes), "{path} at {size}");
            }
        }
        assert_eq!(log.tile(0, 273, 113), None, "beyond the tree");
        assert_eq!(
            log.tile(0, 273, 112),
            log.tiles(69_888, 70_000).ok().and_then(|t| t
                .into_iter()
                .find(|(p, _)| p == "tile/0/273.p/112")
                .map(|(_, b)| b))
        );
        assert_eq!(
            log.tile(2, 0, 2),
            None,
            "a level-2 tile of 2 needs 131,072 leaves"
        );
        assert_eq!(log.tile(8, 0, 1), None);
        assert_eq!(log.tile(0, 0, 0), None);
        assert_eq!(log.tile(0, u64::MAX, 256), None);
    }
}
