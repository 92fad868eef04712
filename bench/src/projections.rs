//! `projections`: all projections rebuilt from a synthetic farm's ledger
//! (issue 6), its peak memory, an as-of query, and the close of a meeting
//! of 10,000 voters.
//!
//! Prints `replay` (events/s: the ledger read through the store's
//! subscription, as the rebuild reads it, nothing applied), `rebuild`
//! (events/s: read the same way, decoded and applied to every fold),
//! `rebuild_vs_replay` (the rebuild's rate over the replay's), `rebuild_peak_rss` (MiB: the
//! process's peak resident memory during the rebuild, reset just before),
//! `cap_table_as_of` (ms: the cap table with its percentages as of a date,
//! best of 5) and `tally_10k` (ms: deciding the close of a general meeting
//! with 10,000 ballots in force, best of 5).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use futures::StreamExt;
use windledger_app::import::synthetic::write_synthetic;
use windledger_app::services::ledger_event;
use windledger_domain::cap_table::KnownCapTables;
use windledger_domain::meeting::{
    Choice, Meeting, MeetingCommand, MeetingServices, ProposedResolution,
};
use windledger_domain::resolution::ResolutionPurpose;
use windledger_domain::types::{DecisionKindId, HolderId, ResolutionId};
use windledger_fixtures::synthetic::Synthetic;
use windledger_projections::cap_table::AsOf;
use windledger_projections::runner::{Projections, Shared};
use windledger_store::testing::Backend;

