//! The words of the legal documents: the register of share movements
//! (registre des mouvements de titres), the individual accounts and the
//! certificates of holding; a meeting's attendance sheet, its minutes
//! (procès-verbal), the postal voting form and the convocation (e-mail and
//! letter). Words only: `windledger-documents` lays them out.

use chrono::{DateTime, NaiveDate, Utc};
use windledger_domain::charter::Majority;
use windledger_domain::meeting::{
    Call, ConvocationChannel, Fraction, MeetingKind, Outcome, ResolutionResult,
};
use windledger_domain::ratio::Ratio;
use windledger_projections::share_register::{Nature, SupportingAct};

use crate::format::{self, plural};
use crate::votes;

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

/// The words of a paper proxy in the attendance sheet's annex: `(pouvoir
/// papier reçu le 13 juin 2024 à 11 h 00)`.
pub fn paper_proxy(received_at: DateTime<Utc>) -> String {
    format!("(pouvoir papier reçu le {})", format::datetime(received_at))
}

pub const ATTENDANCE_LATE_FORMS: &str = "Formulaires reçus hors délai, conservés et non comptés";

/// A postal form received after the charter's deadline: who, when, how,
/// and the deadline it missed.
pub fn late_form(
    voter: &str,
    received_at: DateTime<Utc>,
    electronic: bool,
    deadline: DateTime<Utc>,
) -> String {
    format!(
        "{voter} : reçu le {} ({}), date limite {}.",
        format::datetime(received_at),
        if electronic {
            "par voie électronique"
        } else {
            "sur papier"
        },
        format::datetime(deadline)
    )
}

/// How a convocation was sent.
pub fn channel(channel: ConvocationChannel) -> &'static str {
    match channel {
        ConvocationChannel::Email => "par courrier électronique",
        ConvocationChannel::Post => "par lettre",
    }
}

/// A meeting's kind as the object of "convoquer" or "se réunir":
/// `à l'assemblée générale ordinaire`, `au conseil d'administration`.
pub fn to_meeting(kind: MeetingKind) -> &'static str {
    match kind {
        MeetingKind::OrdinaryGeneralMeeting => "à l'assemblée générale ordinaire",
        MeetingKind::ExtraordinaryGeneralMeeting => "à l'assemblée générale extraordinaire",
        MeetingKind::Board => "au conseil d'administration",
        MeetingKind::StrategicCommittee => "au comité stratégique",
    }
}

/// Who takes part: the associates of a general meeting, the members of a
/// board or committee.
fn participants_of(kind: MeetingKind) -> &'static str {
    if kind.is_general_meeting() {
        "associés"
    } else {
        "membres"
    }
}

/// `Résolution n° 2 (décision extraordinaire)`.
pub fn resolution_heading(number: usize, decision_kind: &str) -> String {
    format!(
        "Résolution n° {number} (décision {})",
        format::decision_kind(decision_kind)
    )
}

/// `première convocation`, `seconde convocation (première convocation : ago-2024)`.
pub fn call(call: &Call) -> String {
    match call {
        Call::First => "première convocation".to_owned(),
        Call::Second { first_call } => {
            format!("seconde convocation (première convocation : {first_call})")
        }
    }
}

/// A fraction as a percentage, `20,00 %`.
fn share(fraction: Option<&Fraction>) -> String {
    votes::percent(fraction)
}

fn ratio_percent(r: Ratio) -> String {
    share(Some(&Fraction::from_ratio(r)))
}

fn reached(yes: bool, feminine: bool) -> &'static str {
    match (yes, feminine) {
        (true, false) => "atteint",
        (false, false) => "non atteint",
        (true, true) => "atteinte",
        (false, true) => "non atteinte",
    }
}

// --- Le procès-verbal (R225-106). ---

