//! The words of the legal documents: the register of share movements
//! (registre des mouvements de titres), the individual accounts and the
//! certificates of holding. Words only: `windledger-documents` lays them
//! out.

use chrono::NaiveDate;
use windledger_projections::share_register::{Nature, SupportingAct};

use crate::format;

pub const REGISTER_TITLE: &str = "Registre des mouvements de titres";
pub const ACCOUNT_TITLE: &str = "Compte individuel d'actionnaire";
pub const CERTIFICATE_TITLE: &str = "Attestation d'inscription en compte";

/// The law the register follows, as the documents cite it.
pub const REGISTER_LAW: &str = "Tenu en application des articles L228-1 et R228-8 du Code de commerce, sur un dispositif d'enregistrement électronique partagé (articles L211-3 et R211-9-7 du Code monétaire et financier).";

/// The columns of the register, in order (the PDF's and the CSV's).
pub const REGISTER_COLUMNS: [&str; 11] = [
    "N°",
    "Date",
    "Nature",
    "Catégorie",
    "Nombre",
    "Cédant",
    "Cessionnaire",
    "Prix unitaire",
    "Montant",
    "Acte",
    "Événement",
];

/// The columns of an individual account.
pub const ACCOUNT_COLUMNS: [&str; 8] = [
    "N°",
    "Date",
    "Nature",
    "Catégorie",
    "Contrepartie",
    "Mouvement",
    "Solde",
    "Acte",
];

/// The columns of the register's CSV file (machine names, as the other
/// files: `registre.csv` of the pages).
pub const REGISTER_CSV_COLUMNS: [&str; 17] = [
    "numero",
    "date",
    "nature",
    "categorie",
    "nombre",
    "cedant_id",
    "cedant",
    "cessionnaire_id",
    "cessionnaire",
    "prix_unitaire",
    "montant",
    "acte",
    "resolution",
    "type_de_decision",
    "date_de_la_decision",
    "position",
    "empreinte",
];

/// The company itself as a party: the issuer of new shares, the buyer of
/// repurchased ones.
pub const THE_COMPANY: &str = "La société";

pub fn nature(n: Nature) -> &'static str {
    match n {
        Nature::Subscription => "Souscription à la constitution",
        Nature::Issue => "Émission (augmentation de capital)",
        Nature::Transfer => "Cession",
        Nature::Repurchase => "Rachat par la société",
        Nature::TreasuryCancellation => "Annulation d'actions auto-détenues",
        Nature::Cancellation => "Annulation",
    }
}

/// The act behind an entry, in one line.
pub fn act(act: &SupportingAct) -> String {
    match act {
        SupportingAct::Incorporation => "Statuts constitutifs".to_owned(),
        SupportingAct::TransferOrder => "Ordre de mouvement".to_owned(),
        SupportingAct::Resolution(r) => format!(
            "Résolution {} ({}, {})",
            r.id,
            format::decision_kind(r.decision_kind.as_str()),
            numeric_date(r.adopted_on)
        ),
    }
}

/// `02/05/2013`.
pub fn numeric_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Where a document comes from: the ledger, its position and head hash,
/// and the date the document is at.
pub fn drawn_from(ledger: &str, position: u64, head: &str, date: NaiveDate) -> String {
    format!(
        "État au {}, établi à partir du registre « {ledger} » à la position {} (empreinte de tête {head}).",
        format::date(date),
        format::int(position),
    )
}

/// `Page 3 / 12`.
pub fn page(n: usize, of: usize) -> String {
    format!("Page {n} / {of}")
}

/// A holder shown by their pseudonymous id only (no identity, or erased).
pub fn pseudonym(id: &str) -> String {
    format!("Actionnaire {id}")
}

/// `120 actions de catégorie ord`.
pub fn shares_of_class(count: u64, class: &str) -> String {
    format!(
        "{} action{} de catégorie {class}",
        format::int(count),
        if count > 1 { "s" } else { "" }
    )
}

