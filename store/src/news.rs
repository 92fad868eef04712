//! What this process's subscribers are told of a ledger's commits: the
//! head that moved (also of other processes' commits, through PostgreSQL's
//! NOTIFY), and the latest events this process committed themselves, so
//! that a subscriber keeping up takes them from memory instead of reading
//! back from the database what was just written.
//!
//! The events kept are exactly the rows the commit wrote (same position,
//! hash, payload text, metadata and recording time as a read gives back),
//! contiguous, and at most [`RECENT_EVENTS`] of them or [`RECENT_BYTES`] of
//! payload: a subscriber further behind, or one that follows commits of
//! another process, reads the database as before.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::plan::NewRow;
use crate::rows::parse_metadata;
use crate::types::{LedgerId, Payload, RecordedEvent};

/// Most events kept in memory for a ledger's subscribers.
pub(crate) const RECENT_EVENTS: usize = 16_384;
/// Most payload bytes kept in memory for a ledger's subscribers.
pub(crate) const RECENT_BYTES: usize = 16 << 20;

/// Tells subscribers in this process what a ledger's commits did.
#[derive(Clone, Debug, Default)]
pub(crate) struct Announcer(Arc<Mutex<HashMap<LedgerId, Arc<LedgerNews>>>>);

/// One ledger's news: its head as last announced, and its latest events.
#[derive(Debug)]
pub(crate) struct LedgerNews {
    head: watch::Sender<u64>,
    recent: Mutex<Recent>,
}

/// The latest commits, as written: rows in position order, without a gap.
/// Kept as the writer hands them over (no copy on its path); each
/// subscriber makes its own events of the rows it takes.
#[derive(Debug, Default)]
struct Recent {
    commits: VecDeque<Commit>,
    events: usize,
    bytes: usize,
}

#[derive(Debug)]
struct Commit {
    rows: Arc<[NewRow]>,
    recorded_at: DateTime<Utc>,
}

impl Commit {
    fn first(&self) -> u64 {
        self.rows.first().map_or(0, |r| r.position)
    }

    fn last(&self) -> u64 {
        self.rows.last().map_or(0, |r| r.position)
    }

    fn bytes(&self) -> usize {
        self.rows.iter().map(|r| r.payload.len()).sum()
    }
}

impl Announcer {
    /// A ledger's news, for a subscriber: from now on its commits in this
    /// process are kept.
    pub fn news(&self, ledger: &LedgerId) -> Arc<LedgerNews> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(ledger.clone())
            .or_insert_with(|| {
                Arc::new(LedgerNews {
                    head: watch::channel(0).0,
                    recent: Mutex::default(),
                })
            })
            .clone()
    }

    /// The head moved to `head` (a commit of another process).
    pub fn announce(&self, ledger: &LedgerId, head: u64) {
        if let Some(news) = self.existing(ledger) {
            news.moved(head);
        }
    }

    /// This process committed `rows`, recorded at `recorded_at`: kept for
    /// the ledger's subscribers (if it has any), then announced.
    pub fn committed(&self, ledger: &LedgerId, rows: Vec<NewRow>, recorded_at: DateTime<Utc>) {
        let Some(news) = self.existing(ledger) else {
            return;
        };
        let Some(last) = rows.last().map(|r| r.position) else {
            return;
        };
        news.keep(Commit {
            rows: rows.into(),
            recorded_at,
        });
        news.moved(last);
    }

    /// The ledgers someone in this process follows now.
    pub fn followed(&self) -> Vec<LedgerId> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .filter(|(_, news)| news.head.receiver_count() > 0)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn existing(&self, ledger: &LedgerId) -> Option<Arc<LedgerNews>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(ledger).cloned()
    }
}

impl LedgerNews {
    /// A receiver of the head's moves.
    pub fn receiver(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    fn moved(&self, head: u64) {
        self.head.send_if_modified(|h| {
            let moved = head > *h;
            *h = (*h).max(head);
            moved
        });
    }

    fn keep(&self, commit: Commit) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent
            .commits
            .back()
            .is_some_and(|last| commit.first() != last.last() + 1)
        {
            // Another process committed in between: what is kept must
            // run without a gap.
            *recent = Recent::default();
        }
        recent.events += commit.rows.len();
        recent.bytes += commit.bytes();
        recent.commits.push_back(commit);
        while recent.commits.len() > 1
            && (recent.events > RECENT_EVENTS || recent.bytes > RECENT_BYTES)
        {
            let Some(old) = recent.commits.pop_front() else {
                break;
            };
            recent.events -= old.rows.len();
            recent.bytes -= old.bytes();
        }
    }

    /// Up to `most` events kept from position `after + 1` on, in order;
    /// empty when that position is not kept.
    pub fn after(&self, ledger: &LedgerId, after: u64, most: usize) -> Vec<RecordedEvent> {
        // The rows under the lock, the events made outside it.
        let commits: Vec<(Arc<[NewRow]>, DateTime<Utc>)> = {
            let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            match recent.commits.front() {
                Some(first) if first.first() <= after + 1 => recent
                    .commits
                    .iter()
                    .filter(|c| c.last() > after)
                    .map(|c| (c.rows.clone(), c.recorded_at))
                    .collect(),
                _ => return Vec::new(),
            }
        };
        let mut events = Vec::new();
        for (rows, recorded_at) in commits {
            for row in rows.iter().filter(|r| r.position > after) {
                if events.len() == most {
                    return events;
                }
                // Written by this process from a `Metadata`: it parses.
                // Were it not to, the subscriber reads the database.
                let Ok(metadata) = parse_metadata(&row.metadata) else {
                    return events;
                };
                events.push(RecordedEvent {
                    ledger_id: ledger.clone(),
                    position: row.position,
                    stream_id: row.stream_id.clone(),
                    stream_version: row.stream_version,
                    event_id: row.event_id,
                    event_type: row.event_type.clone(),
                    schema_version: row.schema_version,
                    payload: Payload::trusted(row.payload.clone()),
                    metadata,
                    recorded_at,
                    prev_hash: row.prev_hash,
                    hash: row.hash,
                    seal: None,
                });
            }
        }
        events
    }

    /// Whether the events kept end at `position`.
    pub fn ends_at(&self, position: u64) -> bool {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.commits.back().map(Commit::last) == Some(position)
    }
}
