//! windledger's event store.
