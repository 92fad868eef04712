//! Seals: the server's Ed25519 signature over each commit, made with a key
//! the database never holds, so that an event appended by anyone holding
//! only database credentials is found.
//!
//! A seal covers the positions `first..=last` that one commit (one group)
//! wrote to a ledger. Its signature is over
//!
//! ```text
//! "windledger/seal/v1\n"          -- 19 bytes, ASCII, with the newline
//! || u32 big-endian: byte length of the ledger id || ledger id (UTF-8)
//! || u64 big-endian: first position
//! || u64 big-endian: last position
//! || hash of the event at the last position (32 bytes)
//! ```
//!
//! made with the checkpoint signing key (the same `windledger-signing.key`).
//! The domain tag keeps a seal from ever being taken for a checkpoint and
//! the other way round: a checkpoint's signed text starts with
//! `windledger/<ledger>\n`, and a ledger id cannot hold a `/`, so no
//! checkpoint text starts with `windledger/seal/v1\n`; a seal's message is
//! binary and never parses as a checkpoint note. Since the last event's hash
//! chains every event before it, a seal vouches for the whole history up to
//! its last position, and the ranges of valid seals must tile the positions
//! 1, 2, 3... with neither gap nor overlap.

use std::collections::BTreeMap;
use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use serde::{Deserialize, Serialize};

use crate::chain::{BreakKind, ChainBreak};
use crate::checkpoint::{CheckpointSigner, CheckpointVerifier};
use crate::types::{Hash, LedgerId};

/// Separates seals from checkpoints and from any other use of the key.
pub const SEAL_DOMAIN_TAG: &[u8] = b"windledger/seal/v1\n";

/// Which key made a seal: the first 4 bytes of SHA-256(key name || "\n" ||
/// 0x01 || public key), as in a checkpoint's signature line.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", hex::encode(self.0))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Serde for a newtype of `$len` bytes, written as hexadecimal digits; a
/// string of any other length is refused as `$expected` says.
macro_rules! hex_serde {
    ($type:ident, $len:literal, $expected:literal) => {
        impl Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex::encode(self.0))
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                hex::decode(s.as_ref())
                    .ok()
                    .and_then(|b| <[u8; $len]>::try_from(b).ok())
                    .map($type)
                    .ok_or_else(|| serde::de::Error::custom($expected))
            }
        }
    };
}

hex_serde!(KeyId, 4, "a key id is 8 hexadecimal digits");

/// An Ed25519 signature (64 bytes), written as 128 hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SealSignature(pub [u8; 64]);

impl fmt::Debug for SealSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealSignature({})", hex::encode(self.0))
    }
}

hex_serde!(SealSignature, 64, "a signature is 128 hexadecimal digits");

/// A seal as exported: on the line of the last event of its range (whose
/// position is the range's last and whose ledger is the seal's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSeal {
    pub first_position: u64,
    pub key_id: KeyId,
    pub signature: SealSignature,
}

/// A commit's seal: the positions `first..=last` of `ledger`, signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seal {
    pub ledger: LedgerId,
    pub first: u64,
    pub last: u64,
    pub key_id: KeyId,
    pub signature: SealSignature,
}

impl Seal {
    /// The seal an exported line carries, for the event at `last`.
    pub fn from_event(ledger: LedgerId, last: u64, seal: &EventSeal) -> Self {
        Self {
            ledger,
            first: seal.first_position,
            last,
            key_id: seal.key_id,
            signature: seal.signature,
        }
    }

    /// The part that goes on the line of the event at `last`.
    pub fn for_event(&self) -> EventSeal {
        EventSeal {
            first_position: self.first,
            key_id: self.key_id,
            signature: self.signature,
        }
    }

    /// Whether `key` signed this seal over a history whose event at `last`
    /// has hash `last_hash`.
    pub fn verifies_with(&self, key: &CheckpointVerifier, last_hash: &Hash) -> bool {
        if KeyId(key.key_id()) != self.key_id || self.first == 0 || self.first > self.last {
            return false;
        }
        let message = seal_message(&self.ledger, self.first, self.last, last_hash);
        key.public_key()
            .verify(&message, &Signature::from_bytes(&self.signature.0))
            .is_ok()
    }

    fn describe(&self) -> String {
        format!(
            "positions {} to {} by key {}",
            self.first, self.last, self.key_id
        )
    }
}

fn seal_message(ledger: &LedgerId, first: u64, last: u64, last_hash: &Hash) -> Vec<u8> {
    let mut m = Vec::with_capacity(SEAL_DOMAIN_TAG.len() + 4 + ledger.as_str().len() + 48);
    m.extend_from_slice(SEAL_DOMAIN_TAG);
    m.extend_from_slice(&(ledger.as_str().len() as u32).to_be_bytes());
    m.extend_from_slice(ledger.as_str().as_bytes());
    m.extend_from_slice(&first.to_be_bytes());
    m.extend_from_slice(&last.to_be_bytes());
    m.extend_from_slice(&last_hash.0);
    m
}