pub const MINUTES_TITLE: &str = "Procès-verbal des délibérations";
pub const MINUTES_LAW: &str = "Établi en application de l'article R225-106 du Code de commerce (repris par les statuts) : date et lieu de la réunion, mode de convocation, ordre du jour, composition du bureau, actions participant au vote et quorum atteint, documents et rapports soumis à l'assemblée, résumé des débats, texte des résolutions mises aux voix et résultat des votes ; signé par les membres du bureau.";

pub const MINUTES_MEETING: &str = "1. La société et l'assemblée";
pub const MINUTES_CONVENING: &str = "2. Convocation";
pub const MINUTES_AGENDA: &str = "3. Ordre du jour";
pub const MINUTES_BUREAU: &str = "4. Bureau de l'assemblée";
pub const MINUTES_QUORUM: &str = "5. Participation et quorum";
pub const MINUTES_DOCUMENTS: &str = "6. Documents et rapports soumis à l'assemblée";
pub const MINUTES_DEBATES: &str = "7. Résumé des débats";
pub const MINUTES_RESULTS: &str = "8. Résolutions mises aux voix et résultat des votes";
pub const MINUTES_LATE_FORMS: &str = "9. Formulaires de vote par correspondance reçus hors délai";
pub const MINUTES_SIGNATURES: &str = "10. Signatures";

/// `Société : Ailes de Taillard SAS.`
pub fn minutes_company(company: &str) -> String {
    format!("Société : {company}.")
}

/// `Assemblée générale ordinaire ago-2024.`
pub fn minutes_meeting(kind: MeetingKind, meeting: &str) -> String {
    format!("{} {meeting}.", format::meeting_kind(kind))
}

/// Where and when: a meeting held at a distance, over its voting window.
pub fn minutes_held(
    kind: MeetingKind,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    closed_at: DateTime<Utc>,
) -> String {
    format!(
        "Réunion tenue à distance : les {} ont voté en ligne, par mandataire ou par correspondance, du {} au {} (heure de Paris). Le vote a été clos le {}.",
        participants_of(kind),
        format::datetime(opens_at),
        format::datetime(closes_at),
        format::datetime(closed_at)
    )
}

/// `Convoquée le 20 mai 2024, sur première convocation.`
pub fn minutes_convened(convened_on: NaiveDate, call: &Call) -> String {
    format!(
        "Convoquée le {}, sur {}.",
        format::date(convened_on),
        self::call(call)
    )
}

/// `Date d'enregistrement : 10 juin 2024 (...)`.
pub fn minutes_record_date(record_date: NaiveDate) -> String {
    format!(
        "Date d'enregistrement : {} ; votent les titulaires de voix inscrits en compte à la fin de ce jour.",
        format::date(record_date)
    )
}

/// The convocations sent by one channel: how many, and when.
pub fn convocations_sent(
    channel: ConvocationChannel,
    count: usize,
    first: NaiveDate,
    last: NaiveDate,
) -> String {
    let when = if first == last {
        format!("le {}", format::date(first))
    } else {
        format!("du {} au {}", format::date(first), format::date(last))
    };
    format!(
        "Convocation{} envoyée{} {} : {}, {when}.",
        plural(count),
        plural(count),
        self::channel(channel),
        format::int(count as u64)
    )
}

pub const NO_CONVOCATION_SENT: &str =
    "Aucun envoi de convocation n'est inscrit au registre pour cette assemblée.";

/// `Vote ouvert du ... au ... (heure de Paris).`
pub fn voting_window(opens_at: DateTime<Utc>, closes_at: DateTime<Utc>) -> String {
    format!(
        "Période de vote fixée par la convocation : du {} au {} (heure de Paris).",
        format::datetime(opens_at),
        format::datetime(closes_at)
    )
}

pub fn bureau_chair(chair: &str) -> String {
    format!("Président de séance : {chair}.")
}

pub fn bureau_scrutineers(scrutineers: &[String]) -> String {
    format!(
        "Scrutateur{} : {}.",
        plural(scrutineers.len()),
        scrutineers.join(", ")
    )
}

pub fn bureau_secretary(secretary: &str) -> String {
    format!("Secrétaire de séance : {secretary}.")
}