use crate::meeting::{cap_table, convene, date, open_voting, time};
use crate::{bench_database, env_size, per_second};

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let target = env_size("WINDLEDGER_BENCH_LEDGER_EVENTS", 1_000_000)?;
    let holders = env_size("WINDLEDGER_BENCH_HOLDERS", 20_000)?;
    // Kept to the end: the database is dropped with it.
    let (_db, store) = bench_database(backend).await?;
    let ledger = windledger_store::LedgerId::parse("bench-projections")?;

    // Set-up, not measured: the synthetic farm written to the ledger as
    // `windledger import --synthetic` writes it.
    let config = Synthetic::for_events(target as u64, holders);
    eprintln!(
        "# writing a synthetic farm: {holders} holders over {} years, about {} events",
        config.years,
        config.estimated_events()
    );
    let years = config.years;
    let start = Instant::now();
    let written = write_synthetic(&store, &ledger, &config, |_| {})
        .await?
        .events;
    let written = usize::try_from(written)?;
    eprintln!(
        "# wrote {written} events in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    // rebuild: every projection from position 0, fed by the store's
    // subscription (which reads the next page while this one is applied)
    // as the shell feeds them. One unmeasured read first: the first read
    // of fresh rows sets their hint bits, which a ledger being rebuilt has
    // long had.
    let mut after = 0;
    loop {
        let page = store.read_ledger(&ledger, after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
    }
    // replay: the same ledger read again through the same subscription,
    // nothing applied: what the rebuild is compared with (issue 26: rebuild
    // >= 0.6 x replay, in the same run).
    let start = Instant::now();
    let replayed = store
        .subscribe(ledger.clone(), 0)
        .take(written)
        .fold(0usize, |n, r| async move { n + usize::from(r.is_ok()) })
        .await;
    let replay = start.elapsed();
    if replayed != written {
        bail!("the replay read {replayed} events, not {written}");
    }
    println!("replay {:.0} events/s", per_second(written, replay));
    eprintln!("# rebuilding");
    reset_peak_rss();
    let start = Instant::now();
    let shared = Shared::default();
    // As a server opens a ledger (built apart then copied only when small
    // enough: `BUILD_APART_MAX_EVENTS`).
    shared.build_until(written as u64);
    let events = store
        .subscribe(ledger.clone(), 0)
        .take(written)
        .map(|r| r.map(ledger_event));
    shared.follow(events).await?;
    let elapsed = start.elapsed();
    if let Some(failure) = shared.read(|p| p.failure().cloned()) {
        bail!("the rebuild stopped: {failure}");
    }
    let reached = shared.read(Projections::position);
    if reached != written as u64 {
        bail!("the projections reached {reached}, not {written}");
    }
    println!("rebuild {:.0} events/s", per_second(written, elapsed));
    println!(
        "rebuild_vs_replay {:.2} ratio",
        replay.as_secs_f64() / elapsed.as_secs_f64()
    );
    println!("rebuild_peak_rss {:.0} MiB", peak_rss_mib()?);

    // cap_table_as_of: the cap table with percentages, mid-history.
    let mid = date(2020 + i32::try_from(years / 2).unwrap_or(0), 7, 1)?;
    let mut best = Duration::MAX;
    let mut rows = 0;
    for _ in 0..5 {
        let (elapsed, n) = shared.read(|p| {
            let start = Instant::now();
            let view = p.cap_table.fold().view(AsOf::Date { date: mid });
            (start.elapsed(), view.map(|v| v.rows.len()))
        });
        best = best.min(elapsed);
        rows = n.context("the company exists mid-history")?;
    }
    eprintln!("# cap table as of {mid}: {rows} rows");
    println!("cap_table_as_of {:.2} ms", best.as_secs_f64() * 1000.0);

    println!(
        "tally_10k {:.1} ms",
        tally_10k().await?.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Deciding the close of a meeting of 10,000 voters with five resolutions,
/// every voter's ballot in force: best of 5.
async fn tally_10k() -> anyhow::Result<Duration> {
    const VOTERS: usize = 10_000;
    let services = MeetingServices::new(
        windledger_fixtures::farm::history_clock(),
        KnownCapTables::new([cap_table(VOTERS)?]),
    );
    let mut meeting = Meeting::default();
    let agenda = (1..=5)
        .map(|n| {
            Ok(ProposedResolution {
                decision_kind: DecisionKindId::new("ordinary")?,
                purpose: ResolutionPurpose::General,
                text: format!("Résolution n° {n}"),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let run = async |meeting: &mut Meeting, command| -> anyhow::Result<()> {
        let sink = EventSink::<Meeting>::default();
        meeting.handle(command, &services, &sink).await?;
        Ok(())
    };
    run(&mut meeting, convene("ag", agenda)?).await?;
    run(&mut meeting, open_voting()?).await?;
    for i in 0..VOTERS {
        let voter = HolderId::new(format!("h{i:06}"))?;
        let choice = [Choice::For, Choice::Against, Choice::Abstain][i % 3];
        let choices: BTreeMap<_, _> = (1..=5)
            .map(|n| Ok((ResolutionId::new(format!("ag.{n}"))?, choice)))
            .collect::<anyhow::Result<_>>()?;
        run(
            &mut meeting,
            MeetingCommand::CastBallot {
                voter: voter.clone(),
                cast_by: voter,
                choices,
                at: time(2025, 6, 20, 12)?,
            },
        )
        .await?;
    }
    let mut best = Duration::MAX;
    for _ in 0..5 {
        // Decided on a copy: the close is applied to it, not to `meeting`.
        let mut copy = meeting.clone();
        let start = Instant::now();
        run(
            &mut copy,
            MeetingCommand::Close {
                at: time(2025, 6, 25, 18)?,
            },
        )
        .await?;
        best = best.min(start.elapsed());
        if copy.results().map(<[_]>::len) != Some(5) {
            bail!("the meeting did not close with five results");
        }
    }
    Ok(best)
}

/// Resets the process's peak resident set (Linux: `clear_refs` 5).
pub(crate) fn reset_peak_rss() {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("# could not reset the peak RSS ({e}); it includes the set-up");
    }
}

pub(crate) fn peak_rss_mib() -> anyhow::Result<f64> {
    status_mib("VmHWM")
}

/// The `field` of /proc/self/status (a size in kB), in MiB.
pub(crate) fn status_mib(field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/self/status"))?;
    Ok(kib / 1024.0)
}
