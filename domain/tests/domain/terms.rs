//! Resolutions with terms: a capital increase, a capital reduction or an
//! approval names what it authorises (whose shares, which class, how many,
//! at what price, until when); every movement citing it must keep to those
//! terms, and together they move no more shares than its count.

use windledger_domain::company::{
    CancellationSource, CompanyCommand, CompanyError, CompanyEvent, CompanyServices, ShareTransfer,
    Subscription,
};
use windledger_domain::resolution::{
    AdoptedResolution, KnownResolutions, OutsideTerms, ResolutionPurpose, Terms,
};

use crate::common::*;

/// Resolution `id`, adopted as the extraordinary decision of June 2016 (or
/// the ordinary one, for an approval), with `purpose`.
fn adopted(id: &str, purpose: ResolutionPurpose) -> AdoptedResolution {
    let kind = match purpose {
        ResolutionPurpose::TransferApproval { .. } => "ordinary",
        _ => "extraordinary",
    };
    adopted_resolution(id, kind, purpose, day(2016, 6, 30))
}

/// The buy-back of 20 of h-ind's ordinary shares at 110 EUR each, by the
/// end of 2016.
fn buy_back() -> AdoptedResolution {
    adopted(
        "r-buy-back",
        ResolutionPurpose::CapitalReduction {
            terms: Terms {
                holder: Some(holder("h-ind")),
                class: Some(class(ORD)),
                count: Some(shares(20)),
                price_per_share: Some(eur("110")),
                deadline: Some(day(2016, 12, 31)),
            },
        },
    )
}

/// An issue of at most 100 preference shares at 120 EUR each.
fn preference_issue() -> AdoptedResolution {
    adopted(
        "r-issue",
        ResolutionPurpose::CapitalIncrease {
            terms: Terms {
                class: Some(class(PREF)),
                count: Some(shares(100)),
                price_per_share: Some(eur("120")),
                ..Terms::NONE
            },
        },
    )
}

/// The approval of h-new buying at most 10 of h-c1's shares at 105 EUR.
fn approval() -> AdoptedResolution {
    adopted(
        "r-approval",
        ResolutionPurpose::TransferApproval {
            transferee: holder(NEWCOMER),
            terms: Terms {
                holder: Some(holder("h-c1")),
                count: Some(shares(10)),
                price_per_share: Some(eur("105")),
                ..Terms::NONE
            },
        },
    )
}

fn services() -> CompanyServices {
    let mut known = resolutions();
    known.extend([buy_back(), preference_issue(), approval()]);
    CompanyServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownResolutions::new(known),
    )
}

/// The small farm, capitalised, then `events`.
fn after(events: impl IntoIterator<Item = CompanyEvent>) -> Vec<CompanyEvent> {
    with(capitalised(), events)
}

fn accepted(given: Vec<CompanyEvent>, command: CompanyCommand) -> Vec<CompanyEvent> {
    let mut company = fold(given);
    windledger_fixtures::farm::run(&mut company, command, &services())
        .expect("the movement keeps to the resolution's terms")
}

fn refusal(given: Vec<CompanyEvent>, command: CompanyCommand) -> CompanyError {
    let mut company = fold(given);
    windledger_fixtures::farm::run(&mut company, command, &services())
        .expect_err("the movement is outside the resolution's terms")
}

fn repurchase(from: &str, count: u64, price: &str, on: chrono::NaiveDate) -> CompanyCommand {
    CompanyCommand::RepurchaseShares {
        holder: holder(from),
        class: class(ORD),
        count: shares(count),
        price_per_share: eur(price),
        resolution: res("r-buy-back"),
        effective_date: on,
    }
}

fn repurchased(count: u64) -> CompanyEvent {
    CompanyEvent::SharesRepurchased {
        holder: holder("h-ind"),
        class: class(ORD),
        count: shares(count),
        price_per_share: eur("110"),
        resolution: buy_back(),
        effective_date: later(),
    }
}

#[test]
fn a_buy_back_within_its_terms_is_recorded_with_them_and_counted_to_its_limit() {
    // Given the buy-back of 20 of h-ind's shares, when the company buys 12
    // back, then 8, both are recorded, each with the resolution's terms;
    let first = accepted(capitalised(), repurchase("h-ind", 12, "110", later()));
    assert_eq!(first, vec![repurchased(12)]);
    let second = accepted(
        after([repurchased(12)]),
        repurchase("h-ind", 8, "110", later()),
    );
    assert_eq!(second, vec![repurchased(8)]);
    // one share more is beyond its terms, whatever the holder still holds.
    assert_eq!(
        refusal(
            after([repurchased(12), repurchased(8)]),
            repurchase("h-ind", 1, "110", later())
        ),
        CompanyError::OutsideTerms(OutsideTerms::CountExceeded {
            resolution: res("r-buy-back"),
            authorised: shares(20),
            used: shares(20),
            requested: shares(1),
        })
    );
    // Nor may one movement take more than the count at once.
    assert_eq!(
        refusal(capitalised(), repurchase("h-ind", 21, "110", later())),
        CompanyError::OutsideTerms(OutsideTerms::CountExceeded {
            resolution: res("r-buy-back"),
            authorised: shares(20),
            used: shares(0),
            requested: shares(21),
        })
    );
}