pub const NO_BUREAU: &str = "Aucun bureau n'est inscrit au registre.";

/// The participation table's columns, by college.
pub const PARTICIPATION_COLUMNS: [&str; 8] = [
    "Collège",
    "Inscrits",
    "Présents (en ligne)",
    "Représentés",
    "Par correspondance",
    "Actions",
    "Voix",
    "Voix inscrites",
];

/// A college's name in a table, with its unit when it counts members.
pub fn college_with_unit(college: &str, per_member: bool) -> String {
    if per_member {
        format!("{college} (un associé, une voix)")
    } else {
        college.to_owned()
    }
}

/// The shares taking part in the vote, and the participants.
pub fn shares_participating(shares: u64, participants: usize, on_the_roll: usize) -> String {
    format!(
        "Actions participant au vote : {} ; participants : {} sur {} inscrit{}.",
        format::int(shares),
        format::int(participants as u64),
        format::int(on_the_roll as u64),
        plural(on_the_roll)
    )
}

/// The quorum of a decision kind at this call, from one of its results.
pub fn quorum_line(call: &Call, r: &ResolutionResult) -> String {
    let kind = format::decision_kind(r.decision_kind.as_str());
    let call = match call {
        Call::First => "première convocation",
        Call::Second { .. } => "seconde convocation",
    };
    if let Some(counted) = votes::quorum_counted(r, &Default::default()) {
        return format!(
            "Décision {kind}, sur {call} : quorum requis {} ; {counted} ; quorum {}.",
            ratio_percent(r.quorum),
            reached(r.quorum_reached, false)
        );
    }
    let present_share = Fraction::new(r.present, r.roll_total);
    format!(
        "Décision {kind}, sur {call} : quorum requis {} des voix ; voix présentes, représentées ou exprimées par correspondance (abstentions comprises) : {} sur {} ({}) ; quorum {}.",
        ratio_percent(r.quorum),
        format::int(r.present),
        format::int(r.roll_total),
        share(present_share.as_ref()),
        reached(r.quorum_reached, false)
    )
}

pub const NO_DOCUMENT_PRESENTED: &str = "Aucun document n'a été soumis à l'assemblée.";

/// `Résultat : adoptée.` or `Résultat : rejetée (quorum non atteint).`
pub fn result(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Adopted => "Résultat : ADOPTÉE.".to_owned(),
        Outcome::Rejected { rules } => {
            let rules: Vec<String> = rules
                .iter()
                .map(|r| votes::rejection(r, &Default::default()))
                .collect();
            format!("Résultat : REJETÉE ({}).", rules.join(", "))
        }
    }
}

/// The quorum of one resolution.
pub fn result_quorum(r: &ResolutionResult) -> String {
    match votes::quorum_counted(r, &Default::default()) {
        None => format!(
            "Quorum : {} voix présentes ou représentées sur {}, pour un quorum requis de {} : {}.",
            format::int(r.present),
            format::int(r.roll_total),
            ratio_percent(r.quorum),
            reached(r.quorum_reached, false)
        ),
        Some(counted) => format!(
            "Quorum {counted}, pour un quorum requis de {} : {}.",
            ratio_percent(r.quorum),
            reached(r.quorum_reached, false)
        ),
    }
}

/// The majority of one resolution: required, obtained, reached.
pub fn result_majority(
    majority: Majority,
    weighted: bool,
    share_for: Option<&Fraction>,
    majority_reached: bool,
) -> String {
    let obtained = match share_for {
        Some(f) => format!("{} (exactement {f})", share(Some(f))),
        None => "aucune voix exprimée".to_owned(),
    };
    format!(
        "Majorité requise : {} ; part {}des voix exprimées pour : {obtained} ; majorité {}.",
        votes::majority(majority),
        if weighted {
            "pondérée par collège "
        } else {
            ""
        },
        reached(majority_reached, true)
    )
}

