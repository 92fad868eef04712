//! `papers`: a general meeting's paperwork for WINDLEDGER_BENCH_HOLDERS
//! (20,000) holders (issue: "the convocations (e-mails to a local SMTP
//! server and the letters PDF), the attendance sheet and the minutes for
//! 20,000 holders"). Targets: <= 60 s for the measured steps in all, and
//! <= 512 MiB of peak resident memory.
//!
//! Set-up, not measured: a synthetic farm of N holders over one year (no
//! newcomers, no transfers) written to the ledger; every holder's identity
//! recorded in the vault (a natural person's for an individual, a legal
//! person's otherwise; one holder in three consented to be convened by
//! e-mail two years before the convocation), concurrently; the meeting
//! convened on two resolutions; a real SMTP server on 127.0.0.1 (Debian's
//! aiosmtpd, `windledger_mail::testing::SmtpSink`, writing each mail to a
//! maildir).
//!
//! Measured, each step once, as the API and `windledger convocations` run
//! it (the meeting's papers read from the projections first):
//!
//! - `papers_plan`: the convocation plan, every holder read from the vault
//!   (each read logged) and their text written;
//! - `papers_emails`: the e-mails of the consenting third sent to the SMTP
//!   server and recorded in the ledger (`papers_emails_smtp`: the sending
//!   alone, part of it);
//! - `papers_letters_pdf`: the letters of the other two thirds, as PDF/A
//!   and as the CSV of a mailing service (`papers_letters_csv`: the CSV,
//!   part of it);
//! - `papers_letters_recorded`: the letters recorded as posted.
//!
//! Then, set up again: the voting opened (the roll frozen) and ballots
//! cast for `WINDLEDGER_BENCH_TURNOUT` per cent (60) of the roll, from
//! concurrent commands. Measured:
//!
//! - `papers_close`: the close (every resolution counted over the roll),
//!   until the projections show it;
//! - (set-up: the bureau constituted and the minutes' words recorded)
//! - `papers_attendance_pdf`: the attendance sheet, every participant (and
//!   the bureau) named from the vault (`papers_attendance_names`: the
//!   vault's reads, part of it);
//! - `papers_minutes_pdf`: the minutes, their officers named from the vault.
//!
//! `papers_total` is the sum of the measured steps; `papers_peak_rss` the
//! process's peak resident memory over them (MiB: reset before the
//! convocations and again before the close, so the ballots' set-up is left
//! out; the higher of the two), then the documents' sizes.
//! `papers_setup_identities` (s) is the set-up's recording of the
//! identities, not counted. On stderr: the peak memory after each step,
//! and after the measured steps a diagnosis of the vault's reads (the
//! store's three calls each makes, timed apart over 2,000 holders).

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::StreamExt;
use serde_json::json;
use windledger_app::command::Command;
use windledger_app::import::synthetic::Synthetic;
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::Reader;
use windledger_documents::convocation::{letters_csv, letters_pdf};
use windledger_documents::meeting::{attendance_pdf, participants};
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::{Choice, MeetingCommand};
use windledger_domain::types::{HolderId, ResolutionId};
use windledger_mail::testing::SmtpSink;
use windledger_mail::{Mailer, SmtpSettings};
use windledger_papers::meeting_papers::{self, MeetingPapers};
use windledger_projections::cap_table::AsOf;
use windledger_projections::register::MeetingRecord;
use windledger_store::testing::Backend;
use windledger_vault::Person;

use crate::env_size;
use crate::farm::{CONCURRENCY, Farm};
use crate::projections::{peak_rss_mib, reset_peak_rss, status_mib};

const LEDGER: &str = "parc-papiers";
const MEETING: &str = "ag-2026";
const PUBLIC_URL: &str = "https://parc.example.fr";

fn at(y: i32, m: u32, d: u32, h: u32) -> anyhow::Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .context("an invalid time")
}

fn day(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).context("an invalid date")
}

/// History entered after the fact, as an import does (the meeting's
/// instants are in the past of the server's clock).
fn imported() -> HashMap<String, String> {
    HashMap::from([("entry".to_owned(), "imported".to_owned())])
}