#[test]
fn a_buy_back_of_another_holder_at_another_price_or_after_its_deadline_is_refused() {
    let outside = |command| match refusal(capitalised(), command) {
        CompanyError::OutsideTerms(outside) => outside,
        other => panic!("refused for another reason: {other}"),
    };
    assert_eq!(
        outside(repurchase("h-sem", 5, "110", later())),
        OutsideTerms::OtherHolder {
            resolution: res("r-buy-back"),
            expected: holder("h-ind"),
            found: holder("h-sem"),
        }
    );
    assert_eq!(
        outside(repurchase("h-ind", 5, "120", later())),
        OutsideTerms::OtherPrice {
            resolution: res("r-buy-back"),
            expected: eur("110"),
            found: eur("120"),
        }
    );
    // The last day is within the terms, the day after is not.
    accepted(
        capitalised(),
        repurchase("h-ind", 5, "110", day(2016, 12, 31)),
    );
    assert_eq!(
        outside(repurchase("h-ind", 5, "110", day(2017, 1, 1))),
        OutsideTerms::DeadlinePassed {
            resolution: res("r-buy-back"),
            deadline: day(2016, 12, 31),
            effective_date: day(2017, 1, 1),
        }
    );
}

#[test]
fn shares_bought_back_under_a_reduction_may_then_be_cancelled_under_it_up_to_the_same_count() {
    let cancel = |count| CompanyCommand::CancelShares {
        source: CancellationSource::Treasury,
        class: class(ORD),
        count: shares(count),
        resolution: res("r-buy-back"),
        effective_date: later(),
    };
    let cancelled = |count| CompanyEvent::SharesCancelled {
        source: CancellationSource::Treasury,
        class: class(ORD),
        count: shares(count),
        resolution: buy_back(),
        effective_date: later(),
    };
    // Given 20 shares bought back under r-buy-back and 5 more under the
    // reduction without terms (25 in treasury):
    let bought = after([
        repurchased(20),
        CompanyEvent::SharesRepurchased {
            holder: holder("h-ind"),
            class: class(ORD),
            count: shares(5),
            price_per_share: eur("110"),
            resolution: resolution("r-reduction"),
            effective_date: later(),
        },
    ]);
    // the 20 are cancelled under r-buy-back (a count of its own), in two
    // steps; one more is beyond it, though the treasury holds 5 more.
    assert_eq!(accepted(bought.clone(), cancel(15)), vec![cancelled(15)]);
    let fifteen = with(bought, [cancelled(15)]);
    assert_eq!(accepted(fifteen.clone(), cancel(5)), vec![cancelled(5)]);
    assert_eq!(
        refusal(with(fifteen, [cancelled(5)]), cancel(1)),
        CompanyError::OutsideTerms(OutsideTerms::CountExceeded {
            resolution: res("r-buy-back"),
            authorised: shares(20),
            used: shares(20),
            requested: shares(1),
        })
    );
}

fn issue(subscriptions: Vec<Subscription>) -> CompanyCommand {
    CompanyCommand::IssueShares {
        subscriptions,
        resolution: Some(res("r-issue")),
        effective_date: later(),
    }
}

fn preference(to: &str, count: u64, price: &str) -> Subscription {
    Subscription {
        class: class(PREF),
        ..subscription(to, ORD, count, price)
    }
}

#[test]
fn an_issue_keeps_to_the_class_price_and_count_of_its_capital_increase() {
    // Given the increase of at most 100 preference shares at 120 EUR, when
    // 60 go to h-sem and 40 to h-new in one issue, it is recorded;
    let both = vec![
        preference("h-sem", 60, "120"),
        preference(NEWCOMER, 40, "120"),
    ];
    let issued = accepted(capitalised(), issue(both.clone()));
    assert_eq!(
        issued,
        vec![CompanyEvent::SharesIssued {
            subscriptions: both,
            resolution: Some(preference_issue()),
            effective_date: later(),
        }]
    );
    // a later issue of one more is beyond the increase.
    assert_eq!(
        refusal(after(issued), issue(vec![preference("h-sem", 1, "120")])),
        CompanyError::OutsideTerms(OutsideTerms::CountExceeded {
            resolution: res("r-issue"),
            authorised: shares(100),
            used: shares(100),
            requested: shares(1),
        })
    );
    // Ordinary shares, or a share at 110, are not what it authorised.
    assert_eq!(
        refusal(
            capitalised(),
            issue(vec![subscription("h-sem", ORD, 10, "120")])
        ),
        CompanyError::OutsideTerms(OutsideTerms::OtherClass {
            resolution: res("r-issue"),
            expected: class(PREF),
            found: class(ORD),
        })
    );
    assert_eq!(
        refusal(
            capitalised(),
            issue(vec![
                preference("h-sem", 10, "120"),
                preference(NEWCOMER, 10, "110")
            ])
        ),
        CompanyError::OutsideTerms(OutsideTerms::OtherPrice {
            resolution: res("r-issue"),
            expected: eur("120"),
            found: eur("110"),
        })
    );
}

