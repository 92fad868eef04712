//! The ledger's events in words, for the event log: what each says in one
//! French sentence, the date it takes effect (a movement's, a month's, a
//! meeting's), and the French name of each event type and stream kind.

use windledger_domain::budgeting::Method;
use windledger_domain::budgeting::fund::FundEvent;
use windledger_domain::budgeting::round::RoundEvent;
use windledger_domain::company::CompanyEvent;
use windledger_domain::finance::{
    AdvanceEvent, FinancialYearCommand, FinancialYearEvent, WithholdingStatus,
};
use windledger_domain::meeting::{ConvocationChannel, MeetingEvent, OfficerSignature};
use windledger_domain::types::{ShareClassId, ShareCount};
use windledger_projections::event::FarmEvent;

use crate::format::{
    date, datetime, euros, int, meeting_kind, month, plural, revenue_kind, to_paris,
};

/// Every event type the domain writes, with its French name, in the order
/// of the streams (company, meetings, financial years, advances).
pub const EVENT_TYPES: [(&str, &str); 58] = [
    ("CompanyIncorporated", "Constitution de la société"),
    ("CharterAmended", "Modification des statuts"),
    ("ShareholderAdmitted", "Admission d'un associé"),
    ("ShareholderCollegeChanged", "Changement de collège"),
    ("ShareholderResidenceChanged", "Changement de commune"),
    ("ClubMembersChanged", "Membres d'un club d'investisseurs"),
    ("ShareholderExited", "Sortie d'un associé"),
    ("SharesIssued", "Émission d'actions"),
    ("SharesTransferred", "Cession d'actions"),
    ("SharesRepurchased", "Rachat d'actions"),
    ("SharesCancelled", "Annulation d'actions"),
    ("PlacesNamed", "Noms des lieux"),
    ("TurbineAdded", "Éolienne ajoutée"),
    ("TurbineCommissioned", "Mise en service d'une éolienne"),
    ("TurbineRepowered", "Renouvellement d'une éolienne"),
    ("TurbineDecommissioned", "Démantèlement d'une éolienne"),
    ("IdentityRecorded", "Identité enregistrée"),
    ("IdentityErased", "Identité effacée"),
    ("MeetingConvened", "Convocation d'une assemblée"),
    ("VotingOpened", "Ouverture du vote"),
    ("ProxyGranted", "Pouvoir donné"),
    ("ProxyRevoked", "Pouvoir retiré"),
    ("BallotCast", "Bulletin de vote"),
    ("MeetingClosed", "Clôture d'une assemblée"),
    ("BureauConstituted", "Bureau d'une assemblée"),
    ("PostalFormKeptLate", "Formulaire de vote reçu hors délai"),
    ("ConvocationsSent", "Convocations envoyées"),
    ("MinutesRecorded", "Procès-verbal d'une assemblée"),
    ("MinutesSigned", "Signature du procès-verbal"),
    ("YearOpened", "Ouverture d'un exercice"),
    ("ProductionReported", "Production déclarée"),
    ("RevenueRecorded", "Recette enregistrée"),
    ("CostRecorded", "Charge enregistrée"),
    ("IferAssessed", "IFER"),
    ("LocalTaxRecorded", "Impôt local"),
    ("AccountsApproved", "Approbation des comptes"),
    ("ResultAppropriated", "Affectation du résultat"),
    ("DividendDeclared", "Dividende décidé"),
    ("DividendPaid", "Dividende versé"),
    ("WithholdingDecided", "Retenue d'un non-résident décidée"),
    ("AdvanceGranted", "Avance en compte courant"),
    ("AdvanceRepaid", "Remboursement d'avance"),
    ("InterestAccrued", "Intérêts d'avance"),
    (
        "InterestWithholdingDecided",
        "Retenue sur intérêts d'un non-résident décidée",
    ),
    ("InterestPaid", "Intérêts versés"),
    ("RoundConvened", "Budget participatif convoqué"),
    ("ProposalSubmitted", "Projet déposé"),
    ("ProposalReviewed", "Recevabilité d'un projet"),
    ("BudgetBallotCast", "Vote d'un habitant"),
    ("RoundTallied", "Dépouillement d'un budget participatif"),
    ("ResidentRegistered", "Habitant inscrit"),
    ("ResidentMoved", "Habitant changeant de commune"),
    ("ResidentRemoved", "Habitant désinscrit"),
    (
        "ResidentIdentityRecorded",
        "Identité d'un habitant corrigée",
    ),
    ("FundFed", "Alimentation du fonds de territoire"),
    ("GrantReceived", "Subvention reçue par le fonds"),
    ("RoundCommitted", "Projets engagés par le fonds"),
    ("ProjectPaid", "Paiement d'un projet du fonds"),
];

