//! `windledger verify`, as an auditor runs it on the reference farm: the
//! export of an imported ledger and a signed checkpoint verify, with every
//! event decided again (every meeting re-tallied, every dividend
//! re-allocated); any field of any event altered fails at that event's
//! position; an alteration whose hash chain was recomputed is unsealed,
//! and, even by a forger holding the server's key (who can seal it again),
//! is still caught by the re-decision, and so is a well-chained event
//! appended as the database role (a transfer over the charter's cap); a
//! checkpoint of another ledger, or checked with another key, is refused;
//! without a public key nothing is checked.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{DateTime, SecondsFormat, TimeDelta};
use rust_decimal::Decimal;
use serde_json::Value;
use windledger::verify::{VerifyOptions, verify_to};
use windledger_app::audit::{AuditError, AuditReport, verify_export};
use windledger_store::testing::TestDatabase;
use windledger_store::{
    Checkpoint, CheckpointSigner, CheckpointVerifier, Hash, Head, LedgerId, RecordedEvent, Sealer,
    Verification, recompute_hash, verify_jsonl,
};

use crate::support::{LEDGER, REFERENCE, import_reference_farm};

/// The reference farm, imported once for every test of this file.
struct Farm {
    /// The export's lines.
    lines: Vec<String>,
    head: Head,
    /// A checkpoint of the head, and the key that checks it.
    note: String,
    public_key: String,
    /// The key that sealed the export (the test database's), and its
    /// public half.
    sealer: Sealer,
    seal_key: String,
}

fn farm() -> &'static Farm {
    static FARM: OnceLock<Farm> = OnceLock::new();
    FARM.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (export, head, sealer) = runtime.block_on(async {
            let db = TestDatabase::sqlite();
            let store = db.store().await;
            import_reference_farm(store.clone()).await;
            let ledger = ledger(LEDGER);
            let mut export = Vec::new();
            let head = store
                .export_jsonl(&ledger, &mut export, |_, _| {})
                .await
                .expect("the ledger exports");
            (export, head, db.sealer())
        });
        let signer = CheckpointSigner::generate("mairie-de-burdignes").expect("a key");
        let checkpoint = Checkpoint::new(ledger(LEDGER), head, chrono::Utc::now());
        Farm {
            lines: String::from_utf8(export)
                .expect("UTF-8")
                .lines()
                .map(str::to_owned)
                .collect(),
            head,
            note: signer.sign(&checkpoint),
            public_key: signer.verifier().to_string(),
            seal_key: sealer.verifier().to_string(),
            sealer,
        }
    })
}

fn ledger(id: &str) -> LedgerId {
    LedgerId::parse(id).expect("a ledger id")
}

fn text(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// The export verified with the key that sealed it, and a checkpoint with
/// the key that signed it.
fn verify(lines: &[String], checkpoint: Option<(&str, &str)>) -> Result<AuditReport, AuditError> {
    let mut keys = vec![farm().seal_key.as_str()];
    keys.extend(checkpoint.map(|(_, key)| key));
    verify_export(
        Cursor::new(text(lines)),
        &keys,
        checkpoint.map(|(note, _)| note),
    )
}

/// The farm's export verified against its checkpoint.
fn verify_signed(lines: &[String]) -> Result<AuditReport, AuditError> {
    let farm = farm();
    verify(lines, Some((&farm.note, &farm.public_key)))
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).expect("a JSON line")
}

/// How many commands of each name the reference file holds.
fn commands() -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in REFERENCE.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let name = json(line)["command"]["command"]
            .as_str()
            .expect("a command name")
            .to_owned();
        *counts.entry(name).or_default() += 1;
    }
    counts
}

/// The index of the first line of this event type.
fn first_of(lines: &[String], event_type: &str) -> usize {
    lines
        .iter()
        .position(|l| json(l)["event_type"] == event_type)
        .unwrap_or_else(|| panic!("the reference farm records a {event_type}"))
}

/// The first value under `key`, depth first, in the payload.
fn find_mut<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(key) {
                return map.get_mut(key);
            }
            map.values_mut().find_map(|v| find_mut(v, key))
        }
        Value::Array(items) => items.iter_mut().find_map(|v| find_mut(v, key)),
        _ => None,
    }
}

