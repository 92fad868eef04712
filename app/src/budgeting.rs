//! A budgeting round out of the ledger: its election in Pabulib's `.pb`
//! format (`windledger export pabulib ROUND`), the ballots as recorded, so
//! that `pabutools` or any other tool counts it again.

use std::collections::HashMap;

use cqrs_es::{Aggregate, EventStore};
use windledger_domain::budgeting::pabulib::{self, Meta};
use windledger_domain::budgeting::round::{BudgetingRound, RoundEvent};
use windledger_domain::paris::paris_date;
use windledger_store::{LedgerEventStore, LedgerId, Store};

use crate::error::Error;

/// The round's election as a `.pb` file: its eligible proposals (ids,
/// costs, votes, titles, and `selected` once tallied) and every ballot
/// under the resident's pseudonymous id, in the order cast. `None` when the
/// ledger has no such round.
pub async fn pabulib(
    store: &Store,
    ledger: &LedgerId,
    round: &str,
) -> Result<Option<String>, Error> {
    let events = LedgerEventStore::<BudgetingRound>::new(store.clone(), ledger.clone())
        .load_events(round)
        .await
        .map_err(|e| Error::unavailable(format!("cannot read the round {round}: {e}")))?;
    let mut state = BudgetingRound::default();
    let mut titles = HashMap::new();
    let mut voters = Vec::new();
    let mut convened = None;
    let mut outcome = None;
    for envelope in events {
        match &envelope.payload {
            RoundEvent::RoundConvened {
                method,
                voting_open,
                voting_close,
                ..
            } => convened = Some((*method, *voting_open, *voting_close)),
            RoundEvent::ProposalSubmitted {
                proposal, title, ..
            } => {
                titles.insert(proposal.clone(), title.clone());
            }
            RoundEvent::BallotCast { resident, .. } => voters.push(resident.to_string()),
            RoundEvent::RoundTallied { outcome: o, .. } => outcome = Some(o.clone()),
            RoundEvent::ProposalReviewed { .. } => {}
        }
        state.apply(envelope.payload);
    }
    let (Some((method, voting_open, voting_close)), Some((ids, election))) =
        (convened, state.election())
    else {
        return Ok(None);
    };
    let names: Vec<String> = ids
        .iter()
        .map(|id| titles.get(id).cloned().unwrap_or_default())
        .collect();
    let day = |at| paris_date(at).format("%d.%m.%Y").to_string();
    let meta = Meta {
        description: format!("Budget participatif {round} du fonds de territoire"),
        country: "France".to_owned(),
        unit: ledger.to_string(),
        instance: round.to_owned(),
        date_begin: Some(day(voting_open)),
        // The last day a ballot was taken: the close is excluded.
        date_end: Some(day(voting_close - chrono::Duration::seconds(1))),
    };
    Ok(Some(pabulib::write(
        &meta,
        method,
        &election,
        &names,
        &voters,
        outcome.as_ref(),
    )))
}
