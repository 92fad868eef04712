//! The governance domain of windledger (DESIGN.md section 2).
//!
//! Pure: no IO, no clock, no randomness. Commands that need another stream's
//! state receive it through a service trait and record what they used in the
//! event, so that replay never depends on anything outside the log.
//!
//! - [`types`], [`money`], [`ratio`]: the values every stream shares, parsed
//!   at the edge and trusted inside.
//! - [`charter`]: the statuts each farm configures.
//! - [`resolution`]: what the company stream asks of the meeting stream.
//! - [`company`]: the `company` stream's aggregate.

pub mod charter;
pub mod company;
pub mod money;
pub mod ratio;
pub mod resolution;
pub mod types;