/// Recomputes the hash chain from line `from` on and seals it again, as a
/// forger who rewrote history consistently, and stole the server's key,
/// would.
fn rechain(lines: &mut [String], from: usize) {
    rechain_unsealed(lines, from);
    let sealer = &farm().sealer;
    for line in &mut lines[from..] {
        let mut e = event(line);
        if let Some(seal) = e.seal {
            let resealed = sealer.seal(&e.ledger_id, seal.first_position, e.position, &e.hash);
            e.seal = Some(resealed.for_event());
            *line = serde_json::to_string(&e).expect("serialised");
        }
    }
}

/// Recomputes the hash chain from line `from` on, as a forger with
/// database credentials only would: the seals no longer check.
fn rechain_unsealed(lines: &mut [String], from: usize) {
    let mut prev = match from {
        0 => Hash::GENESIS,
        _ => event(&lines[from - 1]).hash,
    };
    for line in &mut lines[from..] {
        let mut e = event(line);
        e.prev_hash = prev;
        e.hash = recompute_hash(&e).expect("a hash");
        prev = e.hash;
        *line = serde_json::to_string(&e).expect("serialised");
    }
}

fn event(line: &str) -> RecordedEvent {
    serde_json::from_str(line).expect("an exported event")
}

/// The chain and nothing else holds: what only the governance check can
/// see through.
fn chain_is_intact(lines: &[String]) {
    let keys = [CheckpointVerifier::parse(&farm().seal_key).expect("a key")];
    match verify_jsonl(Cursor::new(text(lines)), &keys, &[], |_| {}) {
        Ok(Verification::Intact { .. }) => {}
        other => panic!("the re-chained export holds together as a chain: {other:?}"),
    }
}

/// The farm's export with its first event of `event_type` rewritten by
/// `alter` and the chain recomputed and sealed from it on, as a forger
/// holding the server's key would: the chain holds. The lines, and the
/// index of the rewritten one.
fn rewritten(event_type: &str, alter: impl FnOnce(&mut Value)) -> (Vec<String>, usize) {
    let mut lines = farm().lines.clone();
    let index = first_of(&lines, event_type);
    let mut event = json(&lines[index]);
    alter(&mut event);
    lines[index] = event.to_string();
    rechain(&mut lines, index);
    chain_is_intact(&lines);
    (lines, index)
}

fn cents(amount: &Value, delta: i64) -> Value {
    let amount = Decimal::from_str(amount.as_str().expect("an amount")).expect("a decimal");
    Value::String((amount + Decimal::new(delta, 2)).to_string())
}

#[test]
fn the_reference_farm_verifies_with_every_meeting_re_tallied_and_every_dividend_re_allocated() {
    let farm = farm();
    let report = verify_signed(&farm.lines).unwrap_or_else(|e| panic!("the export verifies: {e}"));
    let commands = commands();
    let count = |name: &str| commands.get(name).copied().unwrap_or(0);

    assert_eq!(report.ledger, ledger(LEDGER));
    assert_eq!(report.head, farm.head);
    assert_eq!(report.head.size, farm.lines.len() as u64);
    assert_eq!(report.checkpoints_checked, 1);
    assert_eq!(
        report.checkpoint.as_ref().map(|c| c.size),
        Some(farm.head.size)
    );

    let r = report.recomputed;
    assert!(r.meetings_closed > 0 && r.resolutions > 0 && r.dividends > 0);
    assert_eq!(r.meetings_convened, count("convene"));
    assert_eq!(r.rolls, count("open_voting"));
    assert_eq!(r.proxies, count("grant_proxy") + count("revoke_proxy"));
    assert_eq!(r.ballots, count("cast_ballot"));
    assert_eq!(r.meetings_closed, count("close"));
    assert_eq!(r.dividends, count("declare_dividend"));
    assert_eq!(r.payments, count("record_dividend_payment"));
    // Each payment pays one allocation.
    assert!(r.allocations >= r.payments);
    let resolutions: u64 = farm
        .lines
        .iter()
        .map(|l| json(l))
        .filter(|e| e["event_type"] == "MeetingClosed")
        .map(|mut e| {
            find_mut(&mut e["payload"], "results")
                .and_then(|r| r.as_array().map(Vec::len))
                .expect("results") as u64
        })
        .sum();
    assert_eq!(r.resolutions, resolutions);

    // Without a checkpoint, the chain and the governance still verify.
    let unsigned = verify(&farm.lines, None).expect("verifies without a checkpoint");
    assert_eq!(unsigned.checkpoints_checked, 0);
    assert_eq!(unsigned.recomputed, r);
}

