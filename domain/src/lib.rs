//! The governance domain of windledger (DESIGN.md section 2).
//!
//! Pure: no IO, no clock, no randomness. Commands that need another stream's
//! state receive it through a service trait and record what they used in the
//! event, so that replay never depends on anything outside the log.
