//! Lock-ups within the law: at most ten years after the charter takes
//! effect (L227-13 of the Code de commerce), and the exemptions the
//! charter lists (succession, spouses, affiliates) let a transfer through,
//! recorded on the transfer.

use std::collections::BTreeSet;

use windledger_domain::charter::{Charter, CharterError, LockUpExemption};
use windledger_domain::company::{CompanyCommand, CompanyError, CompanyEvent, ShareTransfer};

use crate::common::*;

/// H-c1 gave 10 shares to h-c2 on `on` (the small farm is locked up until
/// 1 January 2015), under `exemption`.
fn given(on: chrono::NaiveDate, exemption: Option<LockUpExemption>) -> CompanyEvent {
    CompanyEvent::SharesTransferred(ShareTransfer {
        from: holder("h-c1"),
        to: holder("h-c2"),
        class: class(ORD),
        count: shares(10),
        price_per_share: None,
        approval: None,
        effective_date: on,
        exemption,
    })
}

/// The gift as the command asks it.
fn gift(on: chrono::NaiveDate, exemption: Option<LockUpExemption>) -> CompanyCommand {
    CompanyCommand::from(&given(on, exemption))
}

/// The small farm, capitalised, its charter listing `exemptions`.
fn listing(exemptions: &[LockUpExemption]) -> Vec<CompanyEvent> {
    let mut events = capitalised();
    if let CompanyEvent::Incorporated { charter, .. } = &mut events[0] {
        charter.transfers.lock_up_exemptions = exemptions.iter().copied().collect();
    }
    events
}

fn locked_until(until: chrono::NaiveDate) -> Charter {
    let mut c = charter();
    c.transfers.locked_until = Some(until);
    c
}

#[test]
fn a_lock_up_of_ten_years_from_incorporation_is_adopted_and_one_day_more_is_refused() {
    // Given the small farm formed on 2 May 2013:
    let incorporating = |until| CompanyCommand::Incorporate {
        company: incorporation(),
        charter: locked_until(until),
    };
    // a lock-up until 2 May 2023 is ten years: adopted;
    framework()
        .given_no_previous_events()
        .when(incorporating(day(2023, 5, 2)))
        .then_expect_events(vec![CompanyEvent::Incorporated {
            company: incorporation(),
            charter: locked_until(day(2023, 5, 2)),
        }]);
    // until 3 May 2023, a day more: refused, naming the latest date.
    framework()
        .given_no_previous_events()
        .when(incorporating(day(2023, 5, 3)))
        .then_expect_error(CompanyError::InvalidCharter(CharterError::LockUpTooLong {
            until: day(2023, 5, 3),
            takes_effect: day(2013, 5, 2),
            latest: day(2023, 5, 2),
        }));
}

#[test]
fn an_amendment_may_lock_up_for_ten_years_from_its_own_effective_date() {
    // Given the small farm, when its charter is amended with effect on 1
    // July 2016 (resolution r-amend, adopted in June 2016):
    let amending = |until| CompanyCommand::AmendCharter {
        charter: locked_until(until),
        resolution: res("r-amend"),
        effective_date: later(),
    };
    // a lock-up until 1 July 2026 is within ten years;
    framework()
        .given(capitalised())
        .when(amending(day(2026, 7, 1)))
        .then_expect_events(vec![CompanyEvent::CharterAmended {
            charter: locked_until(day(2026, 7, 1)),
            resolution: resolution("r-amend"),
            effective_date: later(),
        }]);
    // a lock-up until 2 July 2026 is not.
    framework()
        .given(capitalised())
        .when(amending(day(2026, 7, 2)))
        .then_expect_error(CompanyError::InvalidCharter(CharterError::LockUpTooLong {
            until: day(2026, 7, 2),
            takes_effect: later(),
            latest: day(2026, 7, 1),
        }));
}

#[test]
fn a_transfer_during_the_lock_up_is_refused() {
    framework()
        .given(capitalised())
        .when(gift(day(2014, 12, 31), None))
        .then_expect_error(CompanyError::LockedUp {
            until: day(2015, 1, 1),
        });
}

#[test]
fn an_exemption_the_charter_lists_lets_a_transfer_through_the_lock_up_and_is_recorded() {
    // Given a charter exempting successions and spouses, when h-c1's heir
    // receives shares during the lock-up, then the transfer is recorded
    // with its exemption.
    let exempt = [LockUpExemption::Succession, LockUpExemption::Spouse];
    framework()
        .given(listing(&exempt))
        .when(gift(day(2014, 12, 31), Some(LockUpExemption::Succession)))
        .then_expect_events(vec![given(
            day(2014, 12, 31),
            Some(LockUpExemption::Succession),
        )]);
    // The same gift without an exemption is refused by the lock-up;
    framework()
        .given(listing(&exempt))
        .when(gift(day(2014, 12, 31), None))
        .then_expect_error(CompanyError::LockedUp {
            until: day(2015, 1, 1),
        });
    // to an affiliate, which the charter does not list, it is refused,
    // saying so, even after the lock-up.
    for on in [day(2014, 12, 31), later()] {
        framework()
            .given(listing(&exempt))
            .when(gift(on, Some(LockUpExemption::Affiliate)))
            .then_expect_error(CompanyError::ExemptionNotInCharter(
                LockUpExemption::Affiliate,
            ));
    }
}

#[test]
fn a_charter_without_exemptions_reads_and_writes_as_before() {
    let json = serde_json::to_value(charter().transfers).expect("serialises");
    assert!(json.get("lock_up_exemptions").is_none());
    let listed = {
        let mut t = charter().transfers;
        t.lock_up_exemptions = BTreeSet::from([LockUpExemption::Affiliate]);
        serde_json::to_value(t).expect("serialises")
    };
    assert_eq!(
        listed["lock_up_exemptions"],
        serde_json::json!(["affiliate"])
    );
    for written in [
        serde_json::to_string(&given(later(), None)),
        serde_json::to_string(&gift(later(), None)),
    ] {
        assert!(!written.expect("serialises").contains("exemption"));
    }
}
