//! Properties of the money side over random rolls, amounts and report
//! histories, each run through the financial-year aggregate.

use crate::finance_support::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use windledger_domain::company::HolderKind;
use windledger_domain::finance::{
    Balances, CostCategory, DividendAmount, FinancialYearCommand, FinancialYearEvent,
    WithholdingRates, YearMonth,
};
use windledger_domain::money::Euros;
use windledger_domain::types::{ReportId, ResolutionId};
use windledger_fixtures::farm::block_on;

const KINDS: [HolderKind; 4] = [
    HolderKind::Individual,
    HolderKind::Company,
    HolderKind::Association,
    HolderKind::LocalAuthority,
];

fn holdings() -> impl Strategy<Value = Vec<Holding>> {
    prop::collection::vec((0..KINDS.len(), 0u64..5_000, 0u64..500), 1..60).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (kind, ordinary, preference))| {
                // Every holder holds something.
                let ordinary = if ordinary + preference == 0 {
                    1
                } else {
                    ordinary
                };
                (format!("h{i:03}"), KINDS[kind], ordinary, preference)
            })
            .collect()
    })
}

/// Declares a dividend of `total` cents (or `per_share` cents) on a year
/// whose appropriation set aside `total` cents.
fn declare(
    holders: &[Holding],
    appropriated_cents: u64,
    amount: DividendAmount,
    withholding: Option<WithholdingRates>,
) -> FinancialYearEvent {
    block_on(async {
        let mut year = Year::open_with_reserve("100000.00", "10000.00", holders).await;
        let dividend = Euros::from_cents(appropriated_cents);
        year.close(
            &dividend.amount().to_string(),
            "0.00",
            &dividend.amount().to_string(),
        )
        .await
        .expect("appropriated");
        let mut events = year
            .run(FinancialYearCommand::DeclareDividend {
                resolution: ResolutionId::new(APPROPRIATION).expect("an id"),
                amount,
                record_date: day(2025, 6, 25),
                payment_date: day(2025, 7, 1),
                withholding,
                withholding_statuses: Default::default(),
            })
            .await
            .expect("declared");
        events.remove(0)
    })
}

/// Shares x dividend rights, in fifths (preference shares carry 6/5).
fn fifths(h: &Holding) -> u128 {
    u128::from(h.2) * 5 + u128::from(h.3) * 6
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Allocations sum exactly to the declared total, and each differs from
    /// its exact pro-rata share by less than one cent.
    #[test]
    fn allocations_sum_to_the_total_and_stay_within_a_cent_of_pro_rata(
        holders in holdings(),
        total in 1u64..10_000_000_000,
    ) {
        let event = declare(
            &holders,
            total,
            DividendAmount::Total { amount: Euros::from_cents(total) },
            None,
        );
        let FinancialYearEvent::DividendDeclared { allocations, total: declared, .. } = event else {
            panic!("expected the declaration");
        };
        prop_assert_eq!(declared, Euros::from_cents(total));
        let sum: u64 = allocations.iter().map(|a| a.gross.cents().expect("cents")).sum();
        prop_assert_eq!(sum, total);
        let weight: u128 = holders.iter().map(fifths).sum();
        for a in &allocations {
            let h = holders.iter().find(|h| h.0 == a.holder.as_str()).expect("a holder");
            // |gross - total x w / W| < 1 cent, in integers.
            let gross = u128::from(a.gross.cents().expect("cents")) * weight;
            let exact = u128::from(total) * fifths(h);
            prop_assert!(gross.abs_diff(exact) < weight, "{} off by a cent or more", a.holder);
        }
    }

    /// Per share: each holder receives the per-share amount x their rights,
    /// rounded down, and what is left of the appropriation is carried
    /// forward.
    #[test]
    fn per_share_allocations_round_down_and_the_rest_is_undistributed(
        holders in holdings(),
        per_share_tenth_cents in 1u64..100_000,
    ) {
        let per_share = Euros::new(Decimal::new(per_share_tenth_cents as i64, 3)).expect("an amount");
        let weight: u128 = holders.iter().map(fifths).sum();
        // Enough set aside for everyone.
        let appropriated = u64::try_from(weight * u128::from(per_share_tenth_cents) / 50 + 1).expect("fits");
        let event = declare(&holders, appropriated, DividendAmount::PerShare { amount: per_share }, None);
        let FinancialYearEvent::DividendDeclared { allocations, total, undistributed, .. } = event else {
            panic!("expected the declaration");
        };
        for a in &allocations {
            let h = holders.iter().find(|h| h.0 == a.holder.as_str()).expect("a holder");
            // tenths of a cent x fifths / 50 = cents.
            let expected = u128::from(per_share_tenth_cents) * fifths(h) / 50;
            prop_assert_eq!(u128::from(a.gross.cents().expect("cents")), expected);
        }
        prop_assert_eq!(
            total.cents().expect("cents") + undistributed.cents().expect("cents"),
            appropriated
        );
    }

    /// What is withheld plus the net is the gross, for every holder, and
    /// only individuals have anything withheld.
    #[test]
    fn withholding_plus_net_equals_gross(
        holders in holdings(),
        total in 1u64..1_000_000_000,
        income_tax in 0u32..=500,
        social in 0u32..=500,
    ) {
        let rates = WithholdingRates {
            income_tax: Decimal::new(i64::from(income_tax), 1),
            social_contributions: Decimal::new(i64::from(social), 1),
        };
        let event = declare(&holders, total, DividendAmount::Total { amount: Euros::from_cents(total) }, Some(rates));
        let FinancialYearEvent::DividendDeclared { allocations, .. } = event else {
            panic!("expected the declaration");
        };
        for a in &allocations {
            let cents = |e: Euros| e.cents().expect("cents");
            prop_assert_eq!(cents(a.income_tax) + cents(a.social_contributions) + cents(a.net), cents(a.gross));
            if a.kind != HolderKind::Individual {
                prop_assert_eq!(a.net, a.gross);
            }
        }
    }

    /// However reports and corrections (valid or not) follow each other, a
    /// correction replaces one report in force: the number in force is the
    /// number of original reports accepted.
    #[test]
    fn corrections_never_change_the_number_of_reports_in_force(
        ops in prop::collection::vec((any::<bool>(), 0usize..12, 0usize..20, 1u64..10_000), 1..60),
    ) {
        block_on(async {
            let mut year = Year::open(snapshot(eur("100000.00"), vec![], &[]), Balances::default()).await;
            let mut originals = 0usize;
            for (n, (is_correction, month, target, cents)) in ops.into_iter().enumerate() {
                let corrects = is_correction.then(|| ReportId::new(format!("r{target}")).expect("an id"));
                let accepted = year
                    .run(FinancialYearCommand::RecordCost {
                        report: ReportId::new(format!("r{n}")).expect("an id"),
                        month: YearMonth::new(YEAR, month as u32 + 1).expect("a month"),
                        category: CostCategory::Maintenance,
                        amount: Euros::from_cents(cents),
                        beneficiary: None,
                        corrects,
                    })
                    .await
                    .is_ok();
                if accepted && !is_correction {
                    originals += 1;
                }
                prop_assert_eq!(year.state.reports_in_force().count(), originals);
            }
            Ok(())
        })?;
    }
}
