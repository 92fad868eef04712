//! The governance domain of windledger (DESIGN.md section 2).
//!
//! Pure: no IO, no clock of its own, no randomness: "now" comes in as a
//! [`clock::Clock`] with each aggregate's services. Commands that need another stream's
//! state receive it through a service trait and record what they used in the
//! event, so that replay never depends on anything outside the log.
//!
//! - [`types`], [`money`], [`ratio`]: the values every stream shares, parsed
//!   at the edge and trusted inside.
//! - [`charter`]: the statuts each farm configures.
//! - [`input`]: the bounds on what a command may carry (amounts,
//!   quantities, free text), checked where commands enter.
//! - [`resolution`]: what the company stream asks of the meeting stream.
//! - [`cap_table`]: what the meeting stream asks of the company stream.
//! - [`company`]: the `company` stream's aggregate.
//! - [`meeting`]: the `meeting` stream's aggregate and its tally.
//! - [`finance`]: the `financial-year` stream and current-account advances.
//! - [`paris`]: Paris time, in which the law's local deadlines fall.

mod aggregate;
pub mod budgeting;
pub mod cap_table;
pub mod charter;
pub mod clock;
pub mod company;
mod domain_event;
pub mod finance;
pub mod input;
pub mod meeting;
pub mod money;
mod newtype;
pub mod paris;
pub mod ratio;
pub mod resolution;
mod same_fields;
pub mod types;

/// The rule a refusal breaks, by name: the error's variant (`"CapExceeded"`),
/// stable across releases, for clients to act on (the API's `rule`).
pub trait Rule {
    fn rule(&self) -> &'static str;
}
