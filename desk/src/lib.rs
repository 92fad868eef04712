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

use axum::http::StatusCode;
use windledger_api::problem::Problem;
use windledger_app::command::Receipt;
use windledger_html::forms::FormState;

use crate::extract::{Farm, Post, SENT_BACK, SignedIn, back_to};

/// Records what `action` records, then back to `to` saying `success` with
/// the first event's position; refused, the desk's `page` again with the
/// form and its errors.
async fn settle_on(
    post: &Post,
    state: FormState,
    action: Option<impl Future<Output = Result<Vec<Receipt>, Problem>>>,
    to: String,
    success: &str,
    page: impl AsyncFnOnce(&Farm, &SignedIn, Option<FormState>, StatusCode) -> PageResult,
) -> PageResult {
    post.settle(state, action, back_to(to, success), async |sent| {
        page(&post.farm, &post.me, Some(sent), SENT_BACK).await
    })
    .await
}
