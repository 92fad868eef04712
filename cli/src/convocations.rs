//! `windledger convocations`: convenes a meeting's holders by the channel
//! each consented to (R225-63). E-mails go out through an SMTP relay and
//! are recorded as sent; the letters of the others are written as one PDF
//! to print and a CSV for a mailing service, and recorded as posted on the
//! day given. Holders already convened are left out, so that an
//! interrupted run is simply run again.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use windledger_documents::convocation::{letters_csv, letters_pdf};
use windledger_mail::{Mailer, SmtpSettings};
use windledger_papers::meeting_papers::{self, MeetingPapers};

use crate::identity::{actor, reader};
use crate::options::LedgerAndKeys;

#[derive(clap::Args, Debug)]
pub struct ConvocationsOptions {
    /// The meeting, as convened.
    #[arg(long)]
    pub meeting: String,
    /// Where the farm's pages are reached from outside: the convocations
    /// link to the holder's voting page and postal form there.
    #[arg(
        long,
        env = "WINDLEDGER_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_url: String,
    /// The SMTP relay e-mails go through: smtp://host:port (local relay),
    /// smtp://user:password@host:587?tls=required, smtps://...:465. Without
    /// it no e-mail is sent.
    #[arg(long, env = "WINDLEDGER_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The sender of the e-mails: "Name <address>".
    #[arg(long, env = "WINDLEDGER_SMTP_FROM")]
    pub from: Option<String>,
    /// A folder to write the letters to post into: convocations.pdf and
    /// convocations.csv.
    #[arg(long)]
    pub letters: Option<PathBuf>,
    /// Record the letters as handed to the post on this day (after they
    /// were printed and posted).
    #[arg(long)]
    pub posted_on: Option<NaiveDate>,
    #[command(flatten)]
    pub on: LedgerAndKeys,
}

pub async fn run(options: &ConvocationsOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let mailer = match &options.smtp_url {
        Some(url) => {
            let from = options
                .from
                .as_deref()
                .context("give --from, the sender of the e-mails, with --smtp-url")?;
            Some(Mailer::new(&SmtpSettings::parse(url, from)?))
        }
        None => None,
    };
    let (vault, runtime) = options.on.open(&mut std::io::stderr()).await?;
    let id = runtime.id.to_string();
    let papers = runtime
        .projections
        .read(|p| MeetingPapers::of(p, &id, &options.meeting))
        .with_context(|| format!("there is no meeting {:?} in this ledger", options.meeting))?;
    let reader = reader("convocation");
    let plan = meeting_papers::plan(
        Some(&vault),
        &runtime,
        &papers,
        &options.public_url,
        &reader,
    )
    .await?;
    writeln!(
        out,
        "{} holders convened already; {} to convene by e-mail, {} by letter.",
        plan.already_convened,
        plan.by_email.len(),
        plan.by_post.len()
    )?;
    match &mailer {
        Some(mailer) if !plan.by_email.is_empty() => {
            let today = windledger_app::today();
            let emailed =
                meeting_papers::send_emails(&runtime, &plan, mailer, today, &actor(), |_, _| {})
                    .await?;
            writeln!(out, "{} e-mails sent and recorded.", emailed.sent)?;
            for (holder, reason) in &emailed.failed {
                writeln!(out, "not sent to {holder}: {reason}")?;
            }
        }
        Some(_) => {}
        None if !plan.by_email.is_empty() => writeln!(
            out,
            "No e-mail sent: give --smtp-url and --from to send them."
        )?,
        None => {}
    }
    if let Some(folder) = &options.letters {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let letters = plan.letters();
        let pdf = letters_pdf(&papers.drawn, &letters)?;
        let csv = letters_csv(&letters);
        for (name, bytes) in [("convocations.pdf", pdf), ("convocations.csv", csv)] {
            let path = folder.join(name);
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        writeln!(
            out,
            "{} letters written to {}.",
            letters.len(),
            folder.display()
        )?;
    }
    if let Some(day) = options.posted_on {
        let recorded = meeting_papers::record_posted(&runtime, &plan, day, &actor()).await?;
        writeln!(out, "{recorded} letters recorded as posted on {day}.")?;
    }
    Ok(())
}
