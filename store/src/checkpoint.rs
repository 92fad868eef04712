//! Signed checkpoints: (ledger, size, head hash, time) signed with Ed25519,
//! as a C2SP signed note whose text follows the C2SP tlog-checkpoint layout:
//!
//! ```text
//! windledger/<ledger>
//! <size>
//! <base64 head hash>
//! time <RFC 3339 UTC>
//!
//! — <key name> <base64(key id || signature)>
//! ```
//!
//! The key id is the first 4 bytes of SHA-256(key name || "\n" || 0x01 ||
//! public key); the signature covers the text (every line before the blank
//! one, each with its newline). A verifier key is written
//! `<name>+<hex key id>+<base64(0x01 || public key)>`, the same as Go's
//! `golang.org/x/mod/sumdb/note`, so existing tools can check our notes.
//!
//! A witness co-signs a checkpoint with a C2SP `tlog-cosignature` (v1,
//! Ed25519): one more signature line, whose key id is computed with the
//! type byte 0x04 and whose blob is the key id, the time (u64, big-endian
//! POSIX seconds) and the Ed25519 signature of `cosignature/v1\ntime
//! <time>\n` followed by the note's text. A witness's verifier key is
//! written `<name>+<hex key id>+<base64(0x04 || public key)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::chain::timestamp;
use crate::types::{Hash, Head, LedgerId};

const ALG_ED25519: u8 = 0x01;
const ALG_COSIGNATURE_V1: u8 = 0x04;
const ORIGIN_PREFIX: &str = "windledger/";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a windledger checkpoint: {0}")]
    Malformed(String),
    #[error("invalid key: {0}")]
    InvalidKey(String),
    #[error("the checkpoint carries no signature by key {0}")]
    NotSignedBy(String),
    #[error("the signature by key {0} does not match the checkpoint: it was altered or forged")]
    BadSignature(String),
    #[error(
        "the checkpoint is co-signed by {got} of the witnesses the charter names ({signed}), {needed} are needed"
    )]
    TooFewCosignatures {
        got: usize,
        needed: usize,
        /// The witnesses whose co-signature verified, comma-separated
        /// ("none" when none did).
        signed: String,
    },
}

/// A ledger's state at a moment: how many events, and the last one's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub ledger: LedgerId,
    pub size: u64,
    pub head: Hash,
    pub time: DateTime<Utc>,
}

impl Checkpoint {
    pub fn new(ledger: LedgerId, head: Head, time: DateTime<Utc>) -> Self {
        let time = DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time);
        Self {
            ledger,
            size: head.size,
            head: head.hash,
            time,
        }
    }

    pub fn time_rfc3339(&self) -> String {
        self.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// The text that is signed.
    pub fn text(&self) -> String {
        format!(
            "{ORIGIN_PREFIX}{}\n{}\n{}\ntime {}\n",
            self.ledger,
            self.size,
            B64.encode(self.head.0),
            self.time_rfc3339()
        )
    }

    fn parse_text(text: &str) -> Result<Self, CheckpointError> {
        let malformed = |why: &str| CheckpointError::Malformed(why.to_string());
        let mut lines = text.lines();
        let origin = lines.next().ok_or_else(|| malformed("it is empty"))?;
        let ledger = origin
            .strip_prefix(ORIGIN_PREFIX)
            .ok_or_else(|| malformed("the first line must be windledger/<ledger>"))?;
        let ledger =
            LedgerId::parse(ledger).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let size = lines
            .next()
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or_else(|| malformed("the second line must be the ledger's size"))?;
        let head = lines
            .next()
            .and_then(|l| B64.decode(l).ok())
            .and_then(|b| Hash::from_slice(&b).ok())
            .ok_or_else(|| malformed("the third line must be the base64 head hash"))?;
        let time = lines
            .next()
            .and_then(|l| l.strip_prefix("time "))
            .and_then(|t| timestamp::parse(t).ok())
            .ok_or_else(|| malformed("the fourth line must be 'time <RFC 3339>'"))?;
        let parsed = Self {
            ledger,
            size,
            head,
            time,
        };
        // Only the canonical text is accepted, so one state has one text.
        if parsed.text() != text {
            return Err(malformed("unexpected or non-canonical lines"));
        }
        Ok(parsed)
    }
}

fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    typed_key_id(name, ALG_ED25519, public)
}

fn typed_key_id(name: &str, alg: u8, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        Err(CheckpointError::InvalidKey(format!(
            "key name {name:?} must be non-empty, without spaces or '+'"
        )))
    } else {
        Ok(())
    }
}

/// A named Ed25519 signing key for checkpoints.
pub struct CheckpointSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointSigner({})", self.verifier())
    }
}

