//! `register`: the register of share movements as PDF/A (issue 20), of the
//! reference farm and of a synthetic farm of WINDLEDGER_BENCH_HOLDERS
//! (20,000) holders.
//!
//! Prints `register_pdf_reference` (ms, best of 5, and its entries and
//! bytes), then for the synthetic farm `register_pdf` (s: the document
//! drawn from projections already built, once), `register_pdf_peak_rss`
//! (MiB: the process's peak resident memory while drawing it, the farm's
//! projections included, reset just before), and its entries, pages and
//! bytes. Target for 20,000 holders: <= 10 s and <= 512 MiB.

use std::time::Instant;

use anyhow::Context;
use windledger_app::services::ledger_event;
use windledger_documents::register::register_pdf;
use windledger_documents::{Drawn, Pseudonyms};
use windledger_fixtures::synthetic::Synthetic;
use windledger_projections::event::LedgerEvent;
use windledger_projections::runner::Projections;
use windledger_store::testing::Backend;

use crate::projections::{peak_rss_mib, reset_peak_rss};
use crate::{bench_database, env_size};

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    // The reference farm, imported as `windledger import` does.
    let (_db, store) = bench_database(backend).await?;
    let ledger = windledger_store::LedgerId::parse("ailes-de-taillard")?;
    eprintln!("# importing the reference farm");
    let file = windledger_fixtures::reference::build().to_jsonl();
    windledger_app::import::import(store.clone(), ledger.clone(), file.as_bytes(), |_| {})
        .await
        .context("the reference farm imports")?;
    let mut reference = Projections::default();
    let mut after = 0;
    loop {
        let page = store.read_ledger(&ledger, after, 5_000).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            break;
        };
        for e in page {
            reference.apply(&ledger_event(e));
        }
        after = last;
    }
    let (entries, bytes, best) = draw(&reference, ledger.as_str(), 5)?;
    println!("register_pdf_reference {:.1} ms", best * 1000.0);
    println!("register_pdf_reference_entries {entries} entries");
    println!(
        "register_pdf_reference_size {:.1} KiB",
        bytes as f64 / 1024.0
    );

    // The synthetic farm, built in memory (not measured).
    let holders = env_size("WINDLEDGER_BENCH_HOLDERS", 20_000)?;
    let config = Synthetic::new(holders, 2, Synthetic::default().seed);
    eprintln!("# building a synthetic farm of {holders} holders over 2 years");
    let mut farm = Projections::default();
    for (i, e) in config.generate().enumerate() {
        farm.apply(&LedgerEvent::unrecorded(
            i as u64 + 1,
            e.stream_id,
            e.event_type,
            e.payload.to_string(),
            chrono::DateTime::UNIX_EPOCH,
        ));
    }
    if let Some(failure) = farm.failure() {
        anyhow::bail!("{failure}");
    }
    eprintln!("# drawing the register of {holders} holders");
    reset_peak_rss();
    let (entries, bytes, seconds) = draw(&farm, "synthetic", 1)?;
    println!("register_pdf {seconds:.2} s");
    println!("register_pdf_peak_rss {:.0} MiB", peak_rss_mib()?);
    println!("register_pdf_entries {entries} entries");
    println!(
        "register_pdf_size {:.1} MiB",
        bytes as f64 / 1024.0 / 1024.0
    );
    Ok(())
}

/// Draws the register `runs` times: its entries, its size in bytes and the
/// best time in seconds.
fn draw(
    projections: &Projections,
    ledger: &str,
    runs: usize,
) -> anyhow::Result<(usize, usize, f64)> {
    let mut best = f64::INFINITY;
    let mut drawn_bytes = 0;
    let mut entries = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let drawn = Drawn::of(projections, ledger, None).context("an incorporated farm")?;
        let register = projections.share_register.fold();
        let shown = register.entries_as_of(drawn.as_of());
        let pdf = register_pdf(&drawn, shown, &Pseudonyms)?;
        best = best.min(start.elapsed().as_secs_f64());
        drawn_bytes = pdf.len();
        entries = shown.len();
    }
    Ok((entries, drawn_bytes, best))
}