#[test]
fn the_command_line_prints_a_summary_and_fails_in_one_sentence_naming_the_position() {
    let farm = farm();
    let dir = tempfile::tempdir().expect("a folder");
    let export = dir.path().join("ailes.jsonl");
    let note = dir.path().join("ailes.checkpoint");
    std::fs::write(&export, text(&farm.lines)).expect("written");
    std::fs::write(&note, &farm.note).expect("written");
    let options = VerifyOptions {
        export: export.clone(),
        checkpoint: Some(note),
        public_key: vec![farm.seal_key.clone(), farm.public_key.clone()],
        witnesses: Default::default(),
    };
    let mut out = Vec::new();
    verify_to(&options, &mut out).unwrap_or_else(|e| panic!("verifies: {e:#}"));
    let out = String::from_utf8(out).expect("UTF-8");
    assert!(out.contains("verifies: ledger ailes-de-taillard"), "{out}");
    assert!(out.contains(&farm.head.hash.to_hex()), "{out}");
    assert!(out.contains("1 signed checkpoint checked"), "{out}");
    assert!(out.contains("meetings re-tallied"), "{out}");
    assert!(out.contains("dividends re-allocated"), "{out}");

    let mut lines = farm.lines.clone();
    let mut altered = json(&lines[99]);
    altered["metadata"]["actor"] = "someone-else".into();
    lines[99] = altered.to_string();
    std::fs::write(&export, text(&lines)).expect("written");
    let error = verify_to(&options, &mut Vec::new()).expect_err("altered");
    let message = format!("{error:#}");
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("at position 100"), "{message}");

    // Without a public key, the command refuses and says which option to give.
    let keyless = VerifyOptions {
        export,
        checkpoint: None,
        public_key: Vec::new(),
        witnesses: Default::default(),
    };
    let message = format!(
        "{:#}",
        verify_to(&keyless, &mut Vec::new()).expect_err("no key")
    );
    assert!(message.contains("--public-key"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn a_history_rewritten_without_the_servers_key_is_unsealed_where_it_starts() {
    let farm = farm();
    let mut lines = farm.lines.clone();
    let index = 120;
    let mut e = json(&lines[index]);
    e["metadata"]["actor"] = "someone-else".into();
    lines[index] = e.to_string();
    rechain_unsealed(&mut lines, index);
    let error = verify(&lines, None).expect_err("unsealed");
    assert!(matches!(error, AuditError::Unsealed { .. }), "{error}");
    // The seal covering the altered event no longer checks: its range is
    // unsealed from its first position, at or before the altered one.
    let position = error.position().expect("a position");
    let last_sealed_before = farm.lines[..index]
        .iter()
        .rev()
        .find(|l| event(l).seal.is_some())
        .expect("a seal before the altered event");
    let first_of_range = event(last_sealed_before).position + 1;
    assert_eq!(position, first_of_range, "{error}");
    // Checked with another key only, the untouched export is unsealed too.
    let stranger = CheckpointSigner::generate("stranger").expect("a key");
    let error = verify_export(
        Cursor::new(text(&farm.lines)),
        &[&stranger.verifier().to_string()],
        None,
    )
    .expect_err("sealed by another key");
    assert_eq!(error.position(), Some(1), "{error}");
    assert!(matches!(error, AuditError::Unsealed { .. }), "{error}");
}

#[test]
fn altering_any_field_of_an_exported_event_fails_at_its_position() {
    let farm = farm();
    // A ballot, in the middle of the history.
    let index = farm
        .lines
        .iter()
        .enumerate()
        .skip(farm.lines.len() / 2)
        .find(|(_, l)| sealed_alone(l))
        .or_else(|| farm.lines.iter().enumerate().find(|(_, l)| sealed_alone(l)))
        .map(|(i, _)| i)
        .expect("a ballot");
    let position = index as u64 + 1;
    let original = json(&farm.lines[index]);
    let fields: Vec<&str> = original
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "ledger_id",
        "position",
        "stream_id",
        "stream_version",
        "event_id",
        "event_type",
        "schema_version",
        "payload",
        "metadata",
        "recorded_at",
        "prev_hash",
        "hash",
        "seal",
    ];
    expected.sort_unstable();
    let mut found = fields.clone();
    found.sort_unstable();
    assert_eq!(
        found, expected,
        "an exported line has these fields: alter each new one below"
    );

    for field in fields {
        let mut altered = original.clone();
        let value = &mut altered[field];
        *value = match field {
            "ledger_id" => "another-farm".into(),
            "position" | "stream_version" | "schema_version" => {
                (value.as_u64().expect("a number") + 1).into()
            }
            "stream_id" => format!("{}-bis", value.as_str().expect("a stream")).into(),
            "event_id" => uuid::Uuid::new_v4().to_string().into(),
            "event_type" => "ProxyGranted".into(),
            "payload" => {
                let mut payload = value.clone();
                let choice = find_mut(&mut payload, "choices")
                    .and_then(|c| c.as_object_mut())
                    .and_then(|c| c.values_mut().next())
                    .expect("a ballot's choices");
                *choice = if choice == "for" { "against" } else { "for" }.into();
                payload
            }
            "metadata" => {
                let mut metadata = value.clone();
                metadata["actor"] = "someone-else".into();
                metadata
            }
            "recorded_at" => {
                let at = DateTime::parse_from_rfc3339(value.as_str().expect("a time"))
                    .expect("RFC 3339")
                    + TimeDelta::microseconds(1);
                at.to_utc()
                    .to_rfc3339_opts(SecondsFormat::Micros, true)
                    .into()
            }
            "seal" => {
                let mut seal = value.clone();
                let hex = seal["signature"].as_str().expect("a signature").to_owned();
                let flipped = if hex.starts_with('0') { "1" } else { "0" };
                seal["signature"] = format!("{flipped}{}", &hex[1..]).into();
                seal
            }
            "prev_hash" | "hash" => {
                let hex = value.as_str().expect("a hash");
                let flipped = if hex.starts_with('0') { "1" } else { "0" };
                format!("{flipped}{}", &hex[1..]).into()
            }
            other => panic!("no alteration for the field {other}"),
        };
        assert_ne!(altered, original, "{field} altered");
        let mut lines = farm.lines.clone();
        lines[index] = altered.to_string();
        for checkpoint in [None, Some((farm.note.as_str(), farm.public_key.as_str()))] {
            let error =
                verify(&lines, checkpoint).expect_err(&format!("altering {field} fails the audit"));
            assert_eq!(
                error.position(),
                Some(position),
                "altering {field}: {error}"
            );
            assert!(
                error.to_string().contains(&format!("position {position}")),
                "altering {field}: {error}"
            );
        }
    }
}

/// A ballot that was a commit of its own: it carries the seal of its
/// position alone.
fn sealed_alone(line: &str) -> bool {
    let e = json(line);
    e["event_type"] == "BallotCast" && e["seal"]["first_position"] == e["position"]
}

#[test]
fn a_meeting_close_with_other_counts_and_a_recomputed_chain_is_caught_by_the_re_tally() {
    let (lines, index) = rewritten("MeetingClosed", |close| {
        let votes = find_mut(&mut close["payload"], "votes_for").expect("a count");
        *votes = (votes.as_u64().expect("a number") + 1).into();
    });

    let error = verify(&lines, None).expect_err("the re-tally differs");
    let position = index as u64 + 1;
    assert_eq!(error.position(), Some(position), "{error}");
    let message = error.to_string();
    assert!(message.contains("MeetingClosed"), "{message}");
    assert!(message.contains("re-tally"), "{message}");
    assert!(message.contains("votes_for"), "{message}");

    // The signed checkpoint sees the rewritten history too, where it ends.
    let error = verify_signed(&lines).expect_err("rewritten after signing");
    assert!(
        matches!(error, AuditError::Chain { .. } | AuditError::Event { .. }),
        "{error}"
    );
}

#[test]
fn a_dividend_with_cents_moved_between_holders_and_a_recomputed_chain_is_caught_by_the_re_allocation()
 {
    let mut holder = String::new();
    let (lines, index) = rewritten("DividendDeclared", |declared| {
        let allocations = find_mut(&mut declared["payload"], "allocations")
            .and_then(Value::as_array_mut)
            .expect("allocations");
        assert!(allocations.len() >= 2, "two holders at least");
        // The total stays the same: only recomputing each share sees it.
        for (i, delta) in [(0, 1), (1, -1)] {
            for field in ["gross", "net"] {
                allocations[i][field] = cents(&allocations[i][field], delta);
            }
        }
        allocations[0]["holder"]
            .as_str()
            .expect("a holder")
            .clone_into(&mut holder);
    });

    let error = verify(&lines, None).expect_err("the re-allocation differs");
    assert_eq!(error.position(), Some(index as u64 + 1), "{error}");
    let message = error.to_string();
    assert!(message.contains("DividendDeclared"), "{message}");
    assert!(message.contains("re-allocated"), "{message}");
    assert!(
        message.contains(&format!("allocations[{holder}].gross")),
        "{message}"
    );
}

#[test]
fn a_payment_of_another_amount_with_a_recomputed_chain_is_caught() {
    let (lines, index) = rewritten("DividendPaid", |paid| {
        let amount = find_mut(&mut paid["payload"], "amount").expect("an amount");
        *amount = cents(amount, 100);
    });
    let error = verify(&lines, None).expect_err("the payment differs");
    assert_eq!(error.position(), Some(index as u64 + 1), "{error}");
    assert!(error.to_string().contains("amount"), "{error}");
}

/// The last line of this stream.
fn last_of_stream(lines: &[String], stream: &str) -> Value {
    lines
        .iter()
        .rev()
        .map(|l| json(l))
        .find(|e| e["stream_id"] == stream)
        .unwrap_or_else(|| panic!("the reference farm records events on {stream}"))
}

/// An event appended at the head as a writer holding the server's key
/// could: a new position, the next version of its stream, chained to the
/// head and sealed. The hash chain, the seals, the stream versions and a
/// checkpoint of the old head all hold; only the re-decision sees it.
fn append_forged(lines: &mut Vec<String>, stream: &str, event_type: &str, payload: Value) {
    let head = json(lines.last().expect("a head"));
    let mut forged = last_of_stream(lines, stream);
    forged["position"] = (head["position"].as_u64().expect("a position") + 1).into();
    forged["stream_version"] = (forged["stream_version"].as_u64().expect("a version") + 1).into();
    forged["event_id"] = uuid::Uuid::new_v4().to_string().into();
    forged["event_type"] = event_type.into();
    forged["payload"] = payload;
    forged["recorded_at"] = head["recorded_at"].clone();
    // A commit of its own, sealed (below) with the server's key: the
    // re-decision must catch even a forger who holds it.
    forged["seal"] = serde_json::json!({"first_position": forged["position"], "key_id": "00000000",
                            "signature": "00".repeat(64)});
    lines.push(forged.to_string());
    let index = lines.len() - 1;
    rechain(lines, index);
}

#[test]
fn a_transfer_appended_as_the_database_role_with_a_valid_chain_is_refused_by_the_re_decision() {
    let farm = farm();
    let mut lines = farm.lines.clone();
    let company = json(&lines[first_of(&lines, "CompanyIncorporated")])["stream_id"]
        .as_str()
        .expect("a stream")
        .to_owned();
    // On the latest effective date of the company, after the lock-up.
    let latest = last_of_stream(&lines, &company)["payload"]
        .as_object()
        .and_then(|p| p.values().next())
        .and_then(|fields| fields["effective_date"].as_str())
        .expect("an effective date")
        .to_owned();
    // 30,000 of the partner's 40,000 shares to a citizen, at a cent, with
    // no approval: over the charter's cap of a tenth per citizen.
    let transfer = serde_json::json!({"SharesTransferred": {
        "from": "partenaire-industriel",
        "to": "cit-001",
        "class": "ordinaires",
        "count": 30_000,
        "price_per_share": "0.01",
        "approval": null,
        "effective_date": latest,
    }});
    append_forged(&mut lines, &company, "SharesTransferred", transfer);
    chain_is_intact(&lines);
    let position = lines.len() as u64;

    for checkpoint in [None, Some((farm.note.as_str(), farm.public_key.as_str()))] {
        // The checkpoint signed before is a prefix of the forged export:
        // only the re-decision sees the transfer.
        let error = verify(&lines, checkpoint).expect_err("the forged transfer is refused");
        assert!(matches!(error, AuditError::Event { .. }), "{error}");
        assert_eq!(error.position(), Some(position), "{error}");
        let message = error.to_string();
        assert!(message.contains("SharesTransferred"), "{message}");
        assert!(
            message.contains("refused by the domain's rules"),
            "{message}"
        );
        assert!(
            message.contains(
                "the movement would breach the charter's rule: each holder of citoyens at most 1/10 of the capital"
            ),
            "{message}"
        );
    }

    // The same transfer of shares the partner holds to a newcomer with no
    // share and no approval: the approval (agrément) is named.
    let mut lines = farm.lines.clone();
    let admitted = serde_json::json!({"ShareholderAdmitted": {
        "holder": "cit-forged",
        "kind": "individual",
        "college": "citoyens",
        "commune": "42026",
        "effective_date": latest,
    }});
    append_forged(&mut lines, &company, "ShareholderAdmitted", admitted);
    let transfer = serde_json::json!({"SharesTransferred": {
        "from": "cit-001",
        "to": "cit-forged",
        "class": "ordinaires",
        "count": 1,
        "price_per_share": "0.01",
        "approval": null,
        "effective_date": latest,
    }});
    append_forged(&mut lines, &company, "SharesTransferred", transfer);
    chain_is_intact(&lines);
    let error = verify(&lines, None).expect_err("the transfer needs an approval");
    assert_eq!(error.position(), Some(lines.len() as u64), "{error}");
    assert!(
        error
            .to_string()
            .contains("cit-forged holds no share yet: the charter requires an approval"),
        "{error}"
    );
}

/// A change to an exported line.
type Alteration = fn(&mut Value);

/// The object holding `key`, depth first.
fn holder_of_mut<'a>(
    value: &'a mut Value,
    key: &str,
) -> Option<&'a mut serde_json::Map<String, Value>> {
    let Value::Object(map) = value else {
        return match value {
            Value::Array(items) => items.iter_mut().find_map(|v| holder_of_mut(v, key)),
            _ => None,
        };
    };
    if map.contains_key(key) {
        return Some(map);
    }
    map.values_mut().find_map(|v| holder_of_mut(v, key))
}

