//! The register of share movements over random valid histories: it is the
//! company stream's share movements, numbered without gaps, no account
//! ever goes negative, and the accounts end where the cap table is.

use std::collections::BTreeMap;

use proptest::prelude::*;
use windledger_domain::company::{CancellationSource, CompanyEvent, ShareTransfer};
use windledger_domain::money::Euros;
use windledger_domain::types::{HolderId, ShareClassId};
use windledger_projections::cap_table::AsOf;
use windledger_projections::event::LedgerEvent;
use windledger_projections::share_register::RegisterEntry;

use crate::properties::{config, fed, ledger};

/// An entry as read straight from a company event: (position, class,
/// count, transferor, transferee, price).
type Movement = (
    u64,
    ShareClassId,
    u64,
    Option<HolderId>,
    Option<HolderId>,
    Option<Euros>,
);

fn movements(position: u64, event: &CompanyEvent) -> Vec<Movement> {
    match event {
        CompanyEvent::SharesIssued { subscriptions, .. } => subscriptions
            .iter()
            .map(|s| {
                (
                    position,
                    s.class.clone(),
                    s.count.get(),
                    None,
                    Some(s.holder.clone()),
                    Some(s.price_per_share),
                )
            })
            .collect(),
        CompanyEvent::SharesTransferred(t) => vec![(
            position,
            t.class.clone(),
            t.count.get(),
            Some(t.from.clone()),
            Some(t.to.clone()),
            t.price_per_share,
        )],
        CompanyEvent::SharesRepurchased {
            holder,
            class,
            count,
            price_per_share,
            ..
        } => vec![(
            position,
            class.clone(),
            count.get(),
            Some(holder.clone()),
            None,
            Some(*price_per_share),
        )],
        CompanyEvent::SharesCancelled {
            source,
            class,
            count,
            ..
        } => {
            let (from, price) = match source {
                CancellationSource::Treasury => (None, None),
                CancellationSource::Holder {
                    holder,
                    reimbursement_per_share,
                } => (Some(holder.clone()), *reimbursement_per_share),
            };
            vec![(position, class.clone(), count.get(), from, None, price)]
        }
        _ => Vec::new(),
    }
}

fn as_movement(e: &RegisterEntry) -> Movement {
    (
        e.at.position,
        e.class.clone(),
        e.count,
        e.transferor.clone(),
        e.transferee.clone(),
        e.price_per_share,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_register_is_the_company_streams_movements_numbered_without_gaps(config in config()) {
        let events = ledger(&config);
        let projections = fed(&events);
        prop_assert_eq!(projections.failure(), None);
        let register = projections.share_register.fold();

        let expected: Vec<Movement> = events
            .iter()
            .filter(|e| e.stream_id.starts_with("company/"))
            .flat_map(|e| {
                let event: CompanyEvent = serde_json::from_str(&e.payload).expect("a company event");
                movements(e.position, &event)
            })
            .collect();
        let entries = register.entries();
        prop_assert!(!entries.is_empty());
        prop_assert_eq!(entries.iter().map(as_movement).collect::<Vec<_>>(), expected);
        let numbers: Vec<u64> = entries.iter().map(|e| e.number).collect();
        prop_assert_eq!(numbers, (1..=entries.len() as u64).collect::<Vec<_>>());
        prop_assert!(entries.windows(2).all(|w| w[0].date <= w[1].date));

        // Every account: balances never negative; at the head, the cap table.
        let cap_table = projections.cap_table.fold();
        for holder in register.holders() {
            let account = register.account(holder, AsOf::Latest).expect("named by an entry");
            for line in &account.lines {
                prop_assert!(line.balance >= 0, "{} went to {} at entry {}", holder, line.balance, line.entry.number);
                prop_assert_ne!(line.delta, 0);
            }
            let balances: BTreeMap<ShareClassId, u64> = account
                .balances
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(c, n)| (c.clone(), u64::try_from(*n).expect("fits")))
                .collect();
            prop_assert_eq!(&balances, &cap_table.holdings_of(holder, AsOf::Latest), "holder {}", holder);
        }
        // And the certificate at any entry's date is the cap table then.
        let date = entries[entries.len() / 2].date;
        for (holder, _) in cap_table.holders() {
            prop_assert_eq!(
                register.holdings_at(holder, date),
                cap_table.holdings_of(holder, AsOf::Date { date }),
                "holder {} on {}", holder, date
            );
        }
    }
}