/// The votes of all colleges, when they add up.
pub fn result_totals(votes_for: u64, against: u64, abstentions: u64) -> String {
    format!(
        "Voix pour : {} ; contre : {} ; abstentions (non comptées comme voix exprimées) : {}.",
        format::int(votes_for),
        format::int(against),
        format::int(abstentions)
    )
}

/// The columns of a resolution's count, by college.
pub const RESULT_COLUMNS: [&str; 9] = [
    "Collège",
    "Inscrits",
    "Participants",
    "Pour",
    "Contre",
    "Abstentions",
    "Pondération",
    "Poids appliqué",
    "Majorité pour",
];

/// Whether more than half of a college's votes cast were for, and whether
/// the charter required it.
pub fn college_majority(majority_for: bool, required: bool) -> String {
    let said = if majority_for { "oui" } else { "non" };
    if required {
        format!("{said} (requise)")
    } else {
        said.to_owned()
    }
}

/// A college's own majority required by the charter: reached, or a veto.
pub fn college_veto(college: &str, majority_for: bool) -> String {
    if majority_for {
        format!("Majorité propre du collège {college}, requise par les statuts : atteinte.")
    } else {
        format!(
            "Majorité propre du collège {college}, requise par les statuts : non atteinte (veto)."
        )
    }
}

/// Weighted colleges where no vote was cast.
pub fn weight_shared(colleges: &[String]) -> String {
    format!(
        "Aucune voix exprimée dans le{} collège{} {} : {} pondération a été répartie entre les autres collèges à proportion de leurs poids.",
        plural(colleges.len()),
        plural(colleges.len()),
        colleges.join(", "),
        if colleges.len() > 1 { "leur" } else { "sa" }
    )
}

/// A charter's weight, or an applied one, as a percentage; `—` for none.
pub fn weight(ratio: Option<Ratio>) -> String {
    ratio.map_or_else(|| "—".to_owned(), ratio_percent)
}

pub fn applied_weight(fraction: Option<&Fraction>) -> String {
    share(fraction)
}

pub const UNITS_DIFFER: &str = "Chaque collège compte dans son unité (voix portées par les actions, ou associés) : les nombres de collèges différents ne s'additionnent pas.";
pub const NO_RESULT: &str = "Aucun résultat n'est inscrit au registre pour cette résolution.";

pub const LATE_FORMS_KEPT: &str =
    "Conservés avec leurs choix, non comptés (article R225-77 du Code de commerce) :";
pub const NO_LATE_FORM: &str =
    "Aucun formulaire de vote par correspondance n'a été reçu hors délai.";

/// The sentence before the officers' lines.
pub fn minutes_signed(on: DateTime<Utc>) -> String {
    format!(
        "Procès-verbal établi le {} et signé par les membres du bureau. Chacun signe l'empreinte SHA-256 de ce document, inscrite au registre avec sa signature.",
        format::date(format::to_paris(on).date())
    )
}

// --- Le formulaire de vote par correspondance (R225-76, R225-77). ---

pub const POSTAL_TITLE: &str = "Formulaire de vote par correspondance";
pub const POSTAL_LAW: &str = "Établi en application des articles L225-107, R225-76 et R225-77 du Code de commerce (repris par les statuts).";

/// The meeting a form is for.
pub fn postal_meeting(
    kind: MeetingKind,
    meeting: &str,
    call: &Call,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
) -> String {
    format!(
        "{} {meeting}, sur {} ; vote ouvert du {} au {} (heure de Paris).",
        format::meeting_kind(kind),
        self::call(call),
        format::datetime(opens_at),
        format::datetime(closes_at)
    )
}

pub const POSTAL_VOTER: &str = "Associé";

/// What the roll gives the voter.
pub fn postal_holding(shares: u64, votes: u64, college: &str, record_date: NaiveDate) -> String {
    format!(
        "Actions : {} ; voix : {} (collège {college}), selon le registre d'émargement arrêté à la date d'enregistrement du {}.",
        format::int(shares),
        format::int(votes),
        format::date(record_date)
    )
}