impl CheckpointSigner {
    /// A new random key.
    pub fn generate(name: &str) -> Result<Self, CheckpointError> {
        check_key_name(name)?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| CheckpointError::InvalidKey(format!("no randomness available: {e}")))?;
        Ok(Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&secret),
        })
    }

    /// Reads `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || secret)>`.
    pub fn from_secret_key(s: &str) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError::InvalidKey(why.to_string());
        let rest = s
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("a signing key starts with PRIVATE+KEY+"))?;
        let (name, id, secret) = split_key(rest, ALG_ED25519)?;
        let signer = Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&secret),
        };
        if signer.verifier().id != id {
            return Err(bad("the key id does not match the key"));
        }
        Ok(signer)
    }

    /// The Ed25519 key itself, for sealing (see [`crate::Sealer`]).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn to_secret_key(&self) -> String {
        let mut bytes = vec![ALG_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        let id = key_id(&self.name, &self.key.verifying_key());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(id),
            B64.encode(bytes)
        )
    }

    pub fn verifier(&self) -> CheckpointVerifier {
        let key = self.key.verifying_key();
        CheckpointVerifier {
            id: key_id(&self.name, &key),
            name: self.name.clone(),
            key,
        }
    }

    /// The signed note of a checkpoint.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        self.sign_note(&checkpoint.text())
    }

    /// The C2SP signed note of `text` (lines each ending with a newline):
    /// the text, a blank line, and this key's signature line.
    pub fn sign_note(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut blob = key_id(&self.name, &self.key.verifying_key()).to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        format!("{text}\n\u{2014} {} {}\n", self.name, B64.encode(blob))
    }
}

/// Splits `<name>+<hex key id>+<base64(0x01 || key)>` into the name, the
/// key id and the 32 bytes of the Ed25519 key.
fn split_key(s: &str, alg: u8) -> Result<(&str, [u8; 4], [u8; 32]), CheckpointError> {
    let bad = |why: &str| CheckpointError::InvalidKey(why.to_string());
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("a key is <name>+<hex key id>+<base64 key>"));
    };
    check_key_name(name)?;
    let id: [u8; 4] = hex::decode(id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("the key id must be 8 hexadecimal digits"))?;
    let bytes = B64.decode(key).map_err(|_| bad("the key is not base64"))?;
    let key: [u8; 32] = match bytes.as_slice() {
        [first, key @ ..] if *first == alg => key
            .try_into()
            .map_err(|_| bad("the key must be 32 bytes"))?,
        _ if alg == ALG_COSIGNATURE_V1 => {
            return Err(bad(
                "a witness key is an Ed25519 cosignature key (type 4), as `windledger witness` prints it",
            ));
        }
        _ => return Err(bad("only Ed25519 keys (algorithm 1) are supported")),
    };
    Ok((name, id, key))
}

/// The public half: checks signed checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl CheckpointVerifier {
    /// Reads `<name>+<hex key id>+<base64(0x01 || public key)>`.
    pub fn parse(s: &str) -> Result<Self, CheckpointError> {
        let (name, id, key) = read_verifier(s, ALG_ED25519)?;
        Ok(Self { name, id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's 4-byte id, which seals and signature lines carry.
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    pub(crate) fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks the note's signature by this key and returns the checkpoint.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::parse_text(self.open(note)?)
    }

    /// Checks a C2SP signed note's signature by this key and returns its
    /// text (each line with its newline).
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, CheckpointError> {
        let (text, signatures) = split_note(note)?;
        for (name, blob) in signatures {
            if name != self.name || blob.len() != 68 || blob[..4] != self.id {
                continue;
            }
            let signature = Signature::from_slice(&blob[4..])
                .map_err(|_| CheckpointError::BadSignature(self.name.clone()))?;
            self.key
                .verify(text.as_bytes(), &signature)
                .map_err(|_| CheckpointError::BadSignature(self.name.clone()))?;
            return Ok(text);
        }
        Err(CheckpointError::NotSignedBy(self.name.clone()))
    }
}

/// A signature line: the key name and the decoded blob.
type SignatureLine<'a> = (&'a str, Vec<u8>);

/// A signed note's text (each line with its newline) and its signature
/// lines.
fn split_note(note: &str) -> Result<(&str, Vec<SignatureLine<'_>>), CheckpointError> {
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| CheckpointError::Malformed("no signature block".into()))?;
    let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
    let lines = signatures
        .lines()
        .map(|line| {
            let not_a_line =
                || CheckpointError::Malformed(format!("{line:?} is not a signature line"));
            let rest = line.strip_prefix("\u{2014} ").ok_or_else(not_a_line)?;
            let (name, blob) = rest.split_once(' ').ok_or_else(not_a_line)?;
            let blob = B64
                .decode(blob)
                .map_err(|_| CheckpointError::Malformed("a signature is not base64".into()))?;
            Ok((name, blob))
        })
        .collect::<Result<Vec<_>, CheckpointError>>()?;
    Ok((text, lines))
}

