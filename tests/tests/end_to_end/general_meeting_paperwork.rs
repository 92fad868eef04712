//! A general meeting as the law runs it, end to end, on a farm of 1,200
//! holders in three colleges: convocations by e-mail to those who consented
//! (sent to a real SMTP server on 127.0.0.1 and read back) and letters for
//! the others, 140 proxies and 60 postal forms received on paper (2 of them
//! after the deadline), online ballots, the close, the bureau, the minutes
//! and their signatures. The 2 late forms are kept and not counted; the
//! attendance sheet's totals are the tally's; every document comes back
//! byte for byte; the minutes say every item R225-106 lists; and the
//! ledger, decided again offline, verifies.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ed25519_dalek::Signer;
use serde_json::json;
use windledger_app::audit::verify_export;
use windledger_app::command::Command;
use windledger_app::import::synthetic::Synthetic;
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::{Reader, Vault};
use windledger_documents::convocation::letters_pdf;
use windledger_documents::meeting::{attendance_pdf, participants};
use windledger_documents::minutes::minutes_pdf;
use windledger_documents::postal_form::postal_forms_pdf;
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::{
    Choice, MeetingCommand, OfficerSignature, minutes_signing_message,
};
use windledger_domain::types::{HolderId, MeetingId, ResolutionId};
use windledger_mail::testing::SmtpSink;
use windledger_mail::{Mailer, SmtpSettings};
use windledger_papers::meeting_papers::{self, MeetingPapers};
use windledger_store::LedgerId;
use windledger_store::testing::TestDatabase;
use windledger_vault::{MasterKey, Person};

use crate::meeting_documents::text_of;
use crate::support::synthetic_runtime;

const LEDGER: &str = "parc-1200";
const MEETING: &str = "ag-2026";
const ACCOUNTS: &str = "Approbation des comptes de l'exercice 2025.";
const BOARD: &str = "Renouvellement du mandat du président pour trois ans.";

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("a time")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// History entered after the fact, as an import does (the meeting's
/// instants are in the past of the server's clock).
fn imported() -> HashMap<String, String> {
    HashMap::from([("entry".to_owned(), "imported".to_owned())])
}

/// Holder `n`'s identity: one in three consented to e-mail long before the
/// convocation, one in thirty only days before it (too late: R225-63's 35
/// days), one in thirty consented and withdrew.
fn person(n: usize, individual: bool) -> Person {
    let consent = match n % 30 {
        0 => json!({"given_on": "2026-09-25", "withdrawn_on": null}),
        1 => json!({"given_on": "2024-01-10", "withdrawn_on": "2026-06-01"}),
        _ if n.is_multiple_of(3) => json!({"given_on": "2024-01-10", "withdrawn_on": null}),
        _ => serde_json::Value::Null,
    };
    let identity = if individual {
        json!({"person": "natural", "family_name": format!("Associé{n:04}"),
               "given_names": "Camille", "birth": {"date": "1970-05-01", "place": "Redon"}})
    } else {
        json!({"person": "legal", "name": format!("Associé{n:04}"), "legal_form": "SAS",
               "siren": null, "representative": "Dominique Martin"})
    };
    serde_json::from_value(json!({
        "identity": identity,
        "address": {"lines": [format!("{n} rue des Éoliennes")], "postal_code": "42220",
                    "city": "Bourg-Argental", "country": "FR"},
        "email": format!("associe{n:04}@example.org"),
        "tax_residence": "FR",
        "consents": {"electronic_convocation": consent},
    }))
    .expect("a valid person")
}

async fn run(runtime: &LedgerRuntime, command: MeetingCommand) {
    runtime
        .execute(MEETING, Command::Meeting(command), imported())
        .await
        .unwrap_or_else(|e| panic!("the meeting records it: {e}"));
}

fn choices(
    agenda: &[ResolutionId],
    first: Choice,
    second: Choice,
) -> BTreeMap<ResolutionId, Choice> {
    agenda.iter().cloned().zip([first, second]).collect()
}

