//! Read models (DESIGN.md section 2.4): pure folds over a ledger's events in
//! position order, and the queries a farm's users ask of them.
//!
//! - [`event`]: a ledger event as the projections receive it, decoded once
//!   into the domain's events.
//! - [`runner`]: [`runner::Projections`] applies each event to every fold,
//!   remembers each fold's position, stops a fold at the first event it
//!   cannot apply (naming the position), and follows a live stream.
//! - The folds: [`cap_table`] (holdings over time, queryable as of a date or
//!   a position, and the `CapTableService` of the meeting and dividend
//!   rolls), [`register`] (the decisions register), [`share_register`]
//!   (the register of share movements, R228-8, with each holder's
//!   individual account), [`finance`] (production, revenue, costs, taxes,
//!   dividends, advances).
//! - The queries over them: [`statement`] (a shareholder's statement),
//!   [`local_returns`] (what stays in the territory, per year), [`ocf`] (the
//!   Open Cap Format 1.2.0 export of the cap table as of a date).
//!
//! No IO but the OCF package's two writers to a folder or a zip file: the
//! shell (the `windledger` binary, the tests) feeds the events from the
//! store's subscription.

pub mod cap_table;
pub mod event;
pub mod finance;
pub mod local_returns;
pub mod ocf;
pub mod register;
pub mod runner;
pub mod share_register;
pub mod statement;
pub mod territory;
pub mod tree;

/// Pushes `item`, growing a short vector by one place at a time: a read
/// model holds many vectors of one to three entries (a holder's
/// registrations and movements), which doubling from four would leave
/// mostly empty. Past four entries, the vector grows as usual.
pub(crate) fn push_tight<T>(vec: &mut Vec<T>, item: T) {
    if vec.len() == vec.capacity() && vec.len() < 4 {
        vec.reserve_exact(1);
    }
    vec.push(item);
}
