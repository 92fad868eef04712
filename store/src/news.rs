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
//!
//! They are kept only while someone reads them: a commit to a ledger no
//! subscriber follows is not kept, and a commit every subscriber has taken
//! is dropped. A server following many ledgers holds, for each, only what
//! its follower has not yet taken (nothing, most of the time), rather than
//! the latest 16 MiB of every ledger it ever wrote to.

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
    /// The last position committed by this process since the last gap,
    /// kept or not (0: none).
    last: u64,
    /// Each subscriber's position: what it has taken (by reader id).
    readers: HashMap<u64, u64>,
    next_reader: u64,
}

impl Recent {
    /// Drops the commits every reader has taken (all of them, when
    /// there is no reader).
    fn trim(&mut self) {
        let taken = self.readers.values().copied().min().unwrap_or(u64::MAX);
        while self.commits.front().is_some_and(|c| c.last() <= taken) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        if let Some(old) = self.commits.pop_front() {
            self.events -= old.rows.len();
            self.bytes -= old.bytes();
        }
    }
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
        if recent.last != 0 && commit.first() != recent.last + 1 {
            // Another process committed in between: what is kept must
            // run without a gap.
            while !recent.commits.is_empty() {
                recent.pop();
            }
        }
        recent.last = commit.last();
        recent.events += commit.rows.len();
        recent.bytes += commit.bytes();
        recent.commits.push_back(commit);
        while recent.commits.len() > 1
            && (recent.events > RECENT_EVENTS || recent.bytes > RECENT_BYTES)
        {
            recent.pop();
        }
        // Nothing is kept for no one.
        recent.trim();
    }

    /// A new subscriber, at `after`: its reader id, for [`Self::taken`] and
    /// [`Self::leave`].
    pub fn join(&self, after: u64) -> u64 {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let id = recent.next_reader;
        recent.next_reader += 1;
        recent.readers.insert(id, after);
        id
    }

    /// The reader `reader` has taken every event up to `position`: the
    /// commits every reader has taken are dropped.
    pub fn taken(&self, reader: u64, position: u64) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = recent.readers.get_mut(&reader) {
            *at = position;
        }
        recent.trim();
    }

    /// The reader `reader` is gone (its subscription dropped).
    pub fn leave(&self, reader: u64) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.readers.remove(&reader);
        recent.trim();
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

    /// Whether this process's last commit (kept or already taken) ends at
    /// `position`, and no other process's commit was seen after it.
    pub fn ends_at(&self, position: u64) -> bool {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.last != 0 && recent.last == position
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Hash, StreamId};

    fn rows(positions: std::ops::RangeInclusive<u64>) -> Vec<NewRow> {
        positions
            .map(|position| NewRow {
                position,
                stream_id: StreamId::trusted("s".into()),
                stream_version: position,
                event_id: uuid::Uuid::nil(),
                event_type: "Happened".into(),
                schema_version: 1,
                payload: format!("{{\"n\":{position}}}"),
                metadata: "{}".into(),
                prev_hash: Hash::GENESIS,
                hash: Hash::GENESIS,
            })
            .collect()
    }

    fn kept(news: &LedgerNews, ledger: &LedgerId, after: u64) -> Vec<u64> {
        news.after(ledger, after, usize::MAX)
            .iter()
            .map(|e| e.position)
            .collect()
    }

    #[test]
    fn a_commit_is_kept_until_every_reader_took_it_and_not_for_no_one() {
        let (announcer, ledger) = (Announcer::default(), LedgerId::parse("parc").unwrap());
        let news = announcer.news(&ledger);
        // No reader: nothing is kept, but the last commit is known.
        announcer.committed(&ledger, rows(1..=2), Utc::now());
        assert_eq!(kept(&news, &ledger, 0), Vec::<u64>::new());
        assert!(news.ends_at(2));

        let (first, second) = (news.join(2), news.join(2));
        announcer.committed(&ledger, rows(3..=4), Utc::now());
        announcer.committed(&ledger, rows(5..=5), Utc::now());
        assert_eq!(kept(&news, &ledger, 2), [3, 4, 5]);
        // Taken by one reader only: still kept for the other.
        news.taken(first, 5);
        assert_eq!(kept(&news, &ledger, 2), [3, 4, 5]);
        // A commit is dropped once both took all of it.
        news.taken(second, 3);
        assert_eq!(kept(&news, &ledger, 2), [3, 4, 5]);
        news.taken(second, 4);
        assert_eq!(kept(&news, &ledger, 4), [5]);
        assert_eq!(kept(&news, &ledger, 2), Vec::<u64>::new());
        // The reader that lags leaves: the rest goes.
        news.leave(second);
        assert_eq!(kept(&news, &ledger, 4), Vec::<u64>::new());
        assert!(news.ends_at(5));
        {
            let recent = news.recent.lock().unwrap();
            assert_eq!((recent.events, recent.bytes), (0, 0));
        }
        // A commit after another process's: kept from there on.
        announcer.committed(&ledger, rows(8..=9), Utc::now());
        assert!(news.ends_at(9) && !news.ends_at(5));
        assert_eq!(kept(&news, &ledger, 7), [8, 9]);
        news.leave(first);
        assert_eq!(kept(&news, &ledger, 7), Vec::<u64>::new());
    }
}