/// The certificate's sentence: `company` certifies that `holder` is
/// entered in its accounts at `date` for what follows.
pub fn certifies(company: &str, holder: &str, date: NaiveDate, holds: bool) -> String {
    if holds {
        format!(
            "{company} certifie que {holder} est inscrit dans ses comptes de titres au {}, pour :",
            format::date(date)
        )
    } else {
        format!(
            "{company} certifie que {holder} n'est inscrit pour aucune action dans ses comptes de titres au {}.",
            format::date(date)
        )
    }
}

pub const ACCOUNT_BALANCE: &str = "Solde par catégorie";
pub const NO_MOVEMENT: &str = "Aucun mouvement à cette date.";
pub const HOLDER_ID: &str = "Identifiant";

pub const ATTENDANCE_TITLE: &str = "Feuille de présence";
pub const ATTENDANCE_LAW: &str = "Établie en application de l'article R225-95 du Code de commerce (repris par les statuts) : chaque associé présent, représenté ou ayant voté par correspondance, ses actions et ses voix, et les pouvoirs annexés.";
pub const ATTENDANCE_COLUMNS: [&str; 7] = [
    "Associé",
    "Domicile",
    "Collège",
    "Actions",
    "Voix",
    "Participation",
    "Bulletin reçu",
];
pub const ATTENDANCE_PROXIES: &str = "Pouvoirs annexés";
pub const ATTENDANCE_NO_PROXY: &str = "Aucun pouvoir en vigueur.";
pub const ATTENDANCE_NOBODY: &str = "Aucun associé n'a participé au vote.";
pub const ATTENDANCE_CERTIFIED: &str = "Certifiée exacte par le bureau de l'assemblée :";
pub const ATTENDANCE_OFFICERS: [&str; 3] = [
    "Le président de séance : ……………………………………",
    "Les scrutateurs : ……………………………………   ……………………………………",
    "Le secrétaire de séance : ……………………………………",
];

/// The meeting a sheet is of: `Assemblée générale ordinaire ago-2025, vote
/// du ... au ...`.
pub fn attendance_of(kind: &str, meeting: &str, opens: &str, closes: &str) -> String {
    format!("{kind} {meeting}, vote ouvert du {opens} au {closes}.")
}

/// How a voter took part: in person (online), by proxy, or by post.
pub fn participation(postal: bool, represented_by: Option<&str>) -> String {
    match (postal, represented_by) {
        (true, _) => "vote par correspondance".to_owned(),
        (false, Some(proxy)) => format!("représenté par {proxy}"),
        (false, None) => "présent (vote en ligne)".to_owned(),
    }
}

/// A college's line of totals.
pub fn attendance_total(
    college: &str,
    voters: usize,
    of: usize,
    shares: u64,
    votes: u64,
    roll: u64,
) -> String {
    format!(
        "Collège {college} : {} participant{} sur {} inscrit{}, {} action{}, {} voix sur {}.",
        format::int(voters as u64),
        if voters > 1 { "s" } else { "" },
        format::int(of as u64),
        if of > 1 { "s" } else { "" },
        format::int(shares),
        if shares > 1 { "s" } else { "" },
        format::int(votes),
        format::int(roll)
    )
}

/// `cit-084 a donné pouvoir à cit-056`.
pub fn proxy_line(grantor: &str, proxy: &str) -> String {
    format!("{grantor} a donné pouvoir à {proxy}.")
}

/// The officers' lines when the bureau is recorded: each named, with room
/// to sign.
pub fn attendance_bureau(chair: &str, scrutineers: &[String], secretary: &str) -> Vec<String> {
    let mut lines = vec![format!("Le président de séance, {chair} : ……………………")];
    for s in scrutineers {
        lines.push(format!("Scrutateur, {s} : ……………………"));
    }
    lines.push(format!("Le secrétaire de séance, {secretary} : ……………………"));
    lines
}
