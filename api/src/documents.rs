//! The legal documents as files (`windledger-documents`): the register of
//! share movements as PDF/A or CSV, for the secretary and the municipality;
//! a holder's individual account and certificate of holding as PDF/A, for
//! that holder and the secretary. Drawn from the projections once they show
//! the ledger's head; the position and head hash they were drawn from are
//! in the `Ledger-Position` and `Ledger-Head` headers and in the document.
//!
//! Names come from the identity vault at printing time, for the secretary
//! (every holder) and for a shareholder (their own documents), each read
//! logged; the municipality, and a server without the vault's key, get the
//! pseudonymous ids.

use std::collections::BTreeMap;

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Deserialize;
use windledger_app::ledger::LedgerRuntime;
use windledger_documents::meeting::{attendance_pdf, named_on_sheet};
use windledger_documents::register::{account_pdf, certificate_pdf, register_csv, register_pdf};
use windledger_documents::{DocumentError, Drawn, Person};
use windledger_domain::types::HolderId;
use windledger_papers::meeting_papers::meeting_drawn;
use windledger_projections::share_register::RegisterEntry;

use crate::AppState;
use crate::auth::{Principal, Role};
use crate::extract::{Call, HolderPath, MeetingPath, PathParams, QueryParams};
use crate::problem::Problem;
use crate::reads::projected;

/// The position the document was drawn at.
pub const POSITION_HEADER: HeaderName = HeaderName::from_static("ledger-position");
/// The hash of the event at that position.
pub const HEAD_HEADER: HeaderName = HeaderName::from_static("ledger-head");

/// Which date a register or an account is at.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DocumentQuery {
    /// The movements effective up to the end of this date (default: every
    /// movement recorded).
    as_of: Option<NaiveDate>,
}

/// The date a certificate certifies.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertificateQuery {
    /// The holding at the end of this date (default: the date of the last
    /// movement recorded).
    at: Option<NaiveDate>,
}

fn no_company() -> Problem {
    Problem::not_found("this ledger has no company yet")
}

fn rendered(bytes: Result<Vec<u8>, DocumentError>) -> Result<Vec<u8>, Problem> {
    bytes.map_err(Problem::internal)
}

/// A file answer with its media type, name and the ledger position.
pub(crate) fn file(
    bytes: Vec<u8>,
    media_type: &'static str,
    name: &str,
    drawn: &Drawn,
) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(POSITION_HEADER, HeaderValue::from(drawn.position));
    if let Ok(v) = HeaderValue::from_str(&drawn.head.to_hex()) {
        headers.insert(HEAD_HEADER, v);
    }
    response
}

/// Who the `holders` a document names are, as `principal` may see them:
/// the secretary, and a shareholder for documents about them alone, read
/// them from the vault (each read logged); anyone else, or a server
/// without the vault, gets an empty directory (the document shows ids).
async fn people(
    state: &AppState,
    runtime: &LedgerRuntime,
    principal: &Principal,
    holders: Vec<HolderId>,
) -> Result<BTreeMap<HolderId, Person>, Problem> {
    let allowed = match principal.role {
        Role::Secretary => true,
        Role::Shareholder => holders.iter().all(|h| principal.holder.as_ref() == Some(h)),
        _ => false,
    };
    let Some(vault) = state.vault().ok().filter(|_| allowed) else {
        return Ok(BTreeMap::new());
    };
    let reader = crate::identity::reader(principal, "printed on a document");
    Ok(windledger_papers::persons::names(vault, runtime, holders, &reader).await?)
}

/// The holders a register's entries name, once each.
fn named_in(entries: &[RegisterEntry]) -> Vec<HolderId> {
    let mut holders: Vec<HolderId> = entries
        .iter()
        .flat_map(|e| [e.transferor.clone(), e.transferee.clone()])
        .flatten()
        .collect();
    holders.sort();
    holders.dedup();
    holders
}

/// The register's state: where it is drawn from and its entries, copied
/// out of the projections so the document is rendered without holding
/// them, and the people they name as `principal` may see them.
async fn register_state(
    state: &AppState,
    principal: &Principal,
    runtime: &LedgerRuntime,
    as_of: Option<NaiveDate>,
) -> Result<(Drawn, Vec<RegisterEntry>, BTreeMap<HolderId, Person>), Problem> {
    let (drawn, entries) = register_entries(runtime, as_of).await?;
    let names = people(state, runtime, principal, named_in(&entries)).await?;
    Ok((drawn, entries, names))
}

async fn register_entries(
    runtime: &LedgerRuntime,
    as_of: Option<NaiveDate>,
) -> Result<(Drawn, Vec<RegisterEntry>), Problem> {
    let id = runtime.id.to_string();
    projected(runtime, |p| {
        let drawn = Drawn::of(p, &id, as_of)?;
        let entries = p
            .share_register
            .fold()
            .entries_as_of(drawn.as_of())
            .to_vec();
        Some((drawn, entries))
    })
    .await?
    .ok_or_else(no_company)
}