/// Every nature of movement, with the act and the account it moves: the
/// synthetic farms issue and transfer only.
#[test]
fn repurchases_and_cancellations_are_entered_with_their_resolution() {
    use chrono::{DateTime, Utc};
    use windledger_domain::resolution::{AdoptedResolution, ResolutionPurpose};
    use windledger_fixtures::farm::{day, eur, holder, kind, res, shares};
    use windledger_fixtures::small_farm::subscription;
    use windledger_projections::share_register::{Nature, SupportingAct};

    let reduction = AdoptedResolution {
        id: res("ag-2016.2"),
        decision_kind: kind("extraordinary"),
        purpose: ResolutionPurpose::CAPITAL_REDUCTION,
        adopted_on: day(2016, 6, 30),
    };
    let ord = || windledger_fixtures::farm::class("ord");
    let events = [
        CompanyEvent::SharesIssued {
            subscriptions: vec![subscription("h-a", "ord", 100, "100")],
            resolution: None,
            effective_date: day(2013, 5, 2),
        },
        CompanyEvent::SharesRepurchased {
            holder: holder("h-a"),
            class: ord(),
            count: shares(10),
            price_per_share: eur("101"),
            resolution: reduction.clone(),
            effective_date: day(2016, 7, 1),
        },
        CompanyEvent::SharesCancelled {
            source: CancellationSource::Treasury,
            class: ord(),
            count: shares(10),
            resolution: reduction.clone(),
            effective_date: day(2016, 7, 1),
        },
        CompanyEvent::SharesCancelled {
            source: CancellationSource::Holder {
                holder: holder("h-a"),
                reimbursement_per_share: Some(eur("100")),
            },
            class: ord(),
            count: shares(5),
            resolution: reduction.clone(),
            effective_date: day(2016, 7, 2),
        },
        CompanyEvent::SharesTransferred(ShareTransfer {
            from: holder("h-a"),
            to: holder("h-b"),
            class: ord(),
            count: shares(20),
            price_per_share: None,
            approval: None,
            effective_date: day(2017, 1, 3),
            exemption: None,
        }),
    ];
    let ledger: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            LedgerEvent::unrecorded(
                i as u64 + 1,
                "company/farm".to_owned(),
                e.name().to_owned(),
                serde_json::to_string(e).expect("serialises"),
                DateTime::<Utc>::UNIX_EPOCH,
            )
        })
        .collect();
    let projections = fed(&ledger);
    let register = projections.share_register.fold();
    let natures: Vec<Nature> = register.entries().iter().map(|e| e.nature).collect();
    assert_eq!(
        natures,
        [
            Nature::Subscription,
            Nature::Repurchase,
            Nature::TreasuryCancellation,
            Nature::Cancellation,
            Nature::Transfer
        ]
    );
    let entries = register.entries();
    assert_eq!(entries[0].act, SupportingAct::Incorporation);
    assert_eq!(
        entries[1].act,
        SupportingAct::Resolution(std::sync::Arc::new(reduction))
    );
    assert_eq!(entries[1].total(), Some(rust_decimal::Decimal::from(1_010)));
    assert_eq!(entries[2].transferor, None);
    assert_eq!(entries[4].act, SupportingAct::TransferOrder);
    assert_eq!(entries[4].total(), None);

    let account = register
        .account(&holder("h-a"), AsOf::Latest)
        .expect("an account");
    let balances: Vec<i128> = account.lines.iter().map(|l| l.balance).collect();
    assert_eq!(balances, [100, 90, 85, 65]);
    assert_eq!(
        register.holdings_at(&holder("h-a"), day(2016, 7, 1)),
        BTreeMap::from([(ord(), 90)])
    );
    assert_eq!(
        register
            .entries_as_of(AsOf::Date {
                date: day(2016, 7, 1)
            })
            .len(),
        3
    );
    assert!(
        register
            .holdings_at(&holder("h-b"), day(2016, 12, 31))
            .is_empty()
    );
    assert_eq!(
        register.holdings_at(&holder("h-b"), day(2017, 1, 3)),
        BTreeMap::from([(ord(), 20)])
    );
}
