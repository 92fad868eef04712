//! Where one farm's memory goes: the heap each part of an open ledger
//! holds, for a synthetic farm of the reference farm's size (2,443 events,
//! 150 holders; `WINDLEDGER_BENCH_LEDGER_EVENTS` and
//! `WINDLEDGER_BENCH_HOLDERS` change it), on SQLite:
//! `cargo run --release -p windledger-bench --example footprint`.
//!
//! Prints, in bytes and per event: the events as the projections receive
//! them (not held by a server: read a page at a time), the projections
//! (as built, as copied out, then each fold, by what dropping it frees),
//! and the integrity check's state (the seals read, then with every event
//! checked and decided again). Bytes are those asked of the allocator, counted by this
//! binary's: the allocator's own rounding and the process's other memory
//! come on top (the `farms` benchmark's `bytes_per_event` is resident
//! memory).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use windledger_app::import::synthetic::write_synthetic;
use windledger_app::integrity::Integrity;
use windledger_app::ledger::LedgerRuntime;
use windledger_app::services::ledger_event;
use windledger_fixtures::synthetic::Synthetic;
use windledger_projections::runner::Projections;
use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{LedgerId, RecordedEvent};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn line(what: &str, bytes: isize, events: usize) {
    println!(
        "{what:<28} {:>10} bytes {:>8.0} per event",
        bytes,
        bytes as f64 / events as f64
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let db = TestDatabase::new(Backend::Sqlite)
        .await
        .ok_or_else(|| anyhow::anyhow!("no database"))?;
    let store = db.store().await;
    let ledger = LedgerId::parse("parc")?;
    let size = |name: &str, default: u64| -> anyhow::Result<u64> {
        Ok(match std::env::var(name) {
            Ok(v) => v.parse()?,
            Err(_) => default,
        })
    };
    let config = Synthetic::for_events(
        size("WINDLEDGER_BENCH_LEDGER_EVENTS", 2_443)?,
        usize::try_from(size("WINDLEDGER_BENCH_HOLDERS", 150)?)?,
    );
    write_synthetic(&store, &ledger, &config, |_| {}).await?;
    let mut recorded = Vec::new();
    loop {
        let after = recorded.last().map_or(0, |e: &RecordedEvent| e.position);
        let page = store.read_ledger(&ledger, after, 10_000).await?;
        if page.is_empty() {
            break;
        }
        recorded.extend(page);
    }
    let n = recorded.len();
    println!("{n} events");
    let before = live();
    let events: Vec<_> = recorded.iter().cloned().map(ledger_event).collect();
    line("events (as applied)", live() - before, n);

    let before = live();
    let mut p = Projections::default();
    for e in &events {
        p.apply(e);
    }
    line("projections", live() - before, n);
    // As a server holds them: built, then copied out (each vector at its
    // length; `Shared::build_until`).
    let b = live();
    let copied = p.clone();
    line("projections (copied out)", live() - b, n);
    drop(copied);
    // Each fold's share: what dropping it frees.
    type Release = fn(&mut Projections);
    let folds: [(&str, Release); 6] = [
        ("  tree", |p| drop(std::mem::take(&mut p.tree))),
        ("  cap_table", |p| drop(std::mem::take(&mut p.cap_table))),
        ("  register", |p| drop(std::mem::take(&mut p.register))),
        ("  share_register", |p| {
            drop(std::mem::take(&mut p.share_register))
        }),
        ("  finance", |p| drop(std::mem::take(&mut p.finance))),
        ("  territory", |p| drop(std::mem::take(&mut p.territory))),
    ];
    for (name, release) in folds {
        let b = live();
        release(&mut p);
        line(name, b - live(), n);
    }
    drop(p);
    drop(events);

    let keys = [db.sealer().verifier().clone()];
    let before = live();
    let integrity = Integrity::new(ledger.clone(), &keys);
    integrity.read_seals(&store, n as u64).await;
    let seals = live() - before;
    for e in &recorded {
        integrity.check(e);
    }
    line("integrity (seals)", seals, n);
    line("integrity (all)", live() - before, n);
    if let Some(b) = integrity.broken() {
        println!("  (broken: {b})");
    }
    drop(integrity);

    // The server's way: a ledger opened as a request opens it, caught up,
    // its governance state then put to rest, as an idle farm's is (all it
    // holds: read models, caches, the integrity check's seals, its tasks).
    let before = live();
    let runtime = LedgerRuntime::open(store.clone(), ledger.clone(), &keys).await?;
    runtime.projections.caught_up(n as u64).await?;
    let held = live() - before;
    drop(runtime.integrity.rest());
    line("open ledger (held)", held, n);
    line("open ledger (resting)", live() - before, n);
    Ok(())
}
