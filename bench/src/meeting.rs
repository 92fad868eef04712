//! `meeting`: the normal case of issue 4, a general meeting whose voters all
//! vote near the end of the window, through `CqrsFramework` on the store.
//!
//! Prints `ballot_rps` (ballots per second, each a command with its own
//! commit), `ballot_p99_ms` (a ballot's latency, queueing included),
//! `close_ms` (counting every resolution over the whole roll) and
//! `load_meeting_ms` (a fresh process reading the meeting's stream).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{NaiveDate, TimeZone, Utc};
use cqrs_es::{CqrsFramework, EventStore};
use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition, KnownCapTables};
use windledger_domain::charter::{Charter, College, ShareClass, VoteBasis};
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::{
    Call, Choice, Meeting, MeetingCommand, MeetingKind, MeetingServices, ProposedResolution,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::ResolutionPurpose;
use windledger_domain::types::{
    CollegeId, CommuneCode, DecisionKindId, HolderId, MeetingId, ResolutionId, ShareClassId,
    ShareCount,
};
use windledger_store::LedgerEventStore;
use windledger_store::testing::Backend;

use crate::{bench_database, env_size, new_ledger, per_second};

const MEETING: &str = "ag-2025";
const RESOLUTIONS: usize = 5;

pub(crate) fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| anyhow::anyhow!("invalid date"))
}

pub(crate) fn time(y: i32, m: u32, d: u32, h: u32) -> anyhow::Result<chrono::DateTime<Utc>> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("invalid time"))
}

/// Three colleges shaped like the reference farm, `voters` holders spread
/// over them (most of them citizens).
/// Convenes ordinary general meeting `meeting` on `agenda`, convened on
/// 2025-05-20, record date 2025-06-10, voting from 2025-06-15 8h to
/// 2025-06-25 18h.
pub(crate) fn convene(
    meeting: &str,
    agenda: Vec<ProposedResolution>,
) -> anyhow::Result<MeetingCommand> {
    Ok(MeetingCommand::Convene {
        meeting: MeetingId::new(meeting)?,
        kind: MeetingKind::OrdinaryGeneralMeeting,
        call: Call::First,
        record_date: date(2025, 6, 10)?,
        opens_at: time(2025, 6, 15, 8)?,
        closes_at: time(2025, 6, 25, 18)?,
        agenda,
        members: vec![],
        convened_on: date(2025, 5, 20)?,
    })
}

/// Opens the voting of a meeting [`convene`] convened, when it opens.
pub(crate) fn open_voting() -> anyhow::Result<MeetingCommand> {
    Ok(MeetingCommand::OpenVoting {
        at: time(2025, 6, 15, 8)?,
    })
}