/// The message a C2SP `tlog-cosignature` v1 signs.
fn cosigned_message(text: &str, time: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{text}").into_bytes()
}

impl CheckpointSigner {
    /// This key as a witness's: the verifier of its C2SP
    /// `tlog-cosignature` v1 co-signatures.
    pub fn cosigner(&self) -> CosignatureVerifier {
        let key = self.key.verifying_key();
        CosignatureVerifier {
            id: typed_key_id(&self.name, ALG_COSIGNATURE_V1, &key),
            name: self.name.clone(),
            key,
        }
    }

    /// This key's C2SP `tlog-cosignature` v1 of a checkpoint's note text
    /// (its lines before the blank one) at `time` (POSIX seconds): one
    /// signature line, with its newline.
    pub fn cosign(&self, text: &str, time: u64) -> String {
        let signature = self.key.sign(&cosigned_message(text, time));
        let mut blob = self.cosigner().id.to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&signature.to_bytes());
        format!("\u{2014} {} {}\n", self.name, B64.encode(blob))
    }
}

/// A witness's public key: checks its co-signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Reads `<name>+<hex key id>+<base64(0x04 || public key)>`.
    pub fn parse(s: &str) -> Result<Self, CheckpointError> {
        let (name, id, key) = read_verifier(s, ALG_COSIGNATURE_V1)?;
        Ok(Self { name, id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks this witness's co-signature on a signed note and returns the
    /// time it was made (POSIX seconds). Other signature lines are
    /// ignored; a line with this key's name and id that does not verify is
    /// an error.
    pub fn verify(&self, note: &str) -> Result<u64, CheckpointError> {
        let (text, signatures) = split_note(note)?;
        for (name, blob) in signatures {
            if name != self.name || blob.len() != 76 || blob[..4] != self.id {
                continue;
            }
            let bad = || CheckpointError::BadSignature(self.name.clone());
            let time = u64::from_be_bytes(blob[4..12].try_into().map_err(|_| bad())?);
            let signature = Signature::from_slice(&blob[12..]).map_err(|_| bad())?;
            self.key
                .verify(&cosigned_message(text, time), &signature)
                .map_err(|_| bad())?;
            return Ok(time);
        }
        Err(CheckpointError::NotSignedBy(self.name.clone()))
    }
}

impl std::fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_verifier(f, &self.name, self.id, ALG_COSIGNATURE_V1, &self.key)
    }
}

/// Which witnesses must co-sign a checkpoint for it to be accepted: `quorum`
/// of `witnesses` (the charter's policy, e.g. 2 of 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessPolicy {
    pub witnesses: Vec<CosignatureVerifier>,
    pub quorum: usize,
}

impl WitnessPolicy {
    /// The witnesses whose co-signature on `note` verifies, in the
    /// policy's order, if they are at least the quorum. A forged
    /// co-signature (a line in a witness's name and key id that does not
    /// verify) counts as none.
    pub fn check(&self, note: &str) -> Result<Vec<String>, CheckpointError> {
        let signed: Vec<String> = self
            .witnesses
            .iter()
            .filter(|w| w.verify(note).is_ok())
            .map(|w| w.name().to_owned())
            .collect();
        if signed.len() >= self.quorum {
            Ok(signed)
        } else {
            Err(CheckpointError::TooFewCosignatures {
                got: signed.len(),
                needed: self.quorum,
                signed: if signed.is_empty() {
                    "none".to_owned()
                } else {
                    signed.join(", ")
                },
            })
        }
    }
}

impl std::fmt::Display for CheckpointVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_verifier(f, &self.name, self.id, ALG_ED25519, &self.key)
    }
}

/// Reads a verifier key of type `alg`,
/// `<name>+<hex key id>+<base64(alg || public key)>`, its id checked.
fn read_verifier(s: &str, alg: u8) -> Result<(String, [u8; 4], VerifyingKey), CheckpointError> {
    let bad = |why: &str| CheckpointError::InvalidKey(why.to_string());
    let (name, id, public) = split_key(s.trim(), alg)?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| bad("not an Ed25519 public key"))?;
    if typed_key_id(name, alg, &key) != id {
        return Err(bad("the key id does not match the key"));
    }
    Ok((name.to_string(), id, key))
}