fn sale(from: &str, count: u64, price: Option<&str>) -> CompanyCommand {
    CompanyCommand::TransferShares {
        from: holder(from),
        to: holder(NEWCOMER),
        class: class(ORD),
        count: shares(count),
        price_per_share: price.map(eur),
        approval: Some(res("r-approval")),
        effective_date: later(),
        exemption: None,
    }
}

#[test]
fn an_approval_with_terms_backs_only_the_sale_it_names() {
    // Given h-new approved to buy at most 10 of h-c1's shares at 105 EUR:
    // the sale of 10 is recorded, with the approval and its terms;
    let sold = accepted(capitalised(), sale("h-c1", 10, Some("105")));
    assert_eq!(
        sold,
        vec![CompanyEvent::SharesTransferred(ShareTransfer {
            from: holder("h-c1"),
            to: holder(NEWCOMER),
            class: class(ORD),
            count: shares(10),
            price_per_share: Some(eur("105")),
            approval: Some(approval()),
            effective_date: later(),
            exemption: None,
        })]
    );
    // a second sale under it is beyond its count;
    assert_eq!(
        refusal(after(sold), sale("h-c1", 1, Some("105"))),
        CompanyError::OutsideTerms(OutsideTerms::CountExceeded {
            resolution: res("r-approval"),
            authorised: shares(10),
            used: shares(10),
            requested: shares(1),
        })
    );
    // h-c2 selling is not what it approved, nor a sale without its price.
    assert_eq!(
        refusal(capitalised(), sale("h-c2", 10, Some("105"))),
        CompanyError::OutsideTerms(OutsideTerms::OtherHolder {
            resolution: res("r-approval"),
            expected: holder("h-c1"),
            found: holder("h-c2"),
        })
    );
    assert_eq!(
        refusal(capitalised(), sale("h-c1", 10, None)),
        CompanyError::OutsideTerms(OutsideTerms::NoPrice {
            resolution: res("r-approval"),
            expected: eur("105"),
        })
    );
}

#[test]
fn a_refused_movement_uses_nothing_of_the_terms() {
    // A buy-back refused (a price outside the terms) leaves the full count.
    let mut company = fold(capitalised());
    windledger_fixtures::farm::run(
        &mut company,
        repurchase("h-ind", 20, "100", later()),
        &services(),
    )
    .expect_err("another price");
    let events = windledger_fixtures::farm::run(
        &mut company,
        repurchase("h-ind", 20, "110", later()),
        &services(),
    )
    .expect("the full count is still authorised");
    assert_eq!(events, vec![repurchased(20)]);
}

#[test]
fn terms_are_written_only_when_given_so_a_purpose_without_them_reads_as_before() {
    // A capital reduction recorded before terms existed reads as one
    // without terms, and is written back byte for byte.
    let before = r#"{"purpose":"capital_reduction"}"#;
    let read: ResolutionPurpose = serde_json::from_str(before).expect("reads");
    assert_eq!(read, ResolutionPurpose::CAPITAL_REDUCTION);
    assert_eq!(serde_json::to_string(&read).expect("writes"), before);
    let approval = r#"{"purpose":"transfer_approval","transferee":"h-new"}"#;
    let read: ResolutionPurpose = serde_json::from_str(approval).expect("reads");
    assert_eq!(read, ResolutionPurpose::approval_of(holder(NEWCOMER)));
    assert_eq!(serde_json::to_string(&read).expect("writes"), approval);
    // With terms, only the terms given are written.
    let with_terms = serde_json::to_value(&preference_issue().purpose).expect("writes");
    assert_eq!(
        with_terms,
        serde_json::json!({"purpose": "capital_increase",
            "terms": {"class": "preference", "count": 100, "price_per_share": "120"}})
    );
    // An unknown term is refused, not ignored.
    let unknown = r#"{"purpose":"capital_increase","terms":{"counts":5}}"#;
    assert!(serde_json::from_str::<ResolutionPurpose>(unknown).is_err());
}