pub(crate) fn cap_table(voters: usize) -> anyhow::Result<CapTableSnapshot> {
    let college = |id: &str, weight, vote_basis| -> anyhow::Result<College> {
        Ok(College {
            id: CollegeId::new(id)?,
            name: id.to_owned(),
            weight: Some(weight),
            vote_basis,
            clubs: windledger_domain::charter::ClubVotes::Once,
        })
    };
    let half = Ratio::new(1, 2).ok_or_else(|| anyhow::anyhow!("ratio"))?;
    let quarter = Ratio::new(1, 4).ok_or_else(|| anyhow::anyhow!("ratio"))?;
    let class = ShareClassId::new("ordinaires")?;
    let charter = Charter::with_french_defaults(
        vec![
            college("industriel", half, VoteBasis::PerShare)?,
            college("collectivites", quarter, VoteBasis::PerShare)?,
            college("citoyens", quarter, VoteBasis::PerMember)?,
        ],
        vec![ShareClass {
            id: class.clone(),
            name: "Actions ordinaires".to_owned(),
            nominal_value: Euros::new(100.into())?,
            votes_per_share: 1,
            dividend_rights: Ratio::ONE,
            authorised: ShareCount::new(1_000_000_000)?,
        }],
    );
    let holders = (0..voters)
        .map(|i| {
            let college = match i % 100 {
                0 => "industriel",
                1..=4 => "collectivites",
                _ => "citoyens",
            };
            Ok(HolderPosition {
                holder: HolderId::new(format!("h{i:06}"))?,
                kind: HolderKind::Individual,
                college: CollegeId::new(college)?,
                commune: CommuneCode::new("42026")?,
                shares: BTreeMap::from([(class.clone(), ShareCount::new(1 + (i as u64 % 40))?)]),
                members: None,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(CapTableSnapshot {
        as_of: date(2025, 1, 1)?,
        charter,
        share_capital: Euros::ZERO,
        turbines: vec![],
        holders,
    })
}

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let voters = env_size("WINDLEDGER_BENCH_VOTERS", 20_000)?.max(1);
    let concurrency = env_size("WINDLEDGER_BENCH_CONCURRENCY", 64)?.max(1);
    // Kept to the end: the database is dropped with it.
    let (_db, store) = bench_database(backend).await?;
    let ledger = new_ledger(&store, "bench-meeting").await?;
    let cqrs = Arc::new(CqrsFramework::new(
        LedgerEventStore::<Meeting>::new(store.clone(), ledger.clone()),
        vec![],
        MeetingServices::new(
            windledger_fixtures::farm::history_clock(),
            KnownCapTables::new([cap_table(voters)?]),
        ),
    ));

    let agenda = (1..=RESOLUTIONS)
        .map(|n| {
            Ok(ProposedResolution {
                decision_kind: DecisionKindId::new(if n == RESOLUTIONS {
                    "extraordinary"
                } else {
                    "ordinary"
                })?,
                purpose: ResolutionPurpose::General,
                text: format!("Résolution n° {n}"),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    cqrs.execute(MEETING, convene(MEETING, agenda)?).await?;
    cqrs.execute(MEETING, open_voting()?).await?;

    eprintln!("# {voters} ballots from {concurrency} tasks, {RESOLUTIONS} resolutions each");
    let cast_at = time(2025, 6, 25, 17)?;
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let cqrs = Arc::clone(&cqrs);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in (task..voters).step_by(concurrency) {
                    let voter = HolderId::new(format!("h{i:06}"))?;
                    let choice = match i % 7 {
                        0 => Choice::Against,
                        1 => Choice::Abstain,
                        _ => Choice::For,
                    };
                    let choices = (1..=RESOLUTIONS)
                        .map(|n| Ok((ResolutionId::new(format!("{MEETING}.{n}"))?, choice)))
                        .collect::<anyhow::Result<_>>()?;
                    let sent = Instant::now();
                    cqrs.execute(
                        MEETING,
                        MeetingCommand::CastBallot {
                            voter: voter.clone(),
                            cast_by: voter,
                            choices,
                            at: cast_at,
                        },
                    )
                    .await?;
                    latencies.push(sent.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::with_capacity(voters);
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let p99 = latencies
        .get(latencies.len() * 99 / 100)
        .copied()
        .unwrap_or_default();
    println!("ballot_rps {:.0} ballots/s", per_second(voters, elapsed));
    println!("ballot_p99_ms {:.1} ms", p99.as_secs_f64() * 1000.0);

    let start = Instant::now();
    cqrs.execute(
        MEETING,
        MeetingCommand::Close {
            at: time(2025, 6, 25, 18)?,
        },
    )
    .await?;
    println!("close_ms {:.1} ms", start.elapsed().as_secs_f64() * 1000.0);

    let fresh = LedgerEventStore::<Meeting>::new(store.clone(), ledger);
    let start = Instant::now();
    let context = fresh.load_aggregate(MEETING).await?;
    let loaded = start.elapsed();
    if context.aggregate.ballots_in_force() != voters || context.aggregate.results().is_none() {
        bail!(
            "the reloaded meeting has {} ballots, expected {voters}, closed: {}",
            context.aggregate.ballots_in_force(),
            context.aggregate.results().is_some()
        );
    }
    println!("load_meeting_ms {:.1} ms", loaded.as_secs_f64() * 1000.0);
    Ok(())
}