/// Writes a verifier key of type `alg`.
fn write_verifier(
    f: &mut std::fmt::Formatter<'_>,
    name: &str,
    id: [u8; 4],
    alg: u8,
    key: &VerifyingKey,
) -> std::fmt::Result {
    let mut bytes = vec![alg];
    bytes.extend_from_slice(key.as_bytes());
    write!(f, "{name}+{}+{}", hex::encode(id), B64.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint::new(
            LedgerId::parse("ailes-de-taillard").unwrap(),
            Head {
                size: 42,
                hash: Hash([7; 32]),
            },
            DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        )
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_round_trips() {
        let signer = CheckpointSigner::generate("mairie-burdignes").unwrap();
        let note = signer.sign(&checkpoint());
        let verifier = CheckpointVerifier::parse(&signer.verifier().to_string()).unwrap();
        assert_eq!(verifier.verify(&note).unwrap(), checkpoint());
        let again = CheckpointSigner::from_secret_key(&signer.to_secret_key()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
    }

    #[test]
    fn a_tampered_checkpoint_fails() {
        let signer = CheckpointSigner::generate("farm").unwrap();
        let note = signer.sign(&checkpoint());
        let tampered = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            signer.verifier().verify(&tampered),
            Err(CheckpointError::BadSignature("farm".into()))
        );
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_is_refused() {
        let signer = CheckpointSigner::generate("farm").unwrap();
        let impostor = CheckpointSigner::generate("farm").unwrap();
        let note = impostor.sign(&checkpoint());
        assert_eq!(
            signer.verifier().verify(&note),
            Err(CheckpointError::NotSignedBy("farm".into()))
        );
    }

    const TREE: &str = "windledger/ailes/tlog\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn a_cosignature_verifies_with_its_time_and_only_on_its_checkpoint() {
        let log = CheckpointSigner::generate("windledger/ailes").unwrap();
        let witness = CheckpointSigner::generate("mairie.example/temoin").unwrap();
        let verifier = CosignatureVerifier::parse(&witness.cosigner().to_string()).unwrap();
        assert_eq!(verifier, witness.cosigner());
        let note = format!(
            "{}{}",
            log.sign_note(TREE),
            witness.cosign(TREE, 1_800_000_000)
        );
        assert_eq!(verifier.verify(&note), Ok(1_800_000_000));
        // The log's own signature still verifies beside it.
        assert_eq!(log.verifier().open(&note), Ok(TREE));
        // Another tree, another time, another witness: refused.
        let other = note.replacen("\n3\n", "\n4\n", 1);
        assert_eq!(
            verifier.verify(&other),
            Err(CheckpointError::BadSignature(
                "mairie.example/temoin".into()
            ))
        );
        let line = witness.cosign(TREE, 1_800_000_000);
        let blob = B64
            .decode(line.trim_end().rsplit(' ').next().unwrap())
            .unwrap();
        let mut later = blob.clone();
        later[11] ^= 1;
        let forged = format!(
            "{}\u{2014} mairie.example/temoin {}\n",
            log.sign_note(TREE),
            B64.encode(later)
        );
        assert!(verifier.verify(&forged).is_err());
        let stranger = CheckpointSigner::generate("mairie.example/temoin").unwrap();
        assert_eq!(
            stranger.cosigner().verify(&note),
            Err(CheckpointError::NotSignedBy("mairie.example/temoin".into()))
        );
        // A checkpoint key is not a witness key, nor the reverse.
        assert!(CosignatureVerifier::parse(&log.verifier().to_string()).is_err());
        assert!(CheckpointVerifier::parse(&witness.cosigner().to_string()).is_err());
    }

    #[test]
    fn a_policy_counts_valid_cosignatures_against_its_quorum() {
        let log = CheckpointSigner::generate("log").unwrap();
        let witnesses: Vec<CheckpointSigner> = ["w1", "w2", "w3"]
            .iter()
            .map(|n| CheckpointSigner::generate(n).unwrap())
            .collect();
        let policy = WitnessPolicy {
            witnesses: witnesses.iter().map(CheckpointSigner::cosigner).collect(),
            quorum: 2,
        };
        let one = format!("{}{}", log.sign_note(TREE), witnesses[1].cosign(TREE, 5));
        assert_eq!(
            policy.check(&one),
            Err(CheckpointError::TooFewCosignatures {
                got: 1,
                needed: 2,
                signed: "w2".into()
            })
        );
        let two = format!("{one}{}", witnesses[2].cosign(TREE, 6));
        assert_eq!(policy.check(&two), Ok(vec!["w2".into(), "w3".into()]));
        // The same witness twice is still one.
        let twice = format!("{one}{}", witnesses[1].cosign(TREE, 7));
        assert!(policy.check(&twice).is_err());
    }
}
