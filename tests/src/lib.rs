//! End-to-end tests of windledger, on both store backends, in `tests/`: the
//! test binary `end_to_end` (a module per story: the aggregates through
//! cqrs-es on the real store, the import, the projections, the server's API
//! and pages), and `http_hostile` and `own_clusters`, each a binary
//! of its own for its time limits. The farms come from
//! `windledger_fixtures`; each story runs on both backends through
//! `windledger_store::on_both_backends!`, as the store's own conformance
//! suite (in `store/tests`) does.
