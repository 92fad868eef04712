//! The web pages, in French, served by the same binary as the API: a
//! public page per farm, sign-in with a token, and a space per role
//! (shareholder, municipality, operator, secretary). Server-rendered HTML
//! (maud), usable without JavaScript; charts are inline SVG drawn here.
//!
//! - [`routes`]: every page's route with its access rule, in one table;
//!   the rule is applied by a layer before the handler runs.
//! - [`public`]: `/`, a farm's public page, its local returns, its signed
//!   checkpoint. No personal data: no holder id is ever shown there.
//! - [`space`]: a signed-in visitor's space (shares, votes with receipts,
//!   dividends), meetings with the ballot and proxy forms, receipts.
//! - [`audit`]: the municipality's decisions register, event log and chain
//!   verification.
//! - the desks of those who keep the books (the secretary's, the
//!   operator's, the fund's, a meeting's paperwork, payments, identities):
//!   `windledger_desk`.
//!
//! The frame every page sits in (state, sessions, extractors, layout,
//! errors in French) is `windledger_frame`'s.
//!
//! Every POST checks the session's CSRF token first and answers a success
//! with a redirect (POST/redirect/GET). Commands go through
//! [`LedgerRuntime::execute`](windledger_app::ledger::LedgerRuntime::execute),
//! as the API's do.

mod audit;
mod public;
mod receipts;
pub mod routes;
mod space;
mod territory;
mod votes;

pub use routes::router;
pub use windledger_frame::{MAX_SESSIONS, MAX_SESSIONS_PER_TOKEN, Web};

use windledger_desk::{
    advances, fund_desk, identity, operator, paperwork, payments, secretary, turbines,
};
use windledger_frame::{
    PageResult, WebError, amount_field, errors, extract, format, layout, projected, session,
};
