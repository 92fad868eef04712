//! The domain's tests, in one test binary (one link instead of one per
//! file): given/when/then tests of each stream (`company`, `meeting`,
//! `finance`), worked examples, properties over random histories, and the
//! input bounds. The farms come from `windledger_fixtures`; `common`,
//! `meeting_support` and `finance_support` add what these tests share.

mod common;
mod finance_support;
mod meeting_support;

mod budgeting;
mod budgeting_fund;
mod budgeting_round;
mod charter_rules;
mod clubs;
mod company;
mod company_properties;
mod finance;
mod finance_examples;
mod finance_operator;
mod finance_properties;
mod identity;
mod input;
mod lock_up;
mod meeting;
mod meeting_examples;
mod meeting_properties;
mod places;
mod refusals;
mod terms;
mod turbines;