#[tokio::test]
async fn a_general_meeting_of_1200_holders_runs_from_convocation_to_signed_minutes() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    let farm = Synthetic {
        holders: 1_200,
        years: 1,
        newcomers_per_year: 0,
        transfers_per_year: 0,
        ..Synthetic::default()
    };
    let runtime = synthetic_runtime(&db, &store, &ledger, &farm).await;
    let signer = db.checkpoint_signer();

    // Every holder's identity, in the vault.
    let vault = Vault::new(MasterKey::generate().expect("a key"));
    let holders: Vec<(HolderId, bool)> = runtime.projections.read(|p| {
        p.cap_table
            .fold()
            .snapshot(
                windledger_projections::cap_table::AsOf::Date {
                    date: day(2026, 1, 1),
                },
                day(2026, 1, 1),
            )
            .expect("a cap table")
            .holders
            .into_iter()
            .map(|h| (h.holder, h.kind == HolderKind::Individual))
            .collect()
    });
    assert_eq!(holders.len(), 1_200);
    for (n, (holder, individual)) in holders.iter().enumerate() {
        vault
            .record(
                &runtime,
                holder,
                person(n, *individual),
                Some(day(2026, 1, 1)),
                HashMap::new(),
            )
            .await
            .expect("an identity");
    }

    // Convened on 1 October for a vote from 1 to 3 November.
    let kind = runtime.projections.read(|p| {
        p.cap_table
            .fold()
            .charter(windledger_projections::cap_table::AsOf::Date {
                date: day(2026, 1, 1),
            })
            .expect("a charter")
            .reserved
            .accounts
            .clone()
    });
    let convene: MeetingCommand = serde_json::from_value(json!({
        "command": "convene", "meeting": MEETING, "kind": "ordinary_general_meeting",
        "call": {"call": "first"}, "record_date": "2026-10-25",
        "opens_at": "2026-11-01T08:00:00Z", "closes_at": "2026-11-03T17:00:00Z",
        "agenda": [
            {"decision_kind": kind, "purpose": {"purpose": "general"}, "text": ACCOUNTS},
            {"decision_kind": kind, "purpose": {"purpose": "general"}, "text": BOARD},
        ],
        "convened_on": "2026-10-01",
    }))
    .expect("a convocation");
    run(&runtime, convene).await;
    let agenda: Vec<ResolutionId> = (1..=2)
        .map(|n| ResolutionId::new(format!("{MEETING}.{n}")).expect("an id"))
        .collect();

    // The convocations: e-mails to those who consented 35 days ahead,
    // letters to the others.
    let papers = || {
        runtime
            .projections
            .read(|p| MeetingPapers::of(p, LEDGER, MEETING))
            .expect("the meeting's papers")
    };
    let reader = Reader {
        who: "test".to_owned(),
        purpose: "convocation".to_owned(),
    };
    let public = "https://parc.example.fr";
    let plan = meeting_papers::plan(Some(&vault), &runtime, &papers(), public, &reader)
        .await
        .expect("a plan");
    let consented: BTreeSet<String> = (0..1_200)
        .filter(|n: &usize| n % 30 > 1 && n.is_multiple_of(3))
        .map(|n| format!("associe{n:04}@example.org"))
        .collect();
    assert_eq!(plan.by_email.len(), consented.len());
    assert_eq!(plan.by_post.len(), 1_200 - consented.len());
    let mailer = Mailer::new(
        &SmtpSettings::parse(&sink.url(), "Parc éolien <secretariat@parc.example.fr>")
            .expect("settings"),
    );
    let emailed = meeting_papers::send_emails(
        &runtime,
        &plan,
        &mailer,
        day(2026, 10, 2),
        &imported(),
        |_, _| {},
    )
    .await
    .expect("sent");
    assert_eq!((emailed.sent, emailed.failed.len()), (consented.len(), 0));
    let received = sink
        .wait_for(consented.len(), std::time::Duration::from_secs(60))
        .await;
    let recipients: BTreeSet<String> = received
        .iter()
        .flat_map(|m| m.envelope_to.iter().cloned())
        .collect();
    assert_eq!(
        recipients, consented,
        "one e-mail to each holder who consented"
    );
    let mail = received
        .iter()
        .find(|m| m.envelope_to == ["associe0003@example.org"])
        .expect("holder 3's e-mail");
    assert!(mail.subject.contains(MEETING), "{}", mail.subject);
    for expected in [
        ACCOUNTS,
        BOARD,
        "https://parc.example.fr/parcs/parc-1200/assemblees/ag-2026",
        "https://parc.example.fr/parcs/parc-1200/assemblees/ag-2026/formulaire.pdf",
    ] {
        assert!(mail.text.contains(expected), "{expected} in {}", mail.text);
    }
    // What the ledger records of holder 3's e-mail is the hash of its text.
    let third = &holders[3].0;
    let recorded = papers()
        .record
        .convocations
        .iter()
        .find(|c| &c.holder == third)
        .cloned()
        .expect("holder 3 convened");
    assert_eq!(
        recorded.sha256,
        plan.by_email
            .iter()
            .find(|r| &r.holder == third)
            .expect("in the plan")
            .text
            .sha256()
    );
    let letters: Vec<_> = plan
        .by_post
        .iter()
        .map(|r| (r.holder.clone(), r.person.clone(), r.text.clone()))
        .collect();
    let letters_drawn = papers().drawn;
    let letters_once = letters_pdf(&letters_drawn, &letters).expect("letters");
    meeting_papers::record_posted(&runtime, &plan, day(2026, 10, 2), &imported())
        .await
        .expect("posted");
    let again = meeting_papers::plan(Some(&vault), &runtime, &papers(), public, &reader)
        .await
        .expect("a plan");
    assert_eq!(
        (
            again.already_convened,
            again.by_email.len(),
            again.by_post.len()
        ),
        (1_200, 0, 0),
        "everyone is convened once"
    );

    // The vote: the roll, 140 proxies and 60 postal forms on paper.
    run(
        &runtime,
        MeetingCommand::OpenVoting {
            at: at(2026, 10, 26, 9),
        },
    )
    .await;
    let roll = papers().record.roll.expect("a roll").roll;
    let cap = roll.max_proxies_held.unwrap_or(u32::MAX) as usize;
    let citizens: Vec<HolderId> = roll
        .voters
        .iter()
        .filter(|v| v.holder.as_str().starts_with("c-"))
        .map(|v| v.holder.clone())
        .collect();
    let (grantors, rest) = citizens.split_at(140);
    let proxies: Vec<HolderId> = rest.iter().take(140usize.div_ceil(cap)).cloned().collect();
    let rest = &rest[proxies.len()..];
    for (i, grantor) in grantors.iter().enumerate() {
        run(
            &runtime,
            MeetingCommand::RecordPaperProxy {
                grantor: grantor.clone(),
                proxy: proxies[i / cap].clone(),
                received_at: at(2026, 10, 20, 10),
            },
        )
        .await;
    }
    let (postal, rest) = rest.split_at(60);
    for (i, voter) in postal.iter().enumerate() {
        // The last two arrive on 31 October, after the paper deadline (the
        // end of 29 October, three days before the vote opens).
        let received_at = if i >= 58 {
            at(2026, 10, 31, 10)
        } else {
            at(2026, 10, 27, 10)
        };
        run(
            &runtime,
            MeetingCommand::RecordPostalBallot {
                voter: voter.clone(),
                choices: choices(&agenda, Choice::For, Choice::Against),
                received_at,
                electronic: false,
            },
        )
        .await;
    }
    // Online: the proxies for their grantors, and 300 others for themselves.
    for (i, grantor) in grantors.iter().enumerate() {
        run(
            &runtime,
            MeetingCommand::CastBallot {
                voter: grantor.clone(),
                cast_by: proxies[i / cap].clone(),
                choices: choices(&agenda, Choice::For, Choice::For),
                at: at(2026, 11, 2, 10),
            },
        )
        .await;
    }
    let online: Vec<HolderId> = rest.iter().take(300).cloned().collect();
    for voter in online
        .iter()
        .chain(["partner", "ccmp", "sem-energie"].iter().map(|h| {
            roll.voters
                .iter()
                .map(|v| &v.holder)
                .find(|v| v.as_str() == *h)
                .expect("a founder on the roll")
        }))
    {
        run(
            &runtime,
            MeetingCommand::CastBallot {
                voter: voter.clone(),
                cast_by: voter.clone(),
                choices: choices(&agenda, Choice::For, Choice::Abstain),
                at: at(2026, 11, 2, 11),
            },
        )
        .await;
    }
    run(
        &runtime,
        MeetingCommand::Close {
            at: at(2026, 11, 3, 18),
        },
    )
    .await;

    // The late forms are kept, not counted.
    let record = papers().record;
    assert_eq!(record.late_forms.len(), 2);
    let late: BTreeSet<&HolderId> = record.late_forms.iter().map(|f| &f.voter).collect();
    assert_eq!(late, postal[58..].iter().collect());
    let in_force: BTreeSet<&HolderId> = record
        .ballots
        .iter()
        .filter(|b| b.in_force)
        .map(|b| &b.voter)
        .collect();
    assert!(late.iter().all(|v| !in_force.contains(v)));
    assert_eq!(in_force.len(), 140 + 58 + 300 + 3);
    assert_eq!(record.proxies.iter().filter(|p| p.paper).count(), 140);

    // The attendance sheet's totals are the tally's, college by college.
    let (participants_list, totals) = participants(&record).expect("participants");
    assert_eq!(participants_list.len(), in_force.len());
    let results = &record.closed.as_ref().expect("closed").results;
    for result in results {
        for college in &result.colleges {
            let t = &totals[&college.college];
            assert_eq!(t.votes, college.present, "{}", college.college);
            assert_eq!(t.roll_votes, college.roll_total, "{}", college.college);
        }
    }

    // The bureau and the minutes, entered after the close, then signed.
    let officer_key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let (chair, scrutineer) = (online[0].clone(), online[1].clone());
    let secretary = HolderId::new("greffe").expect("an id");
    let now = Utc::now();
    run(
        &runtime,
        MeetingCommand::ConstituteBureau {
            chair: chair.clone(),
            scrutineers: vec![scrutineer.clone()],
            secretary: secretary.clone(),
            at: now,
        },
    )
    .await;
    run(
        &runtime,
        MeetingCommand::RecordMinutes {
            debates: "Le président présente les comptes de 2025.\nDeux questions sur la production, auxquelles il répond.".to_owned(),
            documents_presented: vec!["Comptes annuels 2025".to_owned(), "Rapport de gestion".to_owned()],
            at: now,
        },
    )
    .await;
    let minutes = meeting_papers::minutes(Some(&vault), &runtime, &papers(), &reader)
        .await
        .expect("the minutes")
        .expect("recorded");
    let message =
        minutes_signing_message(&MeetingId::new(MEETING).expect("an id"), &minutes.sha256);
    for (officer, signature) in [
        (
            chair.clone(),
            OfficerSignature::Ed25519 {
                public_key: hex::encode(officer_key.verifying_key().to_bytes()),
                signature: hex::encode(officer_key.sign(&message).to_bytes()),
            },
        ),
        (scrutineer.clone(), OfficerSignature::Handwritten),
        (secretary.clone(), OfficerSignature::Handwritten),
    ] {
        run(
            &runtime,
            MeetingCommand::SignMinutes {
                officer,
                document_sha256: minutes.sha256.clone(),
                signature,
                at: Utc::now(),
            },
        )
        .await;
    }

    // Every document again, byte for byte, after the signatures.
    let after = papers();
    let signed = meeting_papers::minutes(Some(&vault), &runtime, &after, &reader)
        .await
        .expect("the minutes")
        .expect("recorded");
    assert!(
        signed.pdf == minutes.pdf,
        "the signed minutes are the minutes drawn"
    );
    assert_eq!(after.record.signatures.len(), 3);
    let names = windledger_papers::persons::names(
        &vault,
        &runtime,
        meeting_papers::named_in_minutes(&after.record),
        &reader,
    )
    .await
    .expect("names");
    assert!(
        minutes_pdf(&minutes.drawn, &after.record, &names).expect("drawn")
            == Some(minutes.pdf.clone()),
        "the minutes again, byte for byte"
    );
    let sheet = attendance_pdf(&after.drawn, &after.record, &names).expect("a sheet");
    assert!(
        attendance_pdf(&after.drawn, &after.record, &names).expect("a sheet") == sheet,
        "the attendance sheet again, byte for byte"
    );
    let forms = postal_forms_pdf(
        &after.drawn,
        &after.record,
        &after.convenable[..50],
        &after.deadlines,
        &names,
    )
    .expect("forms");
    assert!(
        postal_forms_pdf(
            &after.drawn,
            &after.record,
            &after.convenable[..50],
            &after.deadlines,
            &names
        )
        .expect("forms")
            == forms,
        "the postal forms again, byte for byte"
    );
    assert!(
        letters_pdf(&letters_drawn, &letters).expect("letters") == letters_once,
        "the letters again, byte for byte"
    );

    // The minutes say every item R225-106 lists.
    if let Some(text) = text_of(&minutes.pdf) {
        for expected in [
            "1er octobre 2026",                 // when it was convened
            "par courrier électronique",        // how
            ACCOUNTS,                           // the agenda
            "Associé",                          // the bureau, named
            "Deux questions sur la production", // the debates
            "Comptes annuels 2025",             // the documents presented
            "Résultat : ADOPTÉE",               // each resolution's result
            postal[58].as_str(),                // the late forms
        ] {
            assert!(
                text.contains(expected),
                "{expected:?} in the minutes:\n{text}"
            );
        }
    }

    // Decided again offline: every new event verifies.
    let mut export = Vec::new();
    store
        .export_jsonl(&ledger, &mut export, |_, _| {})
        .await
        .expect("the ledger exports");
    let key = signer.verifier().to_string();
    verify_export(std::io::Cursor::new(export), &[&key], None)
        .unwrap_or_else(|e| panic!("the ledger verifies: {e}"));
}
