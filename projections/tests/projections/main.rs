//! The projections' tests, in one test binary (one link instead of one per
//! file): a small farm's year with figures computed by hand, properties
//! over synthetic farms, and the OCF export checked by the OCF validator.

// Shared with `cli/tests/cli/export.rs`, which includes it by path too.
#[path = "../support/ocf_validator.rs"]
mod ocf_validator;

mod ocf;
mod places;
mod properties;
mod share_register;
mod turbines;
mod worked_history;

use cqrs_es::DomainEvent;
use windledger_domain::company::CompanyEvent;
use windledger_fixtures::farm::at;
use windledger_projections::event::LedgerEvent;
use windledger_projections::runner::Projections;

/// The projections after the company stream's `events`, at positions 1,
/// 2, ... (shared by `places` and `turbines`).
fn company_projected(events: &[CompanyEvent]) -> Projections {
    let mut projections = Projections::default();
    for (i, event) in events.iter().enumerate() {
        projections.apply(&LedgerEvent::unrecorded(
            i as u64 + 1,
            "company/ailes".to_owned(),
            event.event_type(),
            serde_json::to_string(event).expect("serialises"),
            at(2030, 1, 1, 0),
        ));
    }
    projections
}