pub const POSTAL_HOLDING_BLANK: &str =
    "Actions : ………………………………    Voix : ………………………………    Collège : ………………………………";

pub const POSTAL_RESOLUTIONS: &str = "Résolutions soumises au vote";
pub const POSTAL_HOW: &str =
    "Pour chaque résolution, cochez une seule case : Pour, Contre ou Abstention.";
pub const POSTAL_ABSTENTION: &str = "Important : l'abstention n'est pas considérée comme un vote exprimé (articles L225-96 et L225-98 du Code de commerce, dans leur rédaction issue de la loi n° 2019-744 du 19 juillet 2019).";
pub const POSTAL_NO_DIRECTION: &str = "Un formulaire qui n'indique aucun sens de vote sur une résolution, ou qui y exprime une abstention, n'est pas considéré comme un vote exprimé sur cette résolution (article L225-107 du Code de commerce).";

/// The three boxes to tick.
pub fn postal_boxes() -> String {
    use windledger_domain::meeting::Choice;
    [Choice::For, Choice::Against, Choice::Abstain]
        .into_iter()
        .map(|c| format!("☐ {}", format::choice(c)))
        .collect::<Vec<_>>()
        .join("          ")
}

pub const POSTAL_DEADLINES: &str = "Date limite de réception";

/// A paper form's deadline (the end of a day, Paris time).
pub fn postal_paper_deadline(deadline: DateTime<Utc>) -> String {
    format!(
        "Formulaire sur papier : reçu au plus tard le {}.",
        format::date(format::to_paris(deadline).date())
    )
}

/// An electronic form's deadline (an hour, Paris time).
pub fn postal_electronic_deadline(deadline: DateTime<Utc>) -> String {
    format!(
        "Formulaire électronique : reçu au plus tard le {} (heure de Paris).",
        format::datetime(deadline)
    )
}

pub const POSTAL_LATE: &str = "Un formulaire reçu après ces dates est conservé mais n'est pas compté (article R225-77 du Code de commerce).";

/// Where the form goes.
pub fn postal_send_to(company: &str) -> String {
    format!("À retourner daté et signé à la société {company}.")
}

pub const POSTAL_SIGNATURE: &str =
    "Fait à ………………………………………, le ………………………………        Signature : ………………………………………";

// --- La convocation (e-mail and letter). ---

/// `Convocation à l'assemblée générale ordinaire ago-2024 — Ailes de Taillard SAS`.
pub fn convocation_subject(kind: MeetingKind, meeting: &str, company: &str) -> String {
    format!("Convocation {} {meeting} — {company}", to_meeting(kind))
}

/// `Madame, Monsieur,` or the recipient's name.
pub fn salutation(name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name},"),
        None => "Madame, Monsieur,".to_owned(),
    }
}

/// `Ailes de Taillard SAS convoque ses associés à l'assemblée ...`.
pub fn convenes(company: &str, kind: MeetingKind, meeting: &str, call: &Call) -> String {
    format!(
        "{company} convoque ses {} {} {meeting}, sur {}.",
        participants_of(kind),
        to_meeting(kind),
        self::call(call)
    )
}

pub fn convocation_window(opens_at: DateTime<Utc>, closes_at: DateTime<Utc>) -> String {
    format!(
        "La réunion se tient à distance : le vote est ouvert du {} au {} (heure de Paris).",
        format::datetime(opens_at),
        format::datetime(closes_at)
    )
}

pub fn convocation_record_date(record_date: NaiveDate) -> String {
    format!(
        "Date d'enregistrement : {} ; peuvent voter les associés inscrits en compte à la fin de ce jour.",
        format::date(record_date)
    )
}

pub const CONVOCATION_AGENDA: &str = "Ordre du jour :";

/// `1. (décision ordinaire) ...`: the first line of an item of the agenda.
pub fn convocation_item(number: usize, decision_kind: &str, first_line: &str) -> String {
    format!(
        "{number}. (décision {}) {first_line}",
        format::decision_kind(decision_kind)
    )
}

