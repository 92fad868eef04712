//! The server's edge against hostile clients (docs/api.md, "Limits"),
//! below the API and the pages:
//!
//! - [`connections`]: HTTP/1.1 connections served by hyper within
//!   [`ServeLimits`]: a head, a body and a stalled answer each have a
//!   deadline, connections are bounded per address and in all, and a new
//!   one over a bound takes the place of the one idle longest.
//! - [`throttle`]: guessing tokens from one address, limited and slowed
//!   down.
//!
//! It knows no route, command or page: the router it serves and where its
//! counters are kept are given to it ([`connections::Host`]).

pub mod connections;
pub mod throttle;

pub use connections::{ConnectionCounters, Host, ServeLimits};