#[test]
fn an_event_retyped_moved_or_padded_with_a_recomputed_chain_is_caught_at_its_position() {
    let farm = farm();
    let index = first_of(&farm.lines, "BallotCast");
    let position = index as u64 + 1;
    let alterations: [(&str, Alteration); 5] = [
        ("another type", |e| e["event_type"] = "ProxyGranted".into()),
        ("another schema version", |e| e["schema_version"] = 2.into()),
        ("an unknown stream type", |e| {
            e["stream_id"] = "board/ago-2014".into();
            e["stream_version"] = 1.into();
        }),
        ("another meeting's stream", |e| {
            e["stream_id"] = "meeting/never-convened".into();
            e["stream_version"] = 1.into();
        }),
        ("a field the domain does not write", |e| {
            holder_of_mut(&mut e["payload"], "voter")
                .expect("a ballot")
                .insert("note".to_owned(), "unseen".into());
        }),
    ];
    for (what, alter) in alterations {
        let mut lines = farm.lines.clone();
        let mut altered = json(&lines[index]);
        alter(&mut altered);
        lines[index] = altered.to_string();
        rechain(&mut lines, index);
        // Up to the event at least (moving it leaves a gap in its stream,
        // which the chain check would find later on).
        chain_is_intact(&lines[..=index]);
        let error = verify(&lines, None).expect_err(what);
        assert!(
            matches!(error, AuditError::Event { .. }),
            "{what} is caught by the governance check: {error}"
        );
        assert_eq!(error.position(), Some(position), "{what}: {error}");
    }
}