/// The kinds of stream, by the prefix of their ids, with their French name.
pub const STREAM_KINDS: [(&str, &str); 6] = [
    ("company", "La société"),
    ("meeting", "Les assemblées"),
    ("financial-year", "Les exercices"),
    ("current-account-advance", "Les avances en compte courant"),
    ("budgeting-round", "Les budgets participatifs"),
    ("territory-fund", "Le fonds de territoire"),
];

/// The French name of an event type; the type itself if it is not the
/// domain's (a stream no projection reads).
pub fn type_name(event_type: &str) -> &str {
    EVENT_TYPES
        .iter()
        .find(|(t, _)| *t == event_type)
        .map_or(event_type, |(_, name)| name)
}

/// An event in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// One sentence: who, what, how much.
    pub summary: String,
    /// When it takes effect, as people say it ("1er mars 2024", "novembre
    /// 2025"); `None` where the event is its own date (its recording).
    pub effective: Option<String>,
}

fn said(summary: String, effective: Option<String>) -> Described {
    Described { summary, effective }
}

/// What `event` says, in French.
pub fn describe(event: &FarmEvent) -> Described {
    match event {
        FarmEvent::Company(e) => company(e),
        FarmEvent::Meeting { meeting, event } => meeting_event(meeting, event),
        FarmEvent::FinancialYear { year, event } => year_event(year, event),
        FarmEvent::Advance { advance, event } => advance_event(advance, event),
        FarmEvent::Round { round, event } => round_event(round, event),
        FarmEvent::Fund(event) => fund_event(event),
        FarmEvent::Other => said(
            "Événement d'un flux que le parc ne lit pas".to_owned(),
            None,
        ),
    }
}

