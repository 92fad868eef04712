//! Serving from a PostgreSQL hot standby (docs/deploy.md, "Read
//! replicas"): positions in the write-ahead log, with which a client that
//! wrote on the primary reads its write on a standby, and the poll that
//! tells a read-only store's subscribers of commits (a standby hears no
//! NOTIFY).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use tracing::warn;

use crate::news::Announcer;
use crate::pg::Pg;

/// How often a read-only store reads every ledger's head.
pub const HEAD_POLL: Duration = Duration::from_millis(100);

/// A position in PostgreSQL's write-ahead log, written as PostgreSQL
/// writes a `pg_lsn`: two hexadecimal halves, `16/B374D848`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Why a text is not a [`Lsn`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a position in the write-ahead log (two hexadecimal numbers of at most 8 digits, as 16/B374D848)"
)]
pub struct NotAnLsn(pub String);

impl FromStr for Lsn {
    type Err = NotAnLsn;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let half = |h: &str| {
            (!h.is_empty() && h.len() <= 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u64::from_str_radix(h, 16).ok())
                .flatten()
        };
        let (high, low) = s.split_once('/').ok_or_else(|| NotAnLsn(s.to_owned()))?;
        match (half(high), half(low)) {
            (Some(high), Some(low)) => Ok(Self(high << 32 | low)),
            _ => Err(NotAnLsn(s.to_owned())),
        }
    }
}

/// Reads every ledger's head each [`HEAD_POLL`] (one short read, even for
/// a thousand farms) and announces them (the announcer tells the ledgers
/// this process follows, and ignores the others): on a hot standby,
/// commits replayed from the primary reach the read models within a poll.
/// A server following no ledger asks nothing.
pub(crate) fn spawn_head_poller(pg: Pg, announcer: Announcer) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            let followed = announcer.followed();
            if followed.is_empty() {
                tokio::time::sleep(HEAD_POLL).await;
                continue;
            }
            match pg.ledger_sizes().await {
                Ok(heads) => {
                    failing = false;
                    for (ledger, head) in heads {
                        announcer.announce(&ledger, head);
                    }
                }
                Err(e) if !failing => {
                    failing = true;
                    warn!(error = %e, "cannot read the ledgers' heads; subscriptions poll meanwhile");
                }
                Err(_) => {}
            }
            tokio::time::sleep(HEAD_POLL).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_reads_back_as_postgresql_writes_it() {
        for text in ["0/0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "0/3000060"] {
            let lsn: Lsn = text.parse().unwrap();
            assert_eq!(lsn.to_string(), text);
        }
        assert_eq!("1/0".parse::<Lsn>().unwrap(), Lsn(1 << 32));
        assert_eq!(
            "16/b374d848".parse::<Lsn>().unwrap().to_string(),
            "16/B374D848"
        );
        assert!("0/1".parse::<Lsn>().unwrap() < "0/2".parse().unwrap());
        assert!("0/FFFFFFFF".parse::<Lsn>().unwrap() < "1/0".parse().unwrap());
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "/",
            "0/",
            "/0",
            "0",
            "0/0/0",
            "123456789/0",
            "0/123456789",
            "g/0",
            "-1/0",
            " 0/0",
            "0/+1",
        ] {
            assert!(text.parse::<Lsn>().is_err(), "{text:?}");
        }
    }
}