#[test]
fn a_checkpoint_signed_for_another_ledger_is_refused() {
    let farm = farm();
    let signer = CheckpointSigner::generate("mairie-de-burdignes").expect("a key");
    let note = signer.sign(&Checkpoint::new(
        ledger("another-farm"),
        farm.head,
        chrono::Utc::now(),
    ));
    let error = verify(&farm.lines, Some((&note, &signer.verifier().to_string())))
        .expect_err("another ledger's checkpoint");
    assert!(matches!(error, AuditError::Checkpoint(_)), "{error}");
    let message = error.to_string();
    assert!(message.contains("another-farm"), "{message}");
    assert!(message.contains(LEDGER), "{message}");
}

#[test]
fn a_checkpoint_checked_with_another_key_is_refused() {
    let farm = farm();
    // Another key of the same name, and another name.
    for name in ["mairie-de-burdignes", "someone-else"] {
        let other = CheckpointSigner::generate(name).expect("a key");
        let error = verify(
            &farm.lines,
            Some((&farm.note, &other.verifier().to_string())),
        )
        .expect_err("another key");
        assert!(matches!(error, AuditError::Checkpoint(_)), "{error}");
        assert!(error.to_string().contains("does not verify"), "{error}");
    }
    let error = verify(&farm.lines, Some((&farm.note, "not-a-key"))).expect_err("not a key at all");
    assert!(matches!(error, AuditError::Checkpoint(_)), "{error}");
    // The note altered after signing.
    let forged = farm.note.replacen(
        &format!("\n{}\n", farm.head.size),
        &format!("\n{}\n", farm.head.size - 1),
        1,
    );
    assert_ne!(forged, farm.note);
    let error = verify(&farm.lines, Some((&forged, &farm.public_key))).expect_err("forged");
    assert!(matches!(error, AuditError::Checkpoint(_)), "{error}");
}