pub const CONVOCATION_HOW: &str = "Pour participer, vous pouvez :";

pub fn convocation_online(link: &str) -> String {
    format!("– voter en ligne, pendant la période de vote : {link}")
}

pub const CONVOCATION_PROXY: &str = "– donner pouvoir à un autre associé, en ligne à la même adresse, ou sur papier en faisant parvenir votre pouvoir à la société avant la fin de la période de vote ;";

pub fn convocation_postal(
    link: &str,
    paper_deadline: DateTime<Utc>,
    electronic_deadline: DateTime<Utc>,
) -> String {
    format!(
        "– voter par correspondance, avec le formulaire à télécharger à l'adresse {link} : il doit être reçu au plus tard le {} s'il est envoyé sur papier, ou le {} (heure de Paris) s'il est envoyé par voie électronique. Un formulaire reçu après ces dates est conservé mais n'est pas compté.",
        format::date(format::to_paris(paper_deadline).date()),
        format::datetime(electronic_deadline)
    )
}

pub const CONVOCATION_ABSTENTION: &str = "L'abstention n'est pas considérée comme un vote exprimé.";

pub fn convocation_holder(holder: &str) -> String {
    format!("Votre identifiant : {holder}.")
}

pub const CONVOCATION_CLOSING: &str =
    "Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos salutations distinguées.";

pub const LETTERS_TITLE: &str = "Lettres de convocation";

/// `Objet : ...`.
pub fn letter_subject(subject: &str) -> String {
    format!("Objet : {subject}")
}

/// A letter's footer: the hash of its words, which the ledger records.
pub fn letter_footer(holder: &str, sha256: &str) -> String {
    format!("{holder} · empreinte SHA-256 du texte : {sha256}")
}

/// The columns of the mailing file.
pub const LETTERS_CSV_COLUMNS: [&str; 8] = [
    "identifiant",
    "nom",
    "adresse_1",
    "adresse_2",
    "adresse_3",
    "adresse_4",
    "page",
    "sha256",
];

/// The monthly return of the withholding (form 2777).
pub const WITHHOLDING_TITLE: &str = "Prélèvements et retenues à la source sur les dividendes";
pub const WITHHOLDING_LAW: &str = "Récapitulatif pour la déclaration n° 2777 (article 1671 C du CGI) : par mois de versement, la base et le prélèvement forfaitaire non libératoire (article 117 quater), la base et les prélèvements sociaux, à déclarer et payer au plus tard le 15 du mois suivant.";
pub const WITHHOLDING_COLUMNS: [&str; 8] = [
    "Mois de versement",
    "Versements",
    "Base du prélèvement",
    "Prélèvement",
    "Base des prélèvements sociaux",
    "Prélèvements sociaux",
    "Total",
    "À payer le",
];
/// The IFU (form 2561).
pub const IFU_TITLE: &str = "Imprimé fiscal unique";
pub const IFU_LAW: &str = "Relevé des revenus de capitaux mobiliers versés (article 242 ter du CGI ; déclaration n° 2561), remis au bénéficiaire pour sa déclaration de revenus.";
pub const IFU_ELIGIBLE: &str =
    "Dividendes éligibles à l'abattement de 40 % (article 158, 3-2° du CGI)";
pub const IFU_OTHER: &str = "Dividendes non éligibles à l'abattement";
pub const IFU_INTEREST: &str = "Intérêts des avances en compte courant";
/// The interest rows of the monthly return of the withholding.
pub const INTEREST: &str = "intérêts";
pub const IFU_INCOME_TAX: &str = "Prélèvement forfaitaire non libératoire retenu (crédit d'impôt)";
pub const IFU_SOCIAL: &str = "Prélèvements sociaux retenus";
pub const IFU_PAYER: &str = "Établissement payeur";
pub const IFU_BENEFICIARY: &str = "Bénéficiaire";

/// "Revenus de l'année 2025".
pub fn ifu_year(year: i32) -> String {
    format!("Revenus versés en {year}")
}
