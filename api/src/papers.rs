//! A meeting's paperwork through the API (`windledger_papers::meeting_papers`):
//! the convocations (e-mails sent through the server's SMTP relay, letters
//! to post as one PDF and a CSV for a mailing service, the day they were
//! posted), the postal voting forms, and the minutes the officers sign.
//!
//! Names come from the vault, each read logged: the letters and forms for
//! the secretary (a holder's own form for that holder); the minutes name
//! the bureau's officers for whoever may read them, so that the document
//! they signed is one and the same for every reader.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use windledger_app::command::Command;
use windledger_app::ledger::LedgerRuntime;
use windledger_documents::convocation::{letters_csv, letters_pdf};
use windledger_documents::postal_form::{postal_form_pdf, postal_forms_pdf};
use windledger_domain::meeting::{MeetingCommand, OfficerSignature};
use windledger_domain::types::HolderId;
use windledger_papers::meeting_papers::{self, MeetingPapers, Plan};

use crate::AppState;
use crate::answers::{self, Recorded};
use crate::auth::{Principal, Role};
use crate::documents::{blocking, file};
use crate::extract::{Body, Call, MeetingPath, PathParams};
use crate::identity::reader;
use crate::problem::Problem;
use crate::reads::projected;

/// The SHA-256 of the minutes' PDF, which the officers sign.
pub const DOCUMENT_SHA256: HeaderName = HeaderName::from_static("document-sha256");

/// A meeting and one holder.
#[derive(Debug, Deserialize)]
pub struct MeetingHolderPath {
    pub meeting: String,
    pub holder: HolderId,
}

/// An officer's signature of the minutes: the server fills in the
/// document's hash (the minutes as it draws them), which an Ed25519
/// signature must be over.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Signing {
    /// The officer signing (a shareholder's token signs as its holder).
    officer: Option<HolderId>,
    signature: OfficerSignature,
}

/// The day letters of convocation were handed to the post.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Posted {
    sent_on: NaiveDate,
}

/// E-mails of convocation: sent now, by the server's SMTP relay.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Emailing {}

/// What sending or posting convocations recorded.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Convened {
    /// Holders recorded as convened by this request.
    recorded: usize,
    /// Messages the relay refused, with why: not recorded.
    failed: Vec<Failed>,
    /// Holders still to convene by letter.
    by_post_remaining: usize,
    /// Holders convened before this request.
    already_convened: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Failed {
    holder: HolderId,
    reason: String,
}

async fn papers(runtime: &LedgerRuntime, meeting: &str) -> Result<MeetingPapers, Problem> {
    let id = runtime.id.to_string();
    projected(runtime, |p| MeetingPapers::of(p, &id, meeting))
        .await?
        .ok_or_else(|| Problem::not_found(format!("no meeting {meeting:?} in this ledger")))
}

/// The meeting's papers and the plan of its convocations, the names read
/// from the vault for the caller.
async fn plan(
    state: &AppState,
    runtime: &LedgerRuntime,
    principal: &Principal,
    meeting: &str,
) -> Result<(MeetingPapers, Plan), Problem> {
    let papers = papers(runtime, meeting).await?;
    let vault = state.vault().ok();
    let reader = reader(principal, "convocation");
    let plan = meeting_papers::plan(vault, runtime, &papers, state.public_url(), &reader).await?;
    Ok((papers, plan))
}

/// `GET /meetings/{meeting}/convocations/letters.pdf`: the letters of the
/// holders still to convene by post, one per page run, ready to print.
pub(crate) async fn letters_as_pdf(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
) -> Result<Response, Problem> {
    let (papers, plan) = plan(&state, &runtime, &principal, &meeting).await?;
    let letters = plan.letters();
    let drawn = papers.drawn.clone();
    let bytes = blocking(move || letters_pdf(&drawn, &letters).map_err(Problem::internal)).await?;
    let name = format!("{}-{meeting}-convocations.pdf", papers.drawn.ledger);
    Ok(file(bytes, "application/pdf", &name, &papers.drawn))
}

/// `GET /meetings/{meeting}/convocations/letters.csv`: the same letters for
/// a mailing service.
pub(crate) async fn letters_as_csv(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
) -> Result<Response, Problem> {
    let (papers, plan) = plan(&state, &runtime, &principal, &meeting).await?;
    let bytes = letters_csv(&plan.letters());
    let name = format!("{}-{meeting}-convocations.csv", papers.drawn.ledger);
    Ok(file(bytes, "text/csv; charset=utf-8", &name, &papers.drawn))
}

fn convened(plan: &Plan, recorded: usize, failed: Vec<(HolderId, String)>) -> Convened {
    Convened {
        recorded,
        failed: failed
            .into_iter()
            .map(|(holder, reason)| Failed { holder, reason })
            .collect(),
        by_post_remaining: plan.by_post.len(),
        already_convened: plan.already_convened,
    }
}

/// `POST /meetings/{meeting}/convocations/emails`: sends the convocations
/// of the holders who consented to e-mail, through the server's relay,
/// and records those sent (today, by the server's clock).
pub(crate) async fn send_emails(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
    Body(Emailing {}): Body<Emailing>,
) -> Result<Response, Problem> {
    let mailer = state.mailer()?;
    let (_, plan) = plan(&state, &runtime, &principal, &meeting).await?;
    let emailed = meeting_papers::send_emails(
        &runtime,
        &plan,
        mailer,
        windledger_app::today(),
        &crate::identity::metadata(&principal),
        |_, _| {},
    )
    .await?;
    let answer = convened(&plan, emailed.sent, emailed.failed);
    Ok((StatusCode::CREATED, answers::json(&answer)?).into_response())
}