#[test]
fn a_checkpoint_of_a_prefix_verifies_and_an_export_shorter_than_the_checkpoint_is_truncated() {
    let farm = farm();
    let signer = CheckpointSigner::generate("mairie-de-burdignes").expect("a key");
    let key = signer.verifier().to_string();
    let prefix = event(&farm.lines[99]);
    let note = signer.sign(&Checkpoint::new(
        ledger(LEDGER),
        Head {
            size: prefix.position,
            hash: prefix.hash,
        },
        chrono::Utc::now(),
    ));
    let report = verify(&farm.lines, Some((&note, &key))).expect("a prefix verifies");
    assert_eq!(report.checkpoints_checked, 1);

    let full = signer.sign(&Checkpoint::new(
        ledger(LEDGER),
        farm.head,
        chrono::Utc::now(),
    ));
    let error = verify(&farm.lines[..100], Some((&full, &key))).expect_err("truncated");
    assert_eq!(error.position(), Some(101), "{error}");
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn an_empty_or_garbled_export_is_refused() {
    assert_eq!(verify(&[], None).expect_err("empty"), AuditError::Empty);
    let farm = farm();
    let mut lines = farm.lines[..10].to_vec();
    lines[4] = "{\"not\": \"an event\"}".to_owned();
    let error = verify(&lines, None).expect_err("garbled");
    assert_eq!(error.position(), Some(5), "{error}");
}

/// Time (issue 16): an imported ballot stripped of its import mark reads
/// as a live ballot recorded long after it was cast, and an event recorded
/// before its effective date says it happened in the future.
#[test]
fn an_event_recorded_before_it_happened_or_a_live_ballot_recorded_late_is_refused() {
    let (lines, i) = rewritten("BallotCast", |ballot| {
        assert_eq!(ballot["metadata"]["extra"]["entry"], "imported");
        ballot["metadata"]
            .as_object_mut()
            .expect("metadata")
            .remove("extra");
    });
    let error = verify(&lines, None).expect_err("a late live ballot");
    assert_eq!(error.position(), Some(i as u64 + 1), "{error}");
    assert!(error.to_string().contains("was recorded at"), "{error}");

    let (lines, i) = rewritten("SharesTransferred", |transfer| {
        transfer["recorded_at"] = "2014-01-01T00:00:00.000000Z".into();
    });
    let error = verify(&lines, None).expect_err("a transfer recorded before its date");
    assert_eq!(error.position(), Some(i as u64 + 1), "{error}");
    assert!(error.to_string().contains("in the future"), "{error}");
}

/// The transparency log's checkpoint (origin `.../tlog`) of the export's
/// Merkle tree: accepted with 2 of 3 witnesses' co-signatures under a
/// policy of 2, refused with 1; a tree that is not the export's (history
/// rewritten), or larger than it (rolled back), is refused.
#[test]
fn a_witnessed_tree_checkpoint_verifies_under_the_policy() {
    let farm = farm();
    let mut log = windledger_tlog::Log::new();
    for line in &farm.lines {
        let event: RecordedEvent = serde_json::from_str(line).expect("an event");
        log.append(&windledger_tlog::entry(event.position, &event.hash.0))
            .expect("in order");
    }
    let size = log.size();
    let server = CheckpointSigner::generate("windledger-server").expect("a key");
    let witnesses: Vec<CheckpointSigner> =
        ["mairie.example", "citoyens.example", "partenaire.example"]
            .iter()
            .map(|n| CheckpointSigner::generate(n).expect("a key"))
            .collect();
    let keys: Vec<String> = witnesses.iter().map(|w| w.cosigner().to_string()).collect();
    let tree_note = |size: u64, root: &windledger_tlog::Hash, cosigners: &[usize]| {
        let text =
            windledger_tlog::checkpoint_text("windledger/ailes-de-taillard/tlog", size, root, &[]);
        let mut note = server.sign_note(&text);
        for i in cosigners {
            note.push_str(&witnesses[*i].cosign(&text, 1_800_000_000));
        }
        note
    };
    let dir = tempfile::tempdir().expect("a folder");
    let export = dir.path().join("ailes.jsonl");
    std::fs::write(&export, text(&farm.lines)).expect("written");
    let run = |note: String, quorum: Option<usize>| {
        let path = dir.path().join("tlog.checkpoint");
        std::fs::write(&path, note).expect("written");
        let options = VerifyOptions {
            export: export.clone(),
            checkpoint: Some(path),
            public_key: vec![farm.seal_key.clone(), server.verifier().to_string()],
            witnesses: windledger::options::WitnessPolicyOptions {
                witnesses: if quorum.is_some() {
                    keys.clone()
                } else {
                    Vec::new()
                },
                quorum,
            },
        };
        let mut out = Vec::new();
        verify_to(&options, &mut out)
            .map(|()| String::from_utf8(out).expect("UTF-8"))
            .map_err(|e| format!("{e:#}"))
    };
    let root = log.root(size).expect("a root");
    let said = run(tree_note(size, &root, &[0, 2]), Some(2)).expect("2 of 3 under 2");
    assert!(
        said.contains("co-signed by the witnesses mairie.example, partenaire.example"),
        "{said}"
    );
    // A checkpoint of an earlier size is a prefix: it verifies too.
    let earlier = log.root(size - 10).expect("a root");
    run(tree_note(size - 10, &earlier, &[0, 1, 2]), Some(2)).expect("a prefix");
    // Without a policy the co-signatures are not checked, and it says so.
    let said = run(tree_note(size, &root, &[]), None).expect("no policy");
    assert!(said.contains("not checked"), "{said}");

    let one = run(tree_note(size, &root, &[1]), Some(2)).expect_err("1 of 3");
    assert!(one.contains("co-signed by 1 of the witnesses"), "{one}");
    let mut other = root;
    other[0] ^= 1;
    let rewritten = run(tree_note(size, &other, &[0, 1, 2]), Some(2)).expect_err("another tree");
    assert!(rewritten.contains("history was rewritten"), "{rewritten}");
    let rolled_back = run(tree_note(size + 5, &root, &[0, 1, 2]), Some(2)).expect_err("larger");
    assert!(rolled_back.contains("rolled back"), "{rolled_back}");
}
