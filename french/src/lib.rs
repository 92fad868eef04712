//! How windledger writes for people, in French. The pages (`windledger-web`)
//! and the documents the law requires read their words from here, so that a
//! number, a date or a vote count reads the same everywhere.
//!
//! - [`documents`]: the words of the legal documents (the register of
//!   share movements, individual accounts, certificates of holding).
//! - [`events`]: the ledger's events in one French sentence each, with the
//!   date each takes effect, and the French names of event types.
//! - [`format`]: numbers with a narrow no-break space between thousands and
//!   a decimal comma, euros, per cents, dates and times in Paris time,
//!   plurals and elisions, the labels of the domain's enums.
//! - [`votes`]: vote counts in each college's own unit (votes carried by
//!   shares, or members), never a sum of units that differ, and the
//!   sentence that says how a charter combines its colleges.
//!
//! - [`rules`]: the domain's refusals, by rule name, in one French sentence
//!   each (the pages translate a problem's `rule` with it).
//!
//! It knows no HTML, HTTP, store or application layer: only the domain's
//! and the projections' types.

pub mod documents;
pub mod events;
pub mod format;
pub mod rules;
pub mod votes;