/// The server's sealing key: the checkpoint signing key, used under the
/// seal's own domain tag. Give it to the store in
/// [`crate::StoreOptions::sealer`]; a store without one reads and verifies
/// but appends nothing.
#[derive(Clone)]
pub struct Sealer {
    key: SigningKey,
    key_id: KeyId,
    verifier: CheckpointVerifier,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealer({})", self.verifier)
    }
}

impl Sealer {
    /// Seals with the checkpoint signing key (a copy of it).
    pub fn new(signer: &CheckpointSigner) -> Self {
        let verifier = signer.verifier();
        Self {
            key: signer.signing_key().clone(),
            key_id: KeyId(verifier.key_id()),
            verifier,
        }
    }

    /// The public key that checks this sealer's seals (and its
    /// checkpoints).
    pub fn verifier(&self) -> &CheckpointVerifier {
        &self.verifier
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Seals positions `first..=last` of `ledger`, `last_hash` being the
    /// hash of the event at `last`.
    pub fn seal(&self, ledger: &LedgerId, first: u64, last: u64, last_hash: &Hash) -> Seal {
        let message = seal_message(ledger, first, last, last_hash);
        Seal {
            ledger: ledger.clone(),
            first,
            last,
            key_id: self.key_id,
            signature: SealSignature(self.key.sign(&message).to_bytes()),
        }
    }
}

/// Follows the seals of a ledger in position order: every event must lie
/// inside exactly one seal whose signature checks with a trusted key.
///
/// Seals are given (by [`SealChecker::add`]) before the event at their last
/// position is checked; a seal that does not verify (wrong ledger, unknown
/// key, bad signature) is ignored, so that positions it claims stay
/// unsealed. Cost: one signature check per seal, nothing per event beyond a
/// map lookup.
#[derive(Debug, Clone)]
pub(crate) struct SealChecker {
    ledger: LedgerId,
    keys: Vec<CheckpointVerifier>,
    /// Every position up to here is inside a valid seal.
    sealed: u64,
    /// Seals given and not yet reached, by last position.
    pending: BTreeMap<u64, Vec<Seal>>,
    /// The last seal ignored, to say why a position is unsealed.
    last_rejected: Option<String>,
    checked: u64,
}

impl SealChecker {
    pub fn new(ledger: LedgerId, keys: &[CheckpointVerifier], sealed: u64) -> Self {
        Self {
            ledger,
            keys: keys.to_vec(),
            sealed,
            pending: BTreeMap::new(),
            last_rejected: None,
            checked: 0,
        }
    }

    /// Positions up to this one are sealed.
    pub fn sealed(&self) -> u64 {
        self.sealed
    }

    /// Valid seals met so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    pub fn add(&mut self, seal: Seal) {
        if seal.last > self.sealed {
            self.pending.entry(seal.last).or_default().push(seal);
        }
    }

    fn unsealed(&self, position: u64, why: String) -> ChainBreak {
        let mut reason = why;
        if self.keys.is_empty() {
            reason.push_str("; no trusted public key was given to check seals with");
        }
        if let Some(rejected) = &self.last_rejected {
            reason.push_str(&format!("; a seal of {rejected} was ignored"));
        }
        ChainBreak {
            position,
            reason,
            kind: BreakKind::Unsealed,
        }
    }