/// Holder `n`'s identity, of the kind the register gives them: one in
/// three consented to e-mail two years before the convocation.
fn person(n: usize, kind: HolderKind) -> anyhow::Result<Person> {
    let consent = if n.is_multiple_of(3) {
        json!({"given_on": "2024-10-01", "withdrawn_on": null})
    } else {
        serde_json::Value::Null
    };
    let identity = if kind == HolderKind::Individual {
        json!({"person": "natural", "family_name": format!("Associé{n:05}"),
               "given_names": "Camille", "birth": {"date": "1970-05-01", "place": "Redon"}})
    } else {
        json!({"person": "legal", "name": format!("Association des Ailes {n:05}"),
               "legal_form": "association loi 1901", "siren": null,
               "representative": "Dominique Martin"})
    };
    Ok(serde_json::from_value(json!({
        "identity": identity,
        "address": {"lines": [format!("{n} rue des Éoliennes")], "postal_code": "42220",
                    "city": "Bourg-Argental", "country": "FR"},
        "email": format!("associe{n:05}@example.org"),
        "tax_residence": "FR",
        "consents": {"electronic_convocation": consent},
    }))?)
}

async fn run(runtime: &LedgerRuntime, command: MeetingCommand) -> anyhow::Result<()> {
    runtime
        .execute(MEETING, Command::Meeting(command), imported())
        .await
        .map_err(|e| anyhow!("the meeting refuses it: {e}"))?;
    Ok(())
}

fn papers(runtime: &LedgerRuntime) -> anyhow::Result<MeetingPapers> {
    runtime
        .projections
        .read(|p| MeetingPapers::of(p, LEDGER, MEETING))
        .context("the meeting's papers")
}

fn reader(purpose: &str) -> Reader {
    Reader {
        who: "bench".to_owned(),
        purpose: purpose.to_owned(),
    }
}

/// The process's resident memory now, in MiB.
fn resident_mib() -> anyhow::Result<f64> {
    status_mib("VmRSS")
}

/// Seconds, for the `metric value unit` lines.
fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The pages of a PDF the documents crate drew: its page objects.
fn pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
        .count()
}