/// `POST /meetings/{meeting}/convocations/letters-posted`: the letters
/// still to send were handed to the post on `sent_on`.
pub(crate) async fn letters_posted(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
    Body(Posted { sent_on }): Body<Posted>,
) -> Result<Response, Problem> {
    let (_, plan) = plan(&state, &runtime, &principal, &meeting).await?;
    let recorded = meeting_papers::record_posted(
        &runtime,
        &plan,
        sent_on,
        &crate::identity::metadata(&principal),
    )
    .await?;
    let mut answer = convened(&plan, recorded, Vec::new());
    answer.by_post_remaining = 0;
    Ok((StatusCode::CREATED, answers::json(&answer)?).into_response())
}

/// `GET /meetings/{meeting}/postal-forms.pdf`: a postal voting form for
/// every holder the meeting convenes, to print and send.
pub(crate) async fn postal_forms(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
) -> Result<Response, Problem> {
    let papers = papers(&runtime, &meeting).await?;
    let names = match state.vault() {
        Ok(vault) => {
            windledger_papers::persons::names(
                vault,
                &runtime,
                papers.convenable.clone(),
                &reader(&principal, "postal voting forms"),
            )
            .await?
        }
        Err(_) => Default::default(),
    };
    let (drawn, record, deadlines, holders) = (
        papers.drawn.clone(),
        papers.record.clone(),
        papers.deadlines,
        papers.convenable.clone(),
    );
    let bytes = blocking(move || {
        postal_forms_pdf(&drawn, &record, &holders, &deadlines, &names).map_err(Problem::internal)
    })
    .await?;
    let name = format!("{}-{meeting}-formulaires.pdf", papers.drawn.ledger);
    Ok(file(bytes, "application/pdf", &name, &papers.drawn))
}

/// `GET /meetings/{meeting}/holders/{holder}/postal-form.pdf`: one holder's
/// postal voting form, for the secretary and for that holder.
pub(crate) async fn postal_form(
    Call(state, principal, runtime): Call,
    PathParams(MeetingHolderPath { meeting, holder }): PathParams<MeetingHolderPath>,
) -> Result<Response, Problem> {
    let papers = papers(&runtime, &meeting).await?;
    if !papers.convenable.contains(&holder) {
        return Err(Problem::not_found(format!(
            "{holder} is not convened to meeting {meeting:?}"
        )));
    }
    let names = match state.vault() {
        Ok(vault) => {
            windledger_papers::persons::names(
                vault,
                &runtime,
                [holder.clone()],
                &reader(&principal, "postal voting form"),
            )
            .await?
        }
        Err(_) => Default::default(),
    };
    let bytes = postal_form_pdf(
        &papers.drawn,
        &papers.record,
        &holder,
        &papers.deadlines,
        &names,
    )
    .map_err(Problem::internal)?;
    let name = format!("{}-{meeting}-formulaire-{holder}.pdf", papers.drawn.ledger);
    Ok(file(bytes, "application/pdf", &name, &papers.drawn))
}

async fn signable(
    state: &AppState,
    runtime: &LedgerRuntime,
    principal: &Principal,
    meeting: &str,
) -> Result<meeting_papers::SignableMinutes, Problem> {
    let papers = papers(runtime, meeting).await?;
    meeting_papers::minutes(
        state.vault().ok(),
        runtime,
        &papers,
        &reader(principal, "minutes"),
    )
    .await?
    .ok_or_else(|| {
        Problem::not_found(format!(
            "the minutes of meeting {meeting:?} are not recorded yet (after the close, POST /minutes)"
        ))
    })
}

/// `GET /meetings/{meeting}/minutes.pdf`: the minutes (R225-106), once
/// their words are recorded, with their SHA-256 in `Document-Sha256`.
pub(crate) async fn minutes(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
) -> Result<Response, Problem> {
    let minutes = signable(&state, &runtime, &principal, &meeting).await?;
    let name = format!("{}-{meeting}-proces-verbal.pdf", minutes.drawn.ledger);
    let mut response = file(minutes.pdf, "application/pdf", &name, &minutes.drawn);
    if let Ok(v) = HeaderValue::from_str(&minutes.sha256) {
        response.headers_mut().insert(DOCUMENT_SHA256, v);
    }
    Ok(response)
}

/// `POST /meetings/{meeting}/minutes/signatures`: an officer's signature
/// of the minutes as the server draws them. A handwritten signature is
/// attested by the secretary only.
pub(crate) async fn sign_minutes(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
    Body(Signing { officer, signature }): Body<Signing>,
) -> Result<Response, Problem> {
    let officer = match (principal.role, officer, principal.holder.clone()) {
        (Role::Secretary, Some(officer), _) => officer,
        (Role::Secretary, None, _) => {
            return Err(Problem::validation("name the \"officer\" who signs"));
        }
        (_, given, Some(own)) if given.as_ref().is_none_or(|g| g == &own) => own,
        _ => {
            return Err(Problem::forbidden(
                "a token signs the minutes as its own holder only",
            ));
        }
    };
    if principal.role != Role::Secretary && signature == OfficerSignature::Handwritten {
        return Err(Problem::forbidden(
            "only the secretary attests a handwritten signature",
        ));
    }
    let minutes = signable(&state, &runtime, &principal, &meeting).await?;
    let command = Command::Meeting(MeetingCommand::SignMinutes {
        officer,
        document_sha256: minutes.sha256,
        signature,
        at: chrono::Utc::now(),
    });
    let receipts = runtime
        .execute(&meeting, command, crate::identity::metadata(&principal))
        .await?;
    let answer = Recorded {
        stream: format!("meeting/{meeting}"),
        receipts: receipts.into_iter().map(Into::into).collect(),
    };
    Ok((StatusCode::CREATED, answers::json(&answer)?).into_response())
}
