//! The ledger's Merkle tree (`windledger_tlog`, issue 23): one leaf per
//! event, committing to its position and hash (never its payload), grown
//! as events are applied, so that the server answers its checkpoint, tiles
//! and proofs without reading the ledger again. Derived from the chain
//! like every read model: rebuilt from the ledger when the server opens
//! it, so it survives a restart or a crash as the ledger does.

use windledger_tlog::{Log, entry};

use crate::event::{FarmEvent, LedgerEvent};
use crate::runner::Fold;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    log: Log,
}

impl Fold for Tree {
    const NAME: &'static str = "tree";

    fn apply(&mut self, meta: &LedgerEvent, _event: &FarmEvent) -> Result<(), String> {
        self.log
            .append(&entry(meta.position, &meta.hash.0))
            .map_err(|e| e.to_string())
    }
}

impl Tree {
    /// The tree, its size the position applied.
    pub fn log(&self) -> &Log {
        &self.log
    }
}