fn company(e: &CompanyEvent) -> Described {
    use CompanyEvent as E;
    match e {
        E::Incorporated { company, charter } => said(
            format!(
                "Constitution de {} ({} éolienne{}, capital {}, {} collège{})",
                company.legal_name.as_str(),
                company.turbines.len(),
                plural(company.turbines.len()),
                euros(company.share_capital),
                charter.colleges.len(),
                plural(charter.colleges.len()),
            ),
            Some(date(company.formation_date)),
        ),
        E::CharterAmended {
            resolution,
            effective_date,
            ..
        } => said(
            format!("Statuts modifiés par la résolution {}", resolution.id),
            Some(date(*effective_date)),
        ),
        E::ShareholderAdmitted {
            holder,
            college,
            commune,
            effective_date,
            ..
        } => said(
            format!("Admission de {holder} au collège {college} (commune {commune})"),
            Some(date(*effective_date)),
        ),
        E::ShareholderCollegeChanged {
            holder,
            from,
            to,
            effective_date,
        } => said(
            format!("{holder} passe du collège {from} au collège {to}"),
            Some(date(*effective_date)),
        ),
        E::ShareholderResidenceChanged {
            holder,
            commune,
            effective_date,
        } => said(
            format!("{holder} réside désormais dans la commune {commune}"),
            Some(date(*effective_date)),
        ),
        E::ClubMembersChanged {
            holder,
            members,
            effective_date,
        } => said(
            format!(
                "Le club d'investisseurs {holder} compte désormais {} membre{}",
                crate::format::int(*members),
                crate::format::plural(*members as usize)
            ),
            Some(date(*effective_date)),
        ),
        E::ShareholderExited {
            holder,
            effective_date,
        } => said(format!("Sortie de {holder}"), Some(date(*effective_date))),
        E::SharesIssued {
            subscriptions,
            resolution,
            effective_date,
        } => {
            let shares: u64 = subscriptions.iter().map(|s| s.count.get()).sum();
            let n = subscriptions.len();
            let why = match resolution {
                None => " (souscription initiale)".to_owned(),
                Some(r) => format!(" (résolution {})", r.id),
            };
            said(
                format!(
                    "Émission de {} action{} pour {n} souscripteur{}{why}",
                    int(shares),
                    plural(shares as usize),
                    plural(n)
                ),
                Some(date(*effective_date)),
            )
        }
        E::SharesTransferred(t) => said(
            format!(
                "Cession de {} de {} à {}{}",
                shares(t.count, &t.class),
                t.from,
                t.to,
                t.price_per_share
                    .map_or(String::new(), |p| format!(", {} l'action", euros(p)))
            ),
            Some(date(t.effective_date)),
        ),
        E::SharesRepurchased {
            holder,
            class,
            count,
            price_per_share,
            effective_date,
            ..
        } => said(
            format!(
                "Rachat par la société de {} de {holder}, {} l'action",
                shares(*count, class),
                euros(*price_per_share)
            ),
            Some(date(*effective_date)),
        ),
        E::SharesCancelled {
            class,
            count,
            effective_date,
            ..
        } => said(
            format!("Annulation de {}", shares(*count, class)),
            Some(date(*effective_date)),
        ),
        E::TurbineAdded {
            turbine,
            commune,
            rated_power,
            resolution,
            effective_date,
        } => said(
            format!(
                "Ajout de l'éolienne {turbine} ({} kW, commune {commune}), décidé par la résolution {}",
                crate::format::int(rated_power.get()),
                resolution.id
            ),
            Some(date(*effective_date)),
        ),
        E::TurbineCommissioned {
            turbine,
            effective_date,
        } => said(
            format!("Mise en service de l'éolienne {turbine}"),
            Some(date(*effective_date)),
        ),
        E::TurbineRepowered {
            turbine,
            rated_power,
            resolution,
            effective_date,
        } => said(
            format!(
                "Renouvellement de l'éolienne {turbine}, remplacée par une machine de {} kW, décidé par la résolution {}",
                crate::format::int(rated_power.get()),
                resolution.id
            ),
            Some(date(*effective_date)),
        ),
        E::TurbineDecommissioned {
            turbine,
            resolution,
            effective_date,
        } => said(
            format!(
                "Démantèlement de l'éolienne {turbine}, décidé par la résolution {}",
                resolution.id
            ),
            Some(date(*effective_date)),
        ),
        E::PlacesNamed {
            places,
            effective_date,
        } => {
            let (c, e, d) = (
                places.communes.len(),
                places.epcis.len(),
                places.departements.len(),
            );
            said(
                format!(
                    "Noms de lieux enregistrés : {c} commune{}, {e} intercommunalité{}, {d} département{}",
                    plural(c),
                    plural(e),
                    plural(d)
                ),
                Some(date(*effective_date)),
            )
        }
        // The identity itself is in the vault, never in the ledger: the
        // sentence names the holder by id and the commitment's first digits.
        E::IdentityRecorded {
            holder,
            commitment,
            effective_date,
        } => said(
            format!(
                "Identité de {holder} enregistrée (empreinte {}…)",
                &commitment.as_str()[..12]
            ),
            Some(date(*effective_date)),
        ),
        E::IdentityErased {
            holder,
            effective_date,
        } => said(
            format!("Identité de {holder} effacée à l'expiration de la durée de conservation"),
            Some(date(*effective_date)),
        ),
    }
}

/// "12 actions ORD".
fn shares(count: ShareCount, class: &ShareClassId) -> String {
    let n = count.get();
    format!("{} action{} {class}", int(n), plural(n as usize))
}

