//! End-to-end tests against a running server, on both backends. The
//! store's own conformance suite lives in `store/tests`; the tests here
//! arrive with the HTTP API (issue 8).
