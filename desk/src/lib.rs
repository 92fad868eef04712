//! The desks of those who keep a farm's books, as pages in French (in the
//! frame of `windledger_frame`; routed by `windledger_web`'s table, which
//! gives each its access rule):
//!
//! - [`secretary`]: holders, transfers, meetings.
//! - [`paperwork`]: a meeting's paperwork (convocations, postal voting
//!   forms, paper proxies, bureau, minutes and their signatures) and its
//!   documents as files.
//! - [`operator`]: production and revenue, by form or CSV file (read by
//!   [`windledger_app::import::csv`]).
//! - [`payments`] and [`advances`]: dividends, interest and repayments paid
//!   by transfer file, the bank's statement matched back.
//! - [`turbines`]: the turbines and their availability.
//! - [`identity`]: a person's identity in the vault, read and corrected.
//! - [`fund_desk`]: the territory's fund kept by the municipality and the
//!   secretary.

pub mod advances;
pub mod fund_desk;
pub mod identity;
pub mod operator;
pub mod paperwork;
pub mod payments;
pub mod secretary;
pub mod turbines;

use windledger_frame::{
    PageResult, Web, WebError, amount_field, errors, extract, format, layout, projected,
    read_euros, session,
};