    /// After the event at `position` (hash `hash`) passed the chain check.
    pub fn check(&mut self, position: u64, hash: &Hash) -> Result<(), ChainBreak> {
        // Seals ending before here were given late: they can cover nothing
        // now (the positions they end at have been passed).
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() >= position {
                break;
            }
            entry.remove();
        }
        let Some(seals) = self.pending.remove(&position) else {
            return Ok(());
        };
        for seal in seals {
            let valid =
                seal.ledger == self.ledger && self.keys.iter().any(|k| seal.verifies_with(k, hash));
            if !valid {
                self.last_rejected = Some(format!(
                    "{} (its signature does not check with any trusted key)",
                    seal.describe()
                ));
                continue;
            }
            if seal.first == self.sealed + 1 {
                self.sealed = position;
                self.checked += 1;
            } else if seal.first <= self.sealed {
                return Err(self.unsealed(
                    seal.first,
                    format!(
                        "a second valid seal ({}) covers positions already sealed: seals must not overlap",
                        seal.describe()
                    ),
                ));
            } else {
                return Err(self.unsealed(
                    self.sealed + 1,
                    format!(
                        "no valid seal covers it (the next valid seal begins at position {}): it was written without the server's seal key",
                        seal.first
                    ),
                ));
            }
        }
        Ok(())
    }

    /// At the end: every position up to `size` must be sealed.
    pub fn finish(&self, size: u64) -> Result<(), ChainBreak> {
        if self.sealed < size {
            Err(self.unsealed(
                self.sealed + 1,
                format!(
                    "no valid seal covers positions {} to {size}: they were written without the server's seal key",
                    self.sealed + 1
                ),
            ))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger() -> LedgerId {
        LedgerId::parse("farm").unwrap()
    }

    #[test]
    fn a_seal_verifies_with_its_key_only_and_over_its_own_fields() {
        let signer = CheckpointSigner::generate("farm").unwrap();
        let sealer = Sealer::new(&signer);
        let hash = Hash([3; 32]);
        let seal = sealer.seal(&ledger(), 1, 5, &hash);
        assert!(seal.verifies_with(&signer.verifier(), &hash));
        assert!(!seal.verifies_with(&signer.verifier(), &Hash([4; 32])));
        let moved = Seal {
            first: 2,
            ..seal.clone()
        };
        assert!(!moved.verifies_with(&signer.verifier(), &hash));
        let other = CheckpointSigner::generate("farm").unwrap();
        assert!(!seal.verifies_with(&other.verifier(), &hash));
    }

    #[test]
    fn a_seal_is_not_a_checkpoint_signature() {
        // The checkpoint note's signature over its text never checks as a
        // seal's, even for the same key and head.
        let signer = CheckpointSigner::generate("farm").unwrap();
        let cp = crate::Checkpoint::new(
            ledger(),
            crate::Head {
                size: 5,
                hash: Hash([3; 32]),
            },
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        );
        let note = signer.sign(&cp);
        let blob = note.rsplit(' ').next().unwrap().trim();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, blob).unwrap();
        let forged = Seal {
            ledger: ledger(),
            first: 1,
            last: 5,
            key_id: KeyId(bytes[..4].try_into().unwrap()),
            signature: SealSignature(bytes[4..].try_into().unwrap()),
        };
        assert!(!forged.verifies_with(&signer.verifier(), &Hash([3; 32])));
        // And the seal's signature does not make a checkpoint note.
        let seal = Sealer::new(&signer).seal(&ledger(), 1, 5, &Hash([3; 32]));
        let mut blob = seal.key_id.0.to_vec();
        blob.extend_from_slice(&seal.signature.0);
        let text = cp.text();
        let note = format!(
            "{text}\n\u{2014} farm {}\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, blob)
        );
        assert!(signer.verifier().verify(&note).is_err());
    }

    #[test]
    fn the_checker_wants_seals_that_tile_the_positions() {
        let signer = CheckpointSigner::generate("farm").unwrap();
        let sealer = Sealer::new(&signer);
        let keys = [signer.verifier()];
        let other = Sealer::new(&CheckpointSigner::generate("farm").unwrap());
        let h = |p: u64| Hash([p as u8; 32]);
        // A checker trusting `keys`, given seals (by, first, last).
        let checker = |keys: &[CheckpointVerifier], seals: &[(&Sealer, u64, u64)]| {
            let mut c = SealChecker::new(ledger(), keys, 0);
            for &(by, first, last) in seals {
                c.add(by.seal(&ledger(), first, last, &h(last)));
            }
            c
        };
        // 1..=2 and 3..=3 sealed: intact.
        let mut c = checker(&keys, &[(&sealer, 1, 2), (&sealer, 3, 3)]);
        for p in 1..=3 {
            c.check(p, &h(p)).unwrap();
        }
        c.finish(3).unwrap();
        // Position 3 without a seal.
        let mut c = checker(&keys, &[(&sealer, 1, 2)]);
        for p in 1..=3 {
            c.check(p, &h(p)).unwrap();
        }
        let e = c.finish(3).unwrap_err();
        assert_eq!((e.position, e.kind), (3, BreakKind::Unsealed));
        // A gap between two seals, and overlapping valid seals: the tiling
        // breaks after position 2.
        for seals in [[(1, 1), (3, 3)], [(1, 2), (2, 3)]] {
            let mut c = checker(&keys, &seals.map(|(first, last)| (&sealer, first, last)));
            c.check(1, &h(1)).unwrap();
            c.check(2, &h(2)).unwrap();
            assert_eq!(c.check(3, &h(3)).unwrap_err().position, 2, "{seals:?}");
        }
        // A seal by another key is ignored.
        let mut c = checker(&keys, &[(&other, 1, 1)]);
        c.check(1, &h(1)).unwrap();
        let e = c.finish(1).unwrap_err();
        assert_eq!(e.position, 1);
        assert!(e.reason.contains("ignored"), "{e}");
        // Rotation: two trusted keys, each sealing its part.
        let keys2 = [signer.verifier(), other.verifier().clone()];
        let mut c = checker(&keys2, &[(&sealer, 1, 1), (&other, 2, 2)]);
        c.check(1, &h(1)).unwrap();
        c.check(2, &h(2)).unwrap();
        c.finish(2).unwrap();
        assert_eq!(c.checked(), 2);
    }
}
