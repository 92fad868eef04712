//! Properties of the projections over random valid histories from the
//! synthetic farm generator (every event produced by a domain command).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use proptest::prelude::*;
use windledger_domain::company::{Company, CompanyEvent};
use windledger_fixtures::synthetic::Synthetic;
use windledger_projections::cap_table::AsOf;
use windledger_projections::event::LedgerEvent;
use windledger_projections::runner::{Projections, Shared};

pub(crate) fn ledger(config: &Synthetic) -> Vec<LedgerEvent> {
    let recorded_at = DateTime::<Utc>::UNIX_EPOCH;
    config
        .generate()
        .enumerate()
        .map(|(i, e)| {
            LedgerEvent::unrecorded(
                i as u64 + 1,
                e.stream_id,
                e.event_type,
                e.payload.to_string(),
                recorded_at,
            )
        })
        .collect()
}

pub(crate) fn fed(events: &[LedgerEvent]) -> Projections {
    let mut projections = Projections::default();
    for e in events {
        projections.apply(e);
    }
    projections
}

pub(crate) fn config() -> impl Strategy<Value = Synthetic> {
    (10usize..50, 1u32..4, any::<u64>()).prop_map(|(holders, years, seed)| Synthetic {
        transfers_per_year: 6,
        ..Synthetic::new(holders, years, seed)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Rebuilding from zero (in batches) equals the live projection fed
    /// event by event, and equals one rebuilt from a state saved midway.
    #[test]
    fn rebuilds_equal_the_live_projection(config in config(), cut in 0.0f64..1.0) {
        let events = ledger(&config);
        let live = fed(&events);
        prop_assert_eq!(live.failure(), None);
        prop_assert_eq!(live.position(), events.len() as u64);

        let rebuilt = Shared::default();
        for batch in events.chunks(97) {
            rebuilt.apply(batch);
        }
        prop_assert!(rebuilt.read(|p| p == &live));

        let k = (events.len() as f64 * cut) as usize;
        let mut midway = fed(&events[..k]).clone();
        // A feed that resumes a little early is harmless.
        for e in &events[k.saturating_sub(5)..] {
            midway.apply(e);
        }
        prop_assert_eq!(&midway, &live);
    }

    /// Read models built apart up to the head a ledger had when opened,
    /// then copied out ([`Shared::build_until`]), are the live projection,
    /// and go on from there: whether the head falls within a batch of the
    /// feed, past its end, or at 0.
    #[test]
    fn read_models_built_apart_then_copied_equal_the_live_projection(
        config in config(),
        cut in 0.0f64..1.2,
    ) {
        let events = ledger(&config);
        let live = fed(&events);
        let head = (events.len() as f64 * cut) as usize;
        let shared = Shared::default();
        shared.build_until(head as u64);
        let fed_up_to = head.min(events.len());
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let feed = events[..fed_up_to].iter().cloned().map(Ok::<_, ()>);
        prop_assert_eq!(runtime.block_on(shared.follow(futures::stream::iter(feed))), Ok(()));
        prop_assert!(shared.read(|p| p == &fed(&events[..fed_up_to])));
        // What comes after the opening is applied as any new event is.
        shared.apply(&events[fed_up_to..]);
        prop_assert!(shared.read(|p| p == &live));
    }

    /// The cap table equals the company aggregate's holdings folded from the
    /// same events, and every roll's colleges sum to its total and match the
    /// roll the meeting froze.
    #[test]
    fn the_cap_table_is_the_sum_of_movements_and_rolls_add_up(config in config()) {
        let events = ledger(&config);
        let projections = fed(&events);
        let mut company = Company::default();
        for e in events.iter().filter(|e| e.stream_id.starts_with("company/")) {
            let event: CompanyEvent = serde_json::from_str(&e.payload).expect("a company event");
            company.apply(event);
        }
        let view = projections.cap_table.fold().view(AsOf::Latest).expect("incorporated");
        let projected: BTreeMap<_, _> = view
            .rows
            .iter()
            .map(|r| ((r.holder.clone(), r.class.clone()), r.shares))
            .collect();
        let folded: BTreeMap<_, _> = company
            .holdings()
            .map(|(h, c, n)| ((h.clone(), c.clone()), n.get()))
            .collect();
        prop_assert_eq!(projected, folded);

        let register = projections.register.fold();
        for (id, meeting) in register.meetings() {
            let Some(frozen) = &meeting.roll else { continue };
            let weights = projections
                .cap_table
                .fold()
                .vote_weights(frozen.roll.record_date)
                .expect("a roll");
            prop_assert_eq!(weights.by_college.values().sum::<u64>(), weights.total);
            prop_assert_eq!(&weights.voters, &frozen.roll.voters, "meeting {}", id);
            prop_assert_eq!(weights.total, frozen.total);
        }
    }
}
