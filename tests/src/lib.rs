//! End-to-end tests of windledger, on both store backends, in `tests/`:
//! `company_through_cqrs` runs the company aggregate through cqrs-es on the
//! real store. The tests against a running server arrive with the HTTP API
//! (issue 8). The store's own conformance suite lives in `store/tests`.