fn meeting_event(meeting: &str, e: &MeetingEvent) -> Described {
    use MeetingEvent as E;
    let on = |at: &chrono::DateTime<chrono::Utc>| Some(date(to_paris(*at).date()));
    match e {
        E::MeetingConvened(c) => said(
            format!(
                "Convocation : {} {meeting}, {} résolution{}, vote du {} au {}",
                meeting_kind(c.kind),
                c.agenda.len(),
                plural(c.agenda.len()),
                date(to_paris(c.opens_at).date()),
                date(to_paris(c.closes_at).date()),
            ),
            Some(date(c.convened_on)),
        ),
        E::VotingOpened { roll, at } => said(
            format!(
                "Ouverture du vote de {meeting} : liste d'émargement de {} votant{}",
                roll.voters.len(),
                plural(roll.voters.len())
            ),
            on(at),
        ),
        E::BureauConstituted(b) => said(
            format!(
                "Bureau de {meeting} : {} préside, {} scrute{}, {} est secrétaire",
                b.chair,
                b.scrutineers
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" et "),
                if b.scrutineers.len() > 1 { "nt" } else { "" },
                b.secretary
            ),
            on(&b.at),
        ),
        E::ProxyGranted {
            grantor,
            proxy,
            at,
            paper,
            ..
        } => said(
            if *paper {
                format!("Pouvoir sur papier de {grantor} à {proxy} pour {meeting}, reçu")
            } else {
                format!("{grantor} donne pouvoir à {proxy} pour {meeting}")
            },
            on(at),
        ),
        E::ProxyRevoked {
            grantor, proxy, at, ..
        } => said(
            format!("{grantor} retire son pouvoir à {proxy} pour {meeting}"),
            on(at),
        ),
        E::BallotCast {
            voter,
            cast_by,
            replaces_earlier,
            at,
            postal,
            electronic,
            ..
        } => {
            let mut s = format!("Bulletin de {voter} pour {meeting}");
            if cast_by != voter {
                s.push_str(&format!(", déposé par son mandataire {cast_by}"));
            }
            if *postal {
                s.push_str(if *electronic {
                    " (vote par correspondance électronique)"
                } else {
                    " (vote par correspondance)"
                });
            }
            if *replaces_earlier {
                s.push_str(" ; il remplace le précédent");
            }
            said(s, on(at))
        }
        E::MeetingClosed { results, at } => {
            let adopted = results.iter().filter(|r| r.outcome.is_adopted()).count();
            let rejected = results.len() - adopted;
            said(
                format!(
                    "Clôture de {meeting} : {adopted} résolution{} adoptée{}, {rejected} rejetée{}",
                    plural(adopted),
                    plural(adopted),
                    plural(rejected)
                ),
                on(at),
            )
        }
        E::PostalFormKeptLate {
            voter,
            received_at,
            deadline,
            ..
        } => said(
            format!(
                "Formulaire de vote par correspondance de {voter} pour {meeting} reçu le {}, après la date limite du {} : conservé, non compté",
                datetime(*received_at),
                datetime(*deadline)
            ),
            on(received_at),
        ),
        E::ConvocationsSent {
            channel,
            sent_on,
            convocations,
        } => said(
            format!(
                "Convocation{} de {} associé{} à {meeting} envoyée{} {}",
                plural(convocations.len()),
                int(convocations.len() as u64),
                plural(convocations.len()),
                plural(convocations.len()),
                match channel {
                    ConvocationChannel::Email => "par courrier électronique",
                    ConvocationChannel::Post => "par lettre",
                }
            ),
            Some(date(*sent_on)),
        ),
        E::MinutesRecorded(m) => said(
            format!(
                "Procès-verbal de {meeting} établi ({} document{} présenté{})",
                m.documents_presented.len(),
                plural(m.documents_presented.len()),
                plural(m.documents_presented.len())
            ),
            on(&m.at),
        ),
        E::MinutesSigned {
            officer,
            signature,
            at,
            ..
        } => said(
            format!(
                "{officer} signe le procès-verbal de {meeting} {}",
                match signature {
                    OfficerSignature::Ed25519 { .. } => "(signature électronique Ed25519)",
                    OfficerSignature::Handwritten => "(signature manuscrite attestée)",
                }
            ),
            on(at),
        ),
    }
}

fn corrects(c: &Option<impl std::fmt::Display>) -> String {
    c.as_ref()
        .map_or(String::new(), |c| format!(" (corrige {c})"))
}