/// Renders away from the runtime's threads: a large farm's register takes
/// a while.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(Problem::internal)?
}

/// `GET /share-register.pdf` and, `CSV`, `/share-register.csv`: the
/// register of share movements as of `q.as_of`.
pub(crate) async fn register<const CSV: bool>(
    Call(state, principal, runtime): Call,
    QueryParams(q): QueryParams<DocumentQuery>,
) -> Result<Response, Problem> {
    let (drawn, entries, names) = register_state(&state, &principal, &runtime, q.as_of).await?;
    let (bytes, extension, content_type) = if CSV {
        let bytes = blocking(move || Ok(register_csv(&entries, &names))).await?;
        (bytes, "csv", "text/csv; charset=utf-8")
    } else {
        let drawn = drawn.clone();
        let bytes = blocking(move || rendered(register_pdf(&drawn, &entries, &names))).await?;
        (bytes, "pdf", "application/pdf")
    };
    let name = format!(
        "{}-registre-des-mouvements-{}.{extension}",
        drawn.ledger, drawn.date
    );
    Ok(file(bytes, content_type, &name, &drawn))
}

pub(crate) async fn account(
    Call(state, principal, runtime): Call,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
    QueryParams(q): QueryParams<DocumentQuery>,
) -> Result<Response, Problem> {
    let names = people(&state, &runtime, &principal, vec![holder.clone()]).await?;
    let id = runtime.id.to_string();
    let (drawn, bytes) = projected(&runtime, |p| {
        let drawn = Drawn::of(p, &id, q.as_of).ok_or_else(no_company)?;
        let account = p
            .share_register
            .fold()
            .account(&holder, drawn.as_of())
            .ok_or_else(|| Problem::not_found(format!("no movement names {holder}")))?;
        let bytes = rendered(account_pdf(&drawn, &account, &names))?;
        Ok::<_, Problem>((drawn, bytes))
    })
    .await??;
    let name = format!("{}-compte-{holder}-{}.pdf", drawn.ledger, drawn.date);
    Ok(file(bytes, "application/pdf", &name, &drawn))
}

pub(crate) async fn certificate(
    Call(state, principal, runtime): Call,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
    QueryParams(q): QueryParams<CertificateQuery>,
) -> Result<Response, Problem> {
    let id = runtime.id.to_string();
    let (drawn, holdings) = projected(&runtime, |p| {
        if p.cap_table.fold().holder(&holder).is_none() {
            return Err(Problem::not_found(format!(
                "no holder {holder} in this ledger"
            )));
        }
        let drawn = Drawn::of(p, &id, q.at).ok_or_else(no_company)?;
        let holdings = p.share_register.fold().holdings_at(&holder, drawn.date);
        Ok((drawn, holdings))
    })
    .await??;
    // The holder is known to be in the ledger before their name is read.
    let names = people(&state, &runtime, &principal, vec![holder.clone()]).await?;
    let bytes = rendered(certificate_pdf(&drawn, &holder, &holdings, &names))?;
    let name = format!("{}-attestation-{holder}-{}.pdf", drawn.ledger, drawn.date);
    Ok(file(bytes, "application/pdf", &name, &drawn))
}

/// `GET /meetings/{meeting}/attendance.pdf`: the attendance sheet
/// (R225-95), once the meeting's voting was opened; names and domiciles
/// for the secretary, ids for the municipality.
pub(crate) async fn attendance(
    Call(state, principal, runtime): Call,
    PathParams(MeetingPath { meeting }): PathParams<MeetingPath>,
) -> Result<Response, Problem> {
    let id = runtime.id.to_string();
    let (drawn, record) = projected(&runtime, |p| {
        let record = p
            .register
            .fold()
            .meeting(&meeting)
            .cloned()
            .ok_or_else(|| Problem::not_found(format!("no meeting {meeting:?} in this ledger")))?;
        let drawn = meeting_drawn(p, &id, &record).ok_or_else(no_company)?;
        Ok::<_, Problem>((drawn, record))
    })
    .await??;
    let holders = named_on_sheet(&record);
    let names = people(&state, &runtime, &principal, holders).await?;
    let bytes = {
        let drawn = drawn.clone();
        blocking(move || attendance_pdf(&drawn, &record, &names).map_err(Problem::internal)).await?
    };
    let Some(bytes) = bytes else {
        return Err(Problem::not_found(format!(
            "the voting of meeting {meeting:?} is not open yet: the sheet lists who took part"
        )));
    };
    let name = format!("{}-feuille-de-presence-{meeting}.pdf", drawn.ledger);
    Ok(file(bytes, "application/pdf", &name, &drawn))
}