/// Who the attendance sheet names, as the API's `attendance.pdf` asks the
/// vault: the participants and their proxies, the proxies annexed, and
/// the bureau.
fn named_on_sheet(record: &MeetingRecord) -> Vec<HolderId> {
    let mut named: Vec<HolderId> = participants(record)
        .map(|(list, _)| {
            list.into_iter()
                .flat_map(|p| [Some(p.holder), p.represented_by])
                .flatten()
                .collect()
        })
        .unwrap_or_default();
    named.extend(
        record
            .proxies
            .iter()
            .flat_map(|p| [p.grantor.clone(), p.proxy.clone()]),
    );
    named.extend(record.bureau.iter().flat_map(|b| {
        let b = &b.bureau;
        [b.chair.clone(), b.secretary.clone()]
            .into_iter()
            .chain(b.scrutineers.iter().cloned())
    }));
    named.sort();
    named.dedup();
    named
}

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let holders = env_size("WINDLEDGER_BENCH_HOLDERS", 20_000)?;
    let turnout = env_size("WINDLEDGER_BENCH_TURNOUT", 60)?.min(100);
    let Some(sink) = SmtpSink::start() else {
        bail!("the benchmark sends its e-mails to aiosmtpd: apt-get install python3-aiosmtpd");
    };
    eprintln!("# SMTP server (aiosmtpd) at {}", sink.url());

    // Set-up: the farm, and every holder's identity in the vault.
    let on = day(2026, 1, 1)?;
    let synthetic = Synthetic {
        holders,
        years: 1,
        newcomers_per_year: 0,
        transfers_per_year: 0,
        ..Synthetic::default()
    };
    let farm = crate::farm::with_identities(backend, LEDGER, &synthetic, on, person).await?;
    let Farm {
        runtime,
        vault,
        register,
        ..
    } = &farm;
    println!("papers_setup_identities {:.1} s", farm.identities_seconds);

    // Set-up: convened on 1 October for a vote from 1 to 3 November.
    let kind = runtime
        .projections
        .read(|p| {
            p.cap_table
                .fold()
                .charter(AsOf::Date { date: on })
                .map(|c| c.reserved.accounts.clone())
        })
        .context("the farm's charter")?;
    let convene: MeetingCommand = serde_json::from_value(json!({
        "command": "convene", "meeting": MEETING, "kind": "ordinary_general_meeting",
        "call": {"call": "first"}, "record_date": "2026-10-25",
        "opens_at": "2026-11-01T08:00:00Z", "closes_at": "2026-11-03T17:00:00Z",
        "agenda": [
            {"decision_kind": kind, "purpose": {"purpose": "general"},
             "text": "Approbation des comptes de l'exercice 2025."},
            {"decision_kind": kind, "purpose": {"purpose": "general"},
             "text": "Renouvellement du mandat du président pour trois ans."},
        ],
        "convened_on": "2026-10-01",
    }))?;
    run(runtime, convene).await?;
    let agenda: Vec<ResolutionId> = (1..=2)
        .map(|n| ResolutionId::new(format!("{MEETING}.{n}")))
        .collect::<Result<_, _>>()?;
    let mailer = Mailer::new(&SmtpSettings::parse(
        &sink.url(),
        "Parc éolien <secretariat@parc.example.fr>",
    )?);
    let sent_on = day(2026, 10, 2)?;

    eprintln!(
        "# the convocations ({:.0} MiB resident before)",
        resident_mib()?
    );
    reset_peak_rss();
    // The peak after each step: which step raised it.
    let mut peaks = Vec::new();
    let reader_convocation = reader("convocation");

    let start = Instant::now();
    let convocation = papers(runtime)?;
    let plan = meeting_papers::plan(
        Some(vault),
        runtime,
        &convocation,
        PUBLIC_URL,
        &reader_convocation,
    )
    .await?;
    let plan_time = start.elapsed();
    peaks.push(("plan", peak_rss_mib()?));
    ensure!(
        plan.by_email.len() + plan.by_post.len() == holders,
        "the plan convenes {} by e-mail and {} by post, not {holders}",
        plan.by_email.len(),
        plan.by_post.len()
    );
    eprintln!(
        "# plan: {} by e-mail, {} by letter",
        plan.by_email.len(),
        plan.by_post.len()
    );

    let start = Instant::now();
    let mut smtp_time = None;
    let emailed = meeting_papers::send_emails(
        runtime,
        &plan,
        &mailer,
        sent_on,
        &imported(),
        |done, total| {
            if done == total {
                smtp_time = Some(start.elapsed());
            }
        },
    )
    .await?;
    let emails_time = start.elapsed();
    peaks.push(("e-mails", peak_rss_mib()?));
    if let Some((holder, reason)) = emailed.failed.first() {
        bail!(
            "{} e-mails not sent, the first to {holder}: {reason}",
            emailed.failed.len()
        );
    }
    let smtp_time = smtp_time.unwrap_or_default();

    let start = Instant::now();
    let letters = plan.letters();
    let letters_bytes = letters_pdf(&convocation.drawn, &letters)?;
    let csv_start = Instant::now();
    let letters_table = letters_csv(&letters);
    let csv_time = csv_start.elapsed();
    let letters_time = start.elapsed();
    peaks.push(("letters", peak_rss_mib()?));

    let start = Instant::now();
    let posted = meeting_papers::record_posted(runtime, &plan, sent_on, &imported()).await?;
    let posted_time = start.elapsed();
    let convocations_peak = peak_rss_mib()?;
    peaks.push(("recorded", convocations_peak));
    let (by_email, by_post) = (plan.by_email.len(), plan.by_post.len());
    drop((plan, letters, convocation));

    // Checked, not measured: the server received every e-mail, and the
    // ledger records every holder as convened once.
    let received = sink
        .wait_for(emailed.sent, Duration::from_secs(120))
        .await
        .iter()
        .flat_map(|m| m.envelope_to.iter().cloned())
        .collect::<BTreeSet<String>>()
        .len();
    ensure!(
        received == by_email && emailed.sent == by_email,
        "{} e-mails sent, {received} distinct recipients received, {by_email} planned",
        emailed.sent
    );
    let convened = papers(runtime)?.record.convocations.len();
    ensure!(
        convened == holders && posted == by_post,
        "{convened} holders recorded as convened, not {holders}"
    );

    // Set-up: the vote.
    run(
        runtime,
        MeetingCommand::OpenVoting {
            at: at(2026, 10, 26, 9)?,
        },
    )
    .await?;
    let roll = papers(runtime)?.record.roll.context("a roll")?.roll;
    // The founders, and `turnout` per cent of the others.
    let voters: Vec<HolderId> = roll
        .voters
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.holder.as_str().starts_with("c-") || i % 100 < turnout)
        .map(|(_, v)| v.holder.clone())
        .collect();
    eprintln!(
        "# {} ballots on a roll of {}, {CONCURRENCY} at a time",
        voters.len(),
        roll.voters.len()
    );
    let start = Instant::now();
    let cast_at = at(2026, 11, 2, 10)?;
    let mut casting = futures::stream::iter(voters.iter().enumerate())
        .map(|(i, voter)| {
            let runtime = &runtime;
            let choices = agenda
                .iter()
                .cloned()
                .zip([
                    [Choice::For, Choice::Against, Choice::Abstain][i % 3],
                    Choice::For,
                ])
                .collect();
            async move {
                run(
                    runtime,
                    MeetingCommand::CastBallot {
                        voter: voter.clone(),
                        cast_by: voter.clone(),
                        choices,
                        at: cast_at,
                    },
                )
                .await
            }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some(cast) = casting.next().await {
        cast?;
    }
    drop(casting);
    eprintln!(
        "# cast {} ballots in {:.1} s",
        voters.len(),
        start.elapsed().as_secs_f64()
    );

    eprintln!(
        "# the close, the attendance sheet and the minutes ({:.0} MiB resident before)",
        resident_mib()?
    );
    reset_peak_rss();
    let start = Instant::now();
    run(
        runtime,
        MeetingCommand::Close {
            at: at(2026, 11, 3, 18)?,
        },
    )
    .await?;
    let close_time = start.elapsed();
    peaks.push(("close", peak_rss_mib()?));

    // Set-up: the bureau and the minutes' words.
    let now = Utc::now();
    run(
        runtime,
        MeetingCommand::ConstituteBureau {
            chair: voters[3].clone(),
            scrutineers: vec![voters[4].clone()],
            secretary: HolderId::new("greffe")?,
            at: now,
        },
    )
    .await?;
    run(
        runtime,
        MeetingCommand::RecordMinutes {
            debates: "Le président présente les comptes de 2025.\nDeux questions sur la production, auxquelles il répond.".to_owned(),
            documents_presented: vec!["Comptes annuels 2025".to_owned(), "Rapport de gestion".to_owned()],
            at: now,
        },
    )
    .await?;

    let start = Instant::now();
    let closed = papers(runtime)?;
    let names = windledger_papers::persons::names(
        vault,
        runtime,
        named_on_sheet(&closed.record),
        &reader("attendance"),
    )
    .await?;
    let names_time = start.elapsed();
    let sheet = attendance_pdf(&closed.drawn, &closed.record, &names)?
        .context("no attendance sheet once the voting was opened")?;
    let attendance_time = start.elapsed();
    peaks.push(("attendance sheet", peak_rss_mib()?));
    let (listed, _) = participants(&closed.record).context("participants")?;
    ensure!(
        listed.len() == voters.len(),
        "the sheet lists {} participants, not the {} voters",
        listed.len(),
        voters.len()
    );
    let named = names.len();
    drop((closed, names, listed));

    let start = Instant::now();
    let minutes =
        meeting_papers::minutes(Some(vault), runtime, &papers(runtime)?, &reader("minutes"))
            .await?
            .context("no minutes once their words were recorded")?;
    let minutes_time = start.elapsed();
    let vote_peak = peak_rss_mib()?;
    peaks.push(("minutes", vote_peak));

    let steps = [
        ("papers_plan", plan_time),
        ("papers_emails", emails_time),
        ("papers_letters_pdf", letters_time),
        ("papers_letters_recorded", posted_time),
        ("papers_close", close_time),
        ("papers_attendance_pdf", attendance_time),
        ("papers_minutes_pdf", minutes_time),
    ];
    for (metric, time) in steps {
        println!("{metric} {:.2} s", seconds(time));
        // Parts of the step above, to say where its time goes.
        let part = match metric {
            "papers_emails" => Some(("papers_emails_smtp", smtp_time)),
            "papers_letters_pdf" => Some(("papers_letters_csv", csv_time)),
            "papers_attendance_pdf" => Some(("papers_attendance_names", names_time)),
            _ => None,
        };
        if let Some((part, time)) = part {
            println!("{part} {:.2} s", seconds(time));
        }
    }
    let total: Duration = steps.iter().map(|(_, t)| *t).sum();
    println!("papers_total {:.2} s", seconds(total));
    println!(
        "papers_peak_rss {:.0} MiB",
        convocations_peak.max(vote_peak)
    );
    println!("papers_emails_sent {} mails", emailed.sent);
    println!("papers_letters {by_post} letters");
    println!("papers_letters_pages {} pages", pages(&letters_bytes));
    println!(
        "papers_letters_size {:.1} MiB",
        letters_bytes.len() as f64 / 1024.0 / 1024.0
    );
    println!(
        "papers_letters_csv_size {:.1} MiB",
        letters_table.len() as f64 / 1024.0 / 1024.0
    );
    println!("papers_attendance_participants {} voters", voters.len());
    println!("papers_attendance_named {named} holders");
    println!("papers_attendance_pages {} pages", pages(&sheet));
    println!(
        "papers_attendance_size {:.1} MiB",
        sheet.len() as f64 / 1024.0 / 1024.0
    );
    println!("papers_minutes_pages {} pages", pages(&minutes.pdf));
    println!(
        "papers_minutes_size {:.1} KiB",
        minutes.pdf.len() as f64 / 1024.0
    );
    let peaks: Vec<String> = peaks
        .iter()
        .map(|(step, mib)| format!("{step} {mib:.0}"))
        .collect();
    eprintln!("# peak RSS (MiB) after each step: {}", peaks.join(", "));
    diagnose(runtime, register).await
}

/// Where the plan's time goes, after the measured steps (on stderr, not
/// measured): every holder's convocation text written again (the plan's
/// work besides the vault), and the store's three calls a vault read makes
/// (the read logged, the holder's key, their versions), timed one by one
/// over a sample of holders.
async fn diagnose(
    runtime: &LedgerRuntime,
    register: &[(HolderId, HolderKind)],
) -> anyhow::Result<()> {
    let papers = papers(runtime)?;
    let links = meeting_papers::links(PUBLIC_URL, LEDGER, MEETING);
    let start = Instant::now();
    for (holder, _) in register {
        let _ = windledger_documents::convocation::convocation_text(
            &papers.drawn.company,
            &papers.record,
            holder,
            None,
            &links,
            &papers.deadlines,
        );
    }
    eprintln!(
        "# diagnosis: {} convocation texts written in {:.2} s",
        register.len(),
        seconds(start.elapsed())
    );
    let sample = &register[..register.len().min(2_000)];
    let (ledger, store) = (runtime.id.as_str(), &runtime.store);
    let (mut log, mut key, mut versions) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for (holder, _) in sample {
        let start = Instant::now();
        store
            .log_vault_read(&windledger_store::VaultRead {
                ledger: ledger.to_owned(),
                holder: holder.to_string(),
                reader: "bench".to_owned(),
                purpose: "diagnosis".to_owned(),
                read_at: Utc::now(),
            })
            .await?;
        log += start.elapsed();
        let start = Instant::now();
        store.vault_key(ledger, holder.as_str()).await?;
        key += start.elapsed();
        let start = Instant::now();
        store.vault_versions(ledger, holder.as_str()).await?;
        versions += start.elapsed();
    }
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / sample.len().max(1) as f64;
    eprintln!(
        "# diagnosis: a vault read's store calls over {} holders, one after the other: the read logged {:.3} ms, the key {:.3} ms, the versions {:.3} ms",
        sample.len(),
        per(log),
        per(key),
        per(versions)
    );
    Ok(())
}