fn year_event(year: &str, e: &FinancialYearEvent) -> Described {
    use FinancialYearEvent as E;
    match e {
        E::YearOpened {
            starts_on, ends_on, ..
        } => said(
            format!(
                "Ouverture de l'exercice {year}, du {} au {}",
                date(*starts_on),
                date(*ends_on)
            ),
            Some(date(*starts_on)),
        ),
        E::ProductionReported {
            turbine,
            month: m,
            mwh,
            corrects: c,
            ..
        } => said(
            format!(
                "Production de l'éolienne {turbine} : {}{}",
                crate::format::mwh(*mwh, 3),
                corrects(c)
            ),
            Some(month(*m)),
        ),
        E::RevenueRecorded {
            month: m,
            kind,
            amount,
            corrects: c,
            ..
        } => said(
            format!(
                "Recette ({}) : {}{}",
                revenue_kind(*kind).to_lowercase(),
                euros(*amount),
                corrects(c)
            ),
            Some(month(*m)),
        ),
        E::CostRecorded {
            month: m,
            amount,
            corrects: c,
            ..
        } => said(
            format!("Charge : {}{}", euros(*amount), corrects(c)),
            Some(month(*m)),
        ),
        E::IferAssessed {
            tax_year,
            total,
            corrects: c,
            ..
        } => said(
            format!("IFER {tax_year} : {}{}", euros(*total), corrects(c)),
            None,
        ),
        E::LocalTaxRecorded {
            amount,
            corrects: c,
            ..
        } => said(
            format!("Impôt local : {}{}", euros(*amount), corrects(c)),
            None,
        ),
        E::AccountsApproved {
            resolution,
            net_result,
        } => said(
            format!(
                "Comptes de l'exercice {year} approuvés (résolution {}) : résultat {}",
                resolution.id,
                euros(*net_result)
            ),
            Some(date(resolution.adopted_on)),
        ),
        E::ResultAppropriated {
            resolution,
            dividend,
            ..
        } => said(
            format!(
                "Affectation du résultat de {year} (résolution {}) : {} de dividende",
                resolution.id,
                euros(*dividend)
            ),
            Some(date(resolution.adopted_on)),
        ),
        E::DividendDeclared {
            total,
            record_date,
            payment_date,
            allocations,
            ..
        } => said(
            format!(
                "Dividende de {year} : {} pour {} associé{}, payable le {}",
                euros(*total),
                allocations.len(),
                plural(allocations.len()),
                date(*payment_date)
            ),
            Some(date(*record_date)),
        ),
        E::DividendPaid {
            holder,
            amount,
            paid_on,
        } => said(
            format!("Dividende de {year} versé à {holder} : {}", euros(*amount)),
            Some(date(*paid_on)),
        ),
        E::WithholdingDecided {
            holder,
            income_tax,
            social_contributions,
            net,
        } => said(
            format!(
                "Dividende de {year} de {holder}, non-résident : retenue de {} d'impôt et {} de prélèvements sociaux, net à verser {}",
                euros(*income_tax),
                euros(*social_contributions),
                euros(*net)
            ),
            None,
        ),
    }
}

fn round_event(round: &str, e: &RoundEvent) -> Described {
    use RoundEvent as E;
    match e {
        E::RoundConvened {
            method,
            budget,
            communes,
            voting_open,
            voting_close,
            ..
        } => said(
            format!(
                "Budget participatif {round} convoqué : enveloppe {}, {} commune{}, {}, vote du {} au {}",
                euros(*budget),
                communes.len(),
                plural(communes.len()),
                match method {
                    Method::GreedyApproval => "projets retenus par nombre de voix",
                    Method::EqualShares => "méthode des parts égales",
                },
                datetime(*voting_open),
                datetime(*voting_close),
            ),
            None,
        ),
        E::ProposalSubmitted {
            proposal,
            title,
            cost,
            submitted_at,
            ..
        } => said(
            format!("Projet {proposal} déposé : « {title} », {}", euros(*cost)),
            Some(datetime(*submitted_at)),
        ),
        E::ProposalReviewed {
            proposal,
            eligible,
            reason,
            ..
        } => said(
            match (eligible, reason) {
                (true, _) => format!("Projet {proposal} jugé recevable"),
                (false, Some(reason)) => format!("Projet {proposal} jugé irrecevable : {reason}"),
                (false, None) => format!("Projet {proposal} jugé irrecevable"),
            },
            None,
        ),
        E::BallotCast {
            resident,
            approvals,
            cast_at,
            ..
        } => said(
            format!(
                "Vote de l'habitant {resident} : {} projet{} retenu{}",
                approvals.len(),
                plural(approvals.len()),
                plural(approvals.len())
            ),
            Some(datetime(*cast_at)),
        ),
        E::RoundTallied {
            ballots, outcome, ..
        } => said(
            format!(
                "Budget participatif {round} dépouillé : {ballots} bulletin{}, {} projet{} financé{} pour {}",
                plural(*ballots as usize),
                outcome.funded.len(),
                plural(outcome.funded.len()),
                plural(outcome.funded.len()),
                euros(outcome.spent)
            ),
            None,
        ),
    }
}

