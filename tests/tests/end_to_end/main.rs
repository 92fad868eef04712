//! The end-to-end tests, in one test binary (one link instead of one per
//! file): the aggregates through cqrs-es on the real store, the import,
//! the projections following the ledger, and the real server (API, pages,
//! a browser). `http_hostile` and `own_clusters` are test binaries
//! of their own: their time limits (a request failing within 1 s, 300
//! slow connections closed while `/healthz` answers) must not share the two
//! cores with the tests here.

/// A real server with the reference farm.
#[path = "../support/server.rs"]
mod server;
/// The farm through `CqrsFramework` on the real store.
#[path = "../support/mod.rs"]
mod support;
/// A small browser for the pages.
#[path = "../support/web.rs"]
mod web;

mod backup;
mod company_through_cqrs;
mod finance_through_cqrs;
mod general_meeting_paperwork;
mod http_authorization;
mod http_bounds;
mod http_input;
mod http_integrity;
mod http_story;
mod identity_vault;
mod import;
mod many_farms;
mod meeting_documents;
mod meeting_through_cqrs;
mod operator_first_steps;
mod payments;
mod payments_http;
mod projections_follow_the_ledger;
mod second_call;
mod territory_desk;
mod territory_fund;
mod transparency_log;
mod web_browser;
mod web_pages;
mod web_paperwork;
mod web_places;
mod web_reading;
mod witnesses;
