//! Receipts of a holder's own events (issue 23, docs/transparency.md):
//! each share movement, dividend payment, interest credited and proxy is an
//! event of the ledger; `/parcs/{farm}/recus/{position}` shows its receipt
//! (its position and hash, and whether the proof that it is in the
//! transparency log checks against a checkpoint signed by the server and,
//! when the charter names witnesses, co-signed by enough of them), and
//! `.../recu.json` gives the receipt to keep and check offline. A holder
//! reads the receipts of their own events only; the auditors read any.
//! The ballots' receipts are the meeting's (`space::receipt`); both show
//! the proof through [`proof_section`].

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use maud::{Markup, html};
use windledger_api::auth::roles::AUDITORS;
use windledger_domain::types::HolderId;
use windledger_tlog::Receipt;

use crate::extract::{Farm, OnFarm, Params, SignedIn};
use crate::{PageResult, Web, WebError, format, projected};

/// `.../recus/{position}`.
#[derive(serde::Deserialize)]
pub struct PositionPath {
    pub position: u64,
}

/// The events of `holder` that have a receipt, by position: what each is.
fn own_events(
    p: &windledger_projections::runner::Projections,
    holder: &HolderId,
) -> BTreeMap<u64, String> {
    let mut events = BTreeMap::new();
    if let Some(s) = windledger_projections::statement::statement(p, holder) {
        for h in &s.holdings {
            events.insert(
                h.at.position,
                format!(
                    "Mouvement d'actions du {} : {} ({}{} actions)",
                    format::date(h.date),
                    format::movement(&h.movement),
                    if h.delta > 0 { "+" } else { "" },
                    format::int(h.delta)
                ),
            );
        }
        for d in &s.dividends {
            if let Some(paid) = &d.paid {
                events.insert(
                    paid.position,
                    format!(
                        "Versement du dividende de l'exercice {} ({} net)",
                        d.year,
                        format::euros(d.net)
                    ),
                );
            }
        }
        for i in &s.interest {
            events.insert(
                i.at.position,
                format!(
                    "Intérêts {} de l'avance {} ({})",
                    i.year,
                    i.advance,
                    format::euros(i.interest)
                ),
            );
        }
        for b in &s.ballots {
            events.insert(
                b.receipt.position,
                format!("Bulletin de vote, assemblée {}", b.meeting),
            );
        }
    }
    let register = p.register.fold();
    for (id, meeting) in register.meetings() {
        for proxy in &meeting.proxies {
            if proxy.grantor != *holder && proxy.proxy != *holder {
                continue;
            }
            let what = format!(
                "Pouvoir de {} à {}, assemblée {}",
                proxy.grantor, proxy.proxy, id
            );
            events.insert(proxy.granted.position, what.clone());
            if let Some(revoked) = &proxy.revoked {
                events.insert(
                    revoked.position,
                    format!("Révocation du {}", lower_first(&what)),
                );
            }
        }
    }
    events
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

/// What the event at `position` is, if the visitor may read its receipt:
/// one of their own, or any for an auditor.
async fn readable(farm: &Farm, me: &SignedIn, position: u64) -> Result<String, WebError> {
    let principal = &me.session.principal;
    let auditor = AUDITORS.contains(&principal.role);
    let holder = principal.holder.clone();
    let (mine, size) = projected(&farm.runtime, move |p| {
        let size = p.tree.fold().log().size();
        (holder.map(|h| own_events(p, &h)), size)
    })
    .await?;
    if position == 0 || position > size {
        return Err(WebError::NotFound);
    }
    match mine.and_then(|m| m.get(&position).cloned()) {
        Some(what) => Ok(what),
        None if auditor => Ok("Événement du registre".to_owned()),
        None => Err(WebError::Forbidden(
            "Ce reçu n'est pas celui d'un de vos mouvements, versements, votes ou pouvoirs.".into(),
        )),
    }
}

/// `GET /parcs/{farm}/recus/{position}`.
pub async fn receipt(
    OnFarm(web, farm, me): OnFarm,
    Params(PositionPath { position }): Params<PositionPath>,
) -> PageResult {
    let what = readable(&farm, &me, position).await?;
    let kept = windledger_api::tlog::make_receipt(&web.app, &farm.runtime, position).await;
    let proof = proof_section(
        &web,
        &farm,
        kept.as_ref().ok(),
        "Cet événement",
        &format!("/recus/{position}/recu.json"),
    )
    .await;
    let hash = kept.as_ref().map(|k| k.hash.clone()).ok();
    let body = html! {
        h1 { "Reçu" }
        section.card aria-labelledby="recu" {
            h2 #recu { (what) }
            dl {
                dt { "Position dans le registre" } dd { strong { (format::int(position)) } }
                @if let Some(hash) = &hash {
                    dt { "Empreinte de l'événement (SHA-256)" } dd { code.hash #empreinte { (hash) } }
                }
            }
        }
        (proof)
        p { a href=(farm.path("/espace")) { "Mon espace" } }
    };
    farm.page(StatusCode::OK, "Reçu", me.shown(), body)
}

/// `GET /parcs/{farm}/recus/{position}/recu.json`.
pub async fn receipt_file(
    OnFarm(web, farm, me): OnFarm,
    Params(PositionPath { position }): Params<PositionPath>,
) -> PageResult {
    readable(&farm, &me, position).await?;
    let kept = windledger_api::tlog::make_receipt(&web.app, &farm.runtime, position).await?;
    download(&kept, &format!("recu-{}-{position}.json", farm.id))
}

/// A receipt as a JSON file to keep, named `name`.
pub fn download(kept: &Receipt, name: &str) -> PageResult {
    let json = serde_json::to_vec_pretty(kept).map_err(|_| WebError::Internal)?;
    Ok(crate::layout::download(json, "application/json", name))
}

/// `GET /parcs/{farm}/assemblees/{meeting}/liste/recu.json`: the receipt
/// of the event that opened the meeting's vote, which holds its roll (the
/// list of voters, their colleges and votes, as of the record date), with
/// the event itself: a member recomputes its hash, finds it in the
/// transparency log, and reads their own line
/// (`windledger verify-receipt liste.json --key ... --holder ...`).
pub async fn roll_receipt_file(
    State(web): State<Web>,
    farm: Farm,
    _me: SignedIn,
    Params(crate::extract::MeetingPath { meeting }): Params<crate::extract::MeetingPath>,
) -> PageResult {
    let position = projected(&farm.runtime, |p| {
        p.register
            .fold()
            .meeting(&meeting)
            .and_then(|m| m.roll.as_ref())
            .map(|r| r.at.position)
    })
    .await?
    .ok_or(WebError::NotFound)?;
    let mut kept = windledger_api::tlog::make_receipt(&web.app, &farm.runtime, position).await?;
    let event = farm
        .runtime
        .store
        .read_ledger(&farm.runtime.id, position - 1, 1)
        .await?
        .into_iter()
        .next()
        .ok_or(WebError::NotFound)?;
    kept.event = Some(serde_json::to_value(&event).map_err(|_| WebError::Internal)?);
    download(&kept, &format!("liste-{}-{meeting}.json", farm.id))
}

/// The proof's section of a receipt page: the receipt checked here as
/// `windledger verify-receipt` does (the server's signature, the proof
/// and, when the charter names witnesses, their co-signatures under its
/// quorum), the command to check it offline, and the file to keep
/// (`download`, under the farm's path). `kept` is `None` when no
/// checkpoint could be had (the witnesses have not co-signed).
/// `subject` names the event in the sentence ("Votre bulletin").
pub async fn proof_section(
    web: &Web,
    farm: &Farm,
    kept: Option<&Receipt>,
    subject: &str,
    download: &str,
) -> Markup {
    let verifier = web.app.signer.verifier();
    let policy = windledger_api::witnessing::charter_policy(&farm.runtime)
        .await
        .ok()
        .flatten();
    let checked = kept.and_then(|k| {
        let text = verifier.open(&k.checkpoint).ok()?;
        k.verify(text).ok()
    });
    let witnessed = match (&policy, kept) {
        (Some(policy), Some(k)) => Some(policy.check(&k.checkpoint)),
        _ => None,
    };
    let command = {
        let mut c = format!("windledger verify-receipt recu.json --key {verifier}");
        if let Some(policy) = &policy {
            for w in &policy.witnesses {
                c.push_str(&format!(" --witness {w}"));
            }
            c.push_str(&format!(" --quorum {}", policy.quorum));
        }
        c
    };
    html! {
        section.card aria-labelledby="preuve" {
            h2 #preuve { "Preuve d'inclusion" }
            @match (&checked, &witnessed) {
                (Some(v), Some(Ok(names))) => p {
                    span.badge.ok { "vérifié" } " " (subject) " (position " (format::int(v.position)) ") figure dans le journal de transparence du registre, "
                    "arbre de " (format::int(v.size)) " événements dont le point de contrôle est signé par la clé " code { (verifier.name()) }
                    " et cosigné par " (format::int(names.len() as u64)) " témoins (" (names.join(", ")) "), comme les statuts l'exigent."
                },
                (Some(_), Some(Err(_))) => p {
                    span.badge.neutral { "non vérifié" } " Le point de contrôle n'est pas cosigné par assez de témoins : signalez-le au secrétariat et à la mairie."
                },
                (Some(v), None) => p {
                    span.badge.ok { "vérifié" } " " (subject) " (position " (format::int(v.position)) ") figure dans le journal de transparence du registre, "
                    "arbre de " (format::int(v.size)) " événements dont le point de contrôle est signé par la clé " code { (verifier.name()) } "."
                },
                (None, _) if kept.is_none() => p {
                    span.badge.neutral { "preuve indisponible" } " Les témoins n'ont pas encore cosigné un point de contrôle qui inclut cet événement : réessayez dans quelques instants ; si cela dure, signalez-le au secrétariat."
                },
                (None, _) => p { span.badge.neutral { "non vérifié" } " La preuve n'a pas pu être vérifiée : signalez-le au secrétariat." },
            }
            @if kept.is_some() {
                p {
                    "Téléchargez le reçu : il contient l'empreinte de l'événement, le point de contrôle signé et la preuve qu'il l'inclut. "
                    "Vous pouvez le vérifier vous-même, sans le serveur, avec la commande "
                    code { (command) }
                    " ; un point de contrôle ultérieur prouve ensuite que le registre prolonge celui-ci sans l'avoir réécrit."
                }
                p {
                    a href=(farm.path(download)) download { "Télécharger le reçu (JSON)" }
                    " · " a href="/verifier-recu" { "Le vérifier dans votre navigateur" }
                }
            }
        }
    }
}

/// The in-browser check's script (`verifier.js`): the one script of the
/// pages (docs/web.md, "The one script").
const VERIFIER_JS: &str = include_str!("verifier.js");

/// The Content-Security-Policy of `/verifier-recu`: its own script only,
/// and no connection at all, so the check sends the receipt nowhere.
const VERIFIER_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// `GET /verifier-recu.js`.
pub async fn verifier_script() -> axum::response::Response {
    use axum::response::IntoResponse;
    let headers = [
        (
            axum::http::header::CONTENT_TYPE,
            "text/javascript; charset=utf-8",
        ),
        (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
    ];
    (headers, VERIFIER_JS).into_response()
}

/// `GET /verifier-recu`: a receipt checked in the visitor's own browser,
/// with the keys they give, without the server's word for it.
pub async fn verifier(visitor: crate::extract::Visitor) -> axum::response::Response {
    let body = html! {
        h1 { "Vérifier un reçu dans votre navigateur" }
        p.lead {
            "Choisissez un reçu (le fichier « recu.json » d'un vote, d'un mouvement, d'un versement ou d'une liste d'émargement) "
            "et donnez la clé publique du registre, telle que la société la publie, et, si les statuts nomment des témoins, leurs clés. "
            "Votre navigateur vérifie alors lui-même, avec ses propres fonctions SHA-256 et Ed25519 : la signature du point de contrôle, "
            "les cosignatures des témoins et la preuve que l'événement figure dans le journal. Le reçu ne quitte pas votre ordinateur."
        }
        noscript {
            p { "Cette vérification a besoin de JavaScript. Sans lui, vérifiez le reçu avec la commande " code { "windledger verify-receipt recu.json --key …" } "." }
        }
        form #verifier.card {
            p {
                label for="recu" { "Reçu (fichier JSON)" }
                br;
                input #recu type="file" name="recu" accept="application/json,.json" required;
            }
            p {
                label for="cle" { "Clé publique du registre" }
                br;
                input #cle type="text" name="cle" required spellcheck="false" autocomplete="off";
            }
            p {
                label for="temoins" { "Clés des témoins (une par ligne ; facultatif)" }
                br;
                textarea #temoins name="temoins" rows="3" spellcheck="false" {}
            }
            p {
                label for="quorum" { "Nombre de cosignatures exigé par les statuts" }
                br;
                input #quorum type="number" name="quorum" min="1" max="20" inputmode="numeric";
            }
            p { button type="submit" { "Vérifier" } }
        }
        p role="status" aria-live="polite" { span #resultat {} }
        script src="/verifier-recu.js" defer {}
    };
    let chrome = crate::layout::Chrome::new("Vérifier un reçu", visitor.shown());
    let mut response =
        crate::layout::html_response(StatusCode::OK, crate::layout::page(chrome, body));
    response.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(VERIFIER_CSP),
    );
    response
}