fn fund_event(e: &FundEvent) -> Described {
    use FundEvent as E;
    match e {
        E::ResidentRegistered {
            resident, commune, ..
        } => said(
            format!("Habitant {resident} inscrit (commune {commune})"),
            None,
        ),
        E::ResidentMoved { resident, commune } => said(
            format!("L'habitant {resident} vit désormais à {commune}"),
            None,
        ),
        E::ResidentRemoved { resident } => said(format!("Habitant {resident} désinscrit"), None),
        E::ResidentIdentityRecorded { resident, .. } => said(
            format!("Nouvelle version de l'identité de l'habitant {resident} (gardée au coffre)"),
            None,
        ),
        E::FundFed { year, amount, .. } => said(
            format!(
                "Exercice {year} : {} versés au fonds de territoire",
                euros(*amount)
            ),
            None,
        ),
        E::GrantReceived {
            grantor,
            amount,
            received_on,
        } => said(
            format!("Subvention de {grantor} au fonds : {}", euros(*amount)),
            Some(date(*received_on)),
        ),
        E::RoundCommitted {
            round,
            commitments,
            total,
        } => said(
            format!(
                "Budget participatif {round} : {} projet{} engagé{} pour {}",
                commitments.len(),
                plural(commitments.len()),
                plural(commitments.len()),
                euros(*total)
            ),
            None,
        ),
        E::ProjectPaid {
            proposal,
            amount,
            paid_on,
            outstanding,
            ..
        } => said(
            format!(
                "Paiement de {} au projet {proposal} ; reste dû {}",
                euros(*amount),
                euros(*outstanding)
            ),
            Some(date(*paid_on)),
        ),
    }
}

fn advance_event(advance: &str, e: &AdvanceEvent) -> Described {
    use AdvanceEvent as E;
    match e {
        E::AdvanceGranted {
            holder,
            amount,
            annual_rate,
            granted_on,
            ..
        } => said(
            format!(
                "Avance en compte courant {advance} de {holder} : {} au taux annuel de {}",
                euros(*amount),
                crate::format::percent(*annual_rate, 2)
            ),
            Some(date(*granted_on)),
        ),
        E::AdvanceRepaid {
            amount,
            repaid_on,
            outstanding,
        } => said(
            format!(
                "Remboursement de {} sur l'avance {advance} ; reste dû {}",
                euros(*amount),
                euros(*outstanding)
            ),
            Some(date(*repaid_on)),
        ),
        E::InterestAccrued {
            year,
            interest,
            accrued_on,
            withholding,
            ..
        } => said(
            match withholding {
                Some(w) if w.status == Some(WithholdingStatus::NonResident) => format!(
                    "Intérêts {year} de l'avance {advance} : {} ; prêteur non-résident, retenue à décider",
                    euros(*interest)
                ),
                Some(w) => format!(
                    "Intérêts {year} de l'avance {advance} : {} ; retenue de {} d'impôt et {} de prélèvements sociaux, net à verser {}",
                    euros(*interest),
                    euros(w.income_tax),
                    euros(w.social_contributions),
                    euros(w.net)
                ),
                None => format!(
                    "Intérêts {year} de l'avance {advance} : {}",
                    euros(*interest)
                ),
            },
            Some(date(*accrued_on)),
        ),
        E::WithholdingDecided {
            year,
            income_tax,
            social_contributions,
            net,
        } => said(
            format!(
                "Intérêts {year} de l'avance {advance}, prêteur non-résident : retenue de {} d'impôt et {} de prélèvements sociaux, net à verser {}",
                euros(*income_tax),
                euros(*social_contributions),
                euros(*net)
            ),
            None,
        ),
        E::InterestPaid {
            year,
            amount,
            paid_on,
        } => said(
            format!(
                "Intérêts {year} de l'avance {advance} versés : {}",
                euros(*amount)
            ),
            Some(date(*paid_on)),
        ),
    }
}

/// A report of the operator's in words, for the confirmation.
pub fn report(command: &FinancialYearCommand) -> String {
    match command {
        FinancialYearCommand::ReportProduction {
            turbine,
            month,
            mwh,
            ..
        } => format!(
            "production de {turbine} en {} : {}",
            crate::format::month(*month),
            crate::format::mwh(*mwh, 3)
        ),
        FinancialYearCommand::RecordRevenue {
            month,
            kind,
            volume_mwh,
            price_per_mwh,
            ..
        } => format!(
            "{} en {} : {} à {} €/MWh",
            crate::format::revenue_kind(*kind),
            crate::format::month(*month),
            crate::format::mwh(*volume_mwh, 3),
            crate::format::decimal(*price_per_mwh, 2)
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_has_one_french_name() {
        let mut types: Vec<&str> = EVENT_TYPES.iter().map(|(t, _)| *t).collect();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), EVENT_TYPES.len(), "a type named twice");
        assert_eq!(type_name("BallotCast"), "Bulletin de vote");
        assert_eq!(type_name("SomethingElse"), "SomethingElse");
    }
}
