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
