//! A meeting's papers, from a meeting run through the domain's commands
//! and folded by the decisions register: the minutes (R225-106), the
//! postal voting form (R225-76, R225-77), the convocation's words and
//! letters, and the attendance sheet's paper proxies and late forms. Each
//! document is the same file when drawn again; other readers (qpdf,
//! pdftotext) open it and read back what the law asks of it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use windledger_documents::convocation::{
    ConvocationText, Letter, Links, convocation_text, letters_csv, letters_pdf,
};
use windledger_documents::meeting::attendance_pdf;
use windledger_documents::minutes::{document_sha256, minutes_drawn, minutes_pdf};
use windledger_documents::postal_form::{postal_form_pdf, postal_forms_pdf};
use windledger_documents::{Drawn, Person};
use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition, KnownCapTables};
use windledger_domain::charter::{Charter, PostalVoting};
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::{
    Call, Choice, ConvocationChannel, Meeting, MeetingCommand, MeetingKind, MeetingServices,
    OfficerSignature, ProposedResolution, SentConvocation,
};
use windledger_domain::money::Euros;
use windledger_domain::resolution::ResolutionPurpose;
use windledger_domain::types::{HolderId, ResolutionId};
use windledger_fixtures::farm::{
    CIT, COLL, IND, ORD, at, class, college, commune, day, holder, kind, meeting_id, run, shares,
};
use windledger_french::format;
use windledger_projections::event::{EventHash, FarmEvent, LedgerEvent};
use windledger_projections::register::{DecisionsRegister, MeetingRecord};
use windledger_projections::runner::Fold;

use super::{assert_well_formed, tool};

const MEETING: &str = "ago-2024";
use windledger_fixtures::reference::LEDGER;
const COMPANY: &str = "Ailes de Taillard SAS";
const APPROVAL: &str = "L'assemblée générale approuve les comptes de l'exercice 2023 tels qu'ils lui ont été présentés.\nElle donne quitus au président pour sa gestion.";
const AMENDMENT: &str = "L'assemblée générale modifie l'article 12 des statuts : le conseil stratégique compte désormais neuf membres.";
const DEBATES: &str = "Le président ouvre la séance et présente le rapport de gestion.\nPlusieurs associés interrogent le président sur la production de l'éolienne T02 pendant l'hiver.";
const REPORT: &str = "Rapport de gestion de l'exercice 2023";
const ACCOUNTS: &str = "Comptes annuels de l'exercice 2023";

/// The holders: (id, college, shares).
const HOLDERS: [(&str, &str, u64); 5] = [
    ("h-ind", IND, 1_000),
    ("h-sem", COLL, 500),
    ("h-c1", CIT, 190),
    ("h-c2", CIT, 160),
    ("h-club", CIT, 150),
];

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    day(y, m, d)
        .and_hms_opt(h, min, 0)
        .expect("a valid time")
        .and_utc()
}

fn charter() -> Charter {
    windledger_fixtures::small_farm::charter().build()
}

fn services() -> MeetingServices {
    let holders = HOLDERS
        .iter()
        .map(|(id, c, n)| HolderPosition {
            holder: holder(id),
            kind: HolderKind::Individual,
            college: college(c),
            commune: commune("42026"),
            shares: BTreeMap::from([(class(ORD), shares(*n))]),
            members: None,
        })
        .collect();
    let cap_tables = KnownCapTables::new([CapTableSnapshot {
        as_of: day(2013, 5, 2),
        charter: charter(),
        share_capital: Euros::ZERO,
        turbines: Vec::new(),
        holders,
    }]);
    MeetingServices::new(utc(2025, 1, 1, 0, 0), cap_tables)
}

/// Who some of the holders are; `h-club` is known by its id only.
fn people() -> BTreeMap<HolderId, Person> {
    let person = |name: &str, address: &[&str]| Person {
        name: name.to_owned(),
        address: address.iter().map(|l| (*l).to_owned()).collect(),
    };
    BTreeMap::from([
        (
            holder("h-ind"),
            person(
                "Éoliennes du Plateau SA",
                &["Service juridique", "12 quai Perrache", "69002 Lyon"],
            ),
        ),
        (
            holder("h-sem"),
            person("SEM Énergies Pilat", &["Mairie", "42220 Burdignes"]),
        ),
        (
            holder("h-c1"),
            person("Jeanne Dupont", &["3 rue du Pilat", "42220 Burdignes"]),
        ),
        (
            holder("h-c2"),
            person(
                "Paul Martin",
                &[
                    "Appartement 4",
                    "Bâtiment B",
                    "Résidence des Crêtes",
                    "8 chemin des Genêts",
                    "42660 Saint-Genest-Malifaux",
                ],
            ),
        ),
        (holder("h-sec"), person("Claire Besson", &[])),
    ])
}

fn links(h: &HolderId) -> Links {
    Links {
        vote: format!("https://exemple.fr/{LEDGER}/assemblees/{MEETING}/vote?associe={h}"),
        postal_form: format!("https://exemple.fr/{LEDGER}/assemblees/{MEETING}/formulaire/{h}.pdf"),
    }
}

/// A meeting driven through its commands, each event folded by the
/// decisions register as the ledger would feed it.
struct Run {
    meeting: Meeting,
    services: MeetingServices,
    register: DecisionsRegister,
    position: u64,
}

impl Run {
    fn new() -> Self {
        Self {
            meeting: Meeting::default(),
            services: services(),
            register: DecisionsRegister::default(),
            position: 0,
        }
    }

    fn run(&mut self, command: MeetingCommand) {
        let events = run(&mut self.meeting, command.clone(), &self.services).unwrap_or_else(|e| {
            panic!("{command:?} is refused: {e}");
        });
        for event in events {
            self.position += 1;
            let meta = LedgerEvent {
                position: self.position,
                stream_id: format!("meeting/{MEETING}"),
                stream_version: self.position,
                event_type: event.name().to_owned(),
                payload: String::new(),
                recorded_at: DateTime::<Utc>::UNIX_EPOCH,
                hash: hash(self.position),
            };
            let event = FarmEvent::Meeting {
                meeting: MEETING.to_owned(),
                event,
            };
            self.register
                .apply(&meta, &event)
                .expect("the register folds the event");
        }
    }

    fn record(&self) -> &MeetingRecord {
        self.register.meeting(MEETING).expect("the meeting")
    }

    fn drawn(&self) -> Drawn {
        Drawn {
            ledger: LEDGER.to_owned(),
            company: COMPANY.to_owned(),
            position: self.position,
            head: hash(self.position),
            date: day(2024, 6, 27),
        }
    }
}

fn hash(position: u64) -> EventHash {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&position.to_be_bytes());
    hash[31] = 0xab;
    EventHash(hash)
}

fn resolution(n: usize) -> ResolutionId {
    ResolutionId::new(format!("{MEETING}.{n}")).expect("a resolution id")
}

fn choices(first: Choice, second: Choice) -> BTreeMap<ResolutionId, Choice> {
    BTreeMap::from([(resolution(1), first), (resolution(2), second)])
}

/// A general resolution of kind `kind_id` proposed in `text`.
fn proposed(kind_id: &str, text: &str) -> ProposedResolution {
    ProposedResolution {
        decision_kind: kind(kind_id),
        purpose: ResolutionPurpose::General,
        text: text.to_owned(),
    }
}

/// The ordinary general meeting convened on 20 May 2024 on `agenda`, the
/// vote open from 12 June (10:00 in Paris).
fn convene(agenda: Vec<ProposedResolution>) -> MeetingCommand {
    MeetingCommand::Convene {
        meeting: meeting_id(MEETING),
        kind: MeetingKind::OrdinaryGeneralMeeting,
        call: Call::First,
        record_date: day(2024, 6, 10),
        opens_at: at(2024, 6, 12, 8),
        closes_at: at(2024, 6, 26, 18),
        agenda,
        members: Vec::new(),
        convened_on: day(2024, 5, 20),
    }
}

/// Convened on 20 May 2024 with two resolutions, convocations sent by
/// e-mail and by letter, the vote open from 12 June (10:00 in Paris).
fn convened() -> Run {
    let mut m = Run::new();
    m.run(convene(vec![
        proposed("ordinary", APPROVAL),
        proposed("extraordinary", AMENDMENT),
    ]));
    let people = people();
    for (channel, sent_on, ids) in [
        (
            ConvocationChannel::Email,
            day(2024, 5, 21),
            &["h-ind", "h-sem", "h-c1"][..],
        ),
        (
            ConvocationChannel::Post,
            day(2024, 5, 22),
            &["h-c2", "h-club"][..],
        ),
    ] {
        let convocations = ids
            .iter()
            .map(|id| {
                let h = holder(id);
                let text = convocation(m.record(), &h, people.get(&h));
                SentConvocation {
                    holder: h,
                    sha256: text.sha256(),
                }
            })
            .collect();
        m.run(MeetingCommand::RecordConvocations {
            channel,
            sent_on,
            convocations,
        });
    }
    m.run(MeetingCommand::OpenVoting {
        at: at(2024, 6, 12, 8),
    });
    m
}

/// `voter`'s postal form on paper, received `received_at`.
fn paper_form(
    voter: &str,
    first: Choice,
    second: Choice,
    received_at: DateTime<Utc>,
) -> MeetingCommand {
    MeetingCommand::RecordPostalBallot {
        voter: holder(voter),
        choices: choices(first, second),
        received_at,
        electronic: false,
    }
}

/// The vote: a postal form in time, a paper proxy, ballots online, a
/// postal form received late; the bureau; the close; the minutes' words.
fn held() -> Run {
    let mut m = convened();
    let received_at = utc(2024, 6, 5, 10, 0);
    m.run(paper_form(
        "h-sem",
        Choice::For,
        Choice::Against,
        received_at,
    ));
    m.run(MeetingCommand::RecordPaperProxy {
        grantor: holder("h-c2"),
        proxy: holder("h-c1"),
        received_at: utc(2024, 6, 13, 9, 0),
    });
    for (voter, cast_by, first, second, minute) in [
        ("h-ind", "h-ind", Choice::For, Choice::For, 0),
        ("h-c1", "h-c1", Choice::Abstain, Choice::For, 10),
        ("h-c2", "h-c1", Choice::Against, Choice::Against, 20),
    ] {
        m.run(MeetingCommand::CastBallot {
            voter: holder(voter),
            cast_by: holder(cast_by),
            choices: choices(first, second),
            at: utc(2024, 6, 20, 12, minute),
        });
    }
    // Received on 11 June, after the paper deadline of 9 June: kept.
    let received_at = utc(2024, 6, 11, 10, 0);
    m.run(paper_form("h-club", Choice::For, Choice::For, received_at));
    m.run(MeetingCommand::ConstituteBureau {
        chair: holder("h-c1"),
        scrutineers: vec![holder("h-ind"), holder("h-sem")],
        secretary: holder("h-sec"),
        at: utc(2024, 6, 26, 17, 0),
    });
    m.run(MeetingCommand::Close {
        at: at(2024, 6, 26, 18),
    });
    m
}

fn with_minutes() -> Run {
    let mut m = held();
    m.run(MeetingCommand::RecordMinutes {
        debates: DEBATES.to_owned(),
        documents_presented: vec![REPORT.to_owned(), ACCOUNTS.to_owned()],
        at: utc(2024, 6, 27, 9, 0),
    });
    m
}

/// The document's text as poppler reads it, after qpdf checked it, pages
/// separated by a form feed; `None` when the tools are not installed (and
/// not required).
fn read_back(name: &str, pdf: &[u8]) -> Option<String> {
    let (qpdf, pdftotext) = (tool("qpdf")?, tool("pdftotext")?);
    let dir = std::env::temp_dir().join(format!(
        "windledger-meeting-pdf-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a folder");
    let text = super::read_back(&qpdf, &pdftotext, &dir, name, pdf);
    let _ = std::fs::remove_dir_all(&dir);
    Some(text)
}

/// Text with its lines joined and its runs of spaces made one: a sentence
/// wrapped over lines reads whole.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_says(name: &str, text: &str, expected: &[&str]) {
    let read = flat(text);
    for e in expected {
        assert!(read.contains(&flat(e)), "the {name} says {e:?}: {read}");
    }
}

/// The document's text read back (`read_back`, `None` without the tools),
/// once checked that the `label` says each of `expected` (`assert_says`).
fn read_back_saying(name: &str, pdf: &[u8], label: &str, expected: &[&str]) -> Option<String> {
    let text = read_back(name, pdf)?;
    assert_says(label, &text, expected);
    Some(text)
}

/// The document `make` gives, checked to be the same bytes when made again.
fn made_twice(make: impl Fn() -> Vec<u8>) -> Vec<u8> {
    let made = make();
    assert!(made == make(), "the same bytes");
    made
}

/// The convocation `holder` receives, with the default postal voting.
fn convocation(
    record: &MeetingRecord,
    holder: &HolderId,
    person: Option<&Person>,
) -> ConvocationText {
    convocation_text(
        COMPANY,
        record,
        holder,
        person,
        &links(holder),
        &PostalVoting::default(),
    )
}

#[test]
fn the_minutes_exist_once_recorded_and_are_the_same_file_whatever_is_signed_since() {
    let held = held();
    assert!(
        minutes_pdf(&held.drawn(), held.record(), &people())
            .expect("no error")
            .is_none(),
        "no minutes before their words are recorded"
    );
    let mut m = with_minutes();
    let drawn = minutes_drawn(LEDGER, COMPANY, m.record()).expect("the minutes are recorded");
    assert_eq!(drawn.position, m.position, "the minutes' own event");
    assert_eq!(drawn.date, day(2024, 6, 27));
    let first = minutes_pdf(&drawn, m.record(), &people())
        .expect("a PDF")
        .expect("minutes");
    let again = minutes_pdf(&drawn, m.record(), &people())
        .expect("a PDF")
        .expect("minutes");
    assert!(first == again, "the same bytes");
    assert_well_formed(&first);
    let sha = document_sha256(&first);
    assert_eq!(sha.len(), 64);
    assert!(windledger_domain::meeting::is_sha256_hex(&sha));

    // The chair signs that file; the minutes drawn again are still it.
    m.run(MeetingCommand::SignMinutes {
        officer: holder("h-c1"),
        document_sha256: sha.clone(),
        signature: OfficerSignature::Handwritten,
        at: utc(2024, 6, 28, 9, 0),
    });
    assert_eq!(m.record().signatures.len(), 1);
    let drawn_after = minutes_drawn(LEDGER, COMPANY, m.record()).expect("the minutes");
    assert_eq!(drawn_after, drawn);
    let after = minutes_pdf(&drawn_after, m.record(), &people())
        .expect("a PDF")
        .expect("minutes");
    assert!(after == first, "a signature does not change the minutes");
    assert_eq!(document_sha256(&after), sha);
}

#[test]
fn the_minutes_state_what_r225_106_asks() {
    let m = with_minutes();
    let drawn = minutes_drawn(LEDGER, COMPANY, m.record()).expect("the minutes");
    let pdf = minutes_pdf(&drawn, m.record(), &people())
        .expect("a PDF")
        .expect("minutes");
    assert_well_formed(&pdf);
    let Some(text) = read_back("proces-verbal", &pdf) else {
        return;
    };
    let record = m.record();
    let results = &record.closed.as_ref().expect("closed").results;
    // The quorum: every voter but the late form's, 1,502 votes of 1,503.
    assert_eq!((results[0].present, results[0].roll_total), (1_502, 1_503));
    let (present, roll) = (format::int(1_502u64), format::int(1_503u64));
    assert_says(
        "minutes",
        &text,
        &[
            "Procès-verbal des délibérations — Ailes de Taillard SAS",
            "Assemblée générale ordinaire ago-2024.",
            "Convoquée le 20 mai 2024, sur première convocation.",
            "Date d'enregistrement : 10 juin 2024",
            "Convocations envoyées par courrier électronique : 3, le 21 mai 2024.",
            "Convocations envoyées par lettre : 2, le 22 mai 2024.",
            "du 12 juin 2024 à 10 h 00 au 26 juin 2024 à 20 h 00",
            "3. Ordre du jour",
            "Résolution n° 1 (décision ordinaire)",
            "Résolution n° 2 (décision extraordinaire)",
            "Président de séance : Jeanne Dupont (h-c1).",
            "Scrutateurs : Éoliennes du Plateau SA (h-ind), SEM Énergies Pilat (h-sem).",
            "Secrétaire de séance : Claire Besson (h-sec).",
            &format!("{present} sur {roll}"),
            &format!("Actions participant au vote : {}", format::int(1_850u64)),
            "participants : 4 sur 5 inscrits",
            REPORT,
            ACCOUNTS,
            "Résultat : ADOPTÉE.",
            "Résultat : REJETÉE (majorité non atteinte).",
            "(exactement 3/4)",
            "(exactement 5/8)",
            "au moins 2/3 des voix exprimées",
            "Actionnaire h-club : reçu le 11 juin 2024 à 12 h 00 (sur papier), date limite 9 juin 2024 à 23 h 59.",
            "Le président de séance, Jeanne Dupont (h-c1)",
            "Le secrétaire de séance, Claire Besson (h-sec)",
            &drawn.head.to_hex(),
        ],
    );
    for line in APPROVAL.lines().chain(DEBATES.lines()).chain([AMENDMENT]) {
        assert_says("minutes", &text, &[line]);
    }
    // The agenda and the results each give every resolution's text.
    assert_eq!(flat(&text).matches(&flat(AMENDMENT)).count(), 2);
}

#[test]
fn the_postal_form_gives_every_resolution_the_warning_and_the_deadlines() {
    let m = convened();
    let drawn = m.drawn();
    let deadlines = PostalVoting::default();
    let h = holder("h-c1");
    let pdf = made_twice(|| {
        postal_form_pdf(&drawn, m.record(), &h, &deadlines, &people()).expect("a PDF")
    });
    assert_well_formed(&pdf);
    // Before the vote opens, no roll: the shares are left blank.
    let mut before = Run::new();
    before.run(convene(vec![proposed("ordinary", APPROVAL)]));
    let blank = postal_form_pdf(&drawn, before.record(), &h, &deadlines, &people()).expect("a PDF");
    assert_well_formed(&blank);

    let form = [
        "Formulaire de vote par correspondance — Ailes de Taillard SAS",
        "Jeanne Dupont",
        "3 rue du Pilat",
        "Identifiant : h-c1",
        "Actions : 190 ; voix : 1 (collège citoyens)",
        "Résolution n° 1 (décision ordinaire)",
        "Résolution n° 2 (décision extraordinaire)",
        AMENDMENT,
        "☐ Pour ☐ Contre ☐ Abstention",
        "l'abstention n'est pas considérée comme un vote exprimé",
        "n'est pas considéré comme un vote exprimé sur cette résolution (article L225-107",
        "Formulaire sur papier : reçu au plus tard le 9 juin 2024.",
        "Formulaire électronique : reçu au plus tard le 11 juin 2024 à 15 h 00 (heure de Paris).",
        "À retourner daté et signé à la société Ailes de Taillard SAS.",
        "Signature :",
    ];
    let Some(text) = read_back_saying("formulaire", &pdf, "form", &form) else {
        return;
    };
    for line in APPROVAL.lines() {
        assert_says("form", &text, &[line]);
    }
    assert_eq!(
        flat(&text).matches("☐ Pour").count(),
        2,
        "boxes per resolution"
    );
    let blank = read_back("formulaire-vierge", &blank).expect("the tools are there");
    assert_says("blank form", &blank, &["Actions : ……"]);
}

#[test]
fn forms_in_bulk_start_each_on_a_new_page() {
    let m = convened();
    let drawn = m.drawn();
    let holders: Vec<HolderId> = HOLDERS.iter().map(|(id, _, _)| holder(id)).collect();
    let deadlines = PostalVoting::default();
    let pdf = made_twice(|| {
        postal_forms_pdf(&drawn, m.record(), &holders, &deadlines, &people()).expect("a PDF")
    });
    assert_well_formed(&pdf);
    let Some(text) = read_back("formulaires", &pdf) else {
        return;
    };
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    let firsts: Vec<&&str> = pages.iter().filter(|p| p.contains("Page 1 / ")).collect();
    assert_eq!(firsts.len(), holders.len(), "one form per holder");
    for (page, h) in firsts.iter().zip(&holders) {
        assert!(page.contains(&format!("Identifiant : {h}")), "{h}: {page}");
    }
}

#[test]
fn the_convocations_words_name_the_meeting_the_agenda_and_how_to_vote_and_their_hash_is_recorded() {
    let m = convened();
    let record = m.record();
    let h = holder("h-c1");
    let people = people();
    let text = convocation(record, &h, people.get(&h));
    assert_eq!(text, convocation(record, &h, people.get(&h)));
    assert_eq!(
        text.subject,
        "Convocation à l'assemblée générale ordinaire ago-2024 — Ailes de Taillard SAS"
    );
    for said in [
        "Jeanne Dupont,\n",
        "Ailes de Taillard SAS convoque ses associés à l'assemblée générale ordinaire ago-2024, sur première convocation.",
        "du 12 juin 2024 à 10 h 00 au 26 juin 2024 à 20 h 00 (heure de Paris)",
        "Date d'enregistrement : 10 juin 2024",
        "1. (décision ordinaire) L'assemblée générale approuve les comptes",
        "\n   Elle donne quitus au président pour sa gestion.\n",
        AMENDMENT,
        &links(&h).vote,
        &links(&h).postal_form,
        "au plus tard le 9 juin 2024 s'il est envoyé sur papier, ou le 11 juin 2024 à 15 h 00 (heure de Paris)",
        "L'abstention n'est pas considérée comme un vote exprimé.",
        "Votre identifiant : h-c1.",
    ] {
        assert!(text.body.contains(said), "{said:?} in {}", text.body);
    }
    // Unknown: "Madame, Monsieur,".
    let club = holder("h-club");
    let anonymous = convocation(record, &club, None);
    assert!(anonymous.body.starts_with("Madame, Monsieur,\n"));

    // The hash: subject, a line feed, the body.
    let sha = text.sha256();
    assert_eq!(
        sha,
        document_sha256(format!("{}\n{}", text.subject, text.body).as_bytes())
    );
    let changed = ConvocationText {
        body: format!("{} ", text.body),
        ..text.clone()
    };
    assert_ne!(changed.sha256(), sha, "another body, another hash");
    let resubjected = ConvocationText {
        subject: format!("{}.", text.subject),
        ..text.clone()
    };
    assert_ne!(resubjected.sha256(), sha);
    // What the ledger recorded for this holder is this text's hash.
    let recorded: BTreeSet<(&HolderId, ConvocationChannel, &str)> = record
        .convocations
        .iter()
        .map(|c| (&c.holder, c.channel, c.sha256.as_str()))
        .collect();
    assert!(recorded.contains(&(&h, ConvocationChannel::Email, sha.as_str())));
    assert_eq!(record.convocations.len(), 5);
}

#[test]
fn the_letters_start_each_on_a_new_page_and_the_mailing_file_says_which() {
    let m = convened();
    let drawn = m.drawn();
    let people = people();
    let mut letters: Vec<Letter> = HOLDERS
        .iter()
        .map(|(id, _, _)| {
            let h = holder(id);
            let person = people.get(&h).cloned();
            let text = convocation(m.record(), &h, person.as_ref());
            (h, person, text)
        })
        .collect();
    // A long letter takes more than one page.
    let long = &mut letters[1].2;
    long.body = format!(
        "{}\n{}",
        long.body,
        "Une ligne de plus pour allonger la lettre.\n".repeat(80)
    );
    let pdf = made_twice(|| letters_pdf(&drawn, &letters).expect("a PDF"));
    assert_well_formed(&pdf);

    let csv = String::from_utf8(letters_csv(&letters)).expect("UTF-8");
    assert_eq!(
        csv,
        String::from_utf8(letters_csv(&letters)).expect("UTF-8")
    );
    let rows: Vec<Vec<String>> = csv
        .split_terminator("\r\n")
        .map(|l| l.split(';').map(ToOwned::to_owned).collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "identifiant",
            "nom",
            "adresse_1",
            "adresse_2",
            "adresse_3",
            "adresse_4",
            "page",
            "sha256"
        ]
    );
    assert_eq!(rows.len(), letters.len() + 1, "a row per letter");
    let starts: Vec<usize> = rows[1..]
        .iter()
        .map(|r| r[6].parse().expect("a page"))
        .collect();
    assert_eq!(starts[0], 1);
    assert!(starts[2] > starts[1] + 1, "the long letter takes two pages");
    for ((row, (h, person, text)), w) in rows[1..].iter().zip(&letters).zip(starts.windows(2)) {
        assert!(w[1] > w[0]);
        assert_eq!(row[0], h.as_str());
        assert_eq!(row[7], text.sha256());
        if let Some(p) = person {
            assert_eq!(row[1], p.name);
        }
    }
    assert_eq!(
        rows[1][1..6],
        [
            "Éoliennes du Plateau SA",
            "Service juridique",
            "12 quai Perrache",
            "69002 Lyon",
            ""
        ]
    );
    // Five lines of address: the fifth joins the fourth.
    assert_eq!(
        rows[4][5],
        "8 chemin des Genêts, 42660 Saint-Genest-Malifaux"
    );
    assert_eq!(rows[5][1..6], ["Actionnaire h-club", "", "", "", ""]);

    let Some(text) = read_back("lettres", &pdf) else {
        return;
    };
    let pages: Vec<&str> = text.split('\u{c}').collect();
    for (start, (h, person, letter)) in starts.iter().zip(&letters) {
        let page = pages[start - 1];
        assert!(
            page.contains("Page 1 / "),
            "letter {h} starts on page {start}"
        );
        let name = person
            .as_ref()
            .map_or(format!("Actionnaire {h}"), |p| p.name.clone());
        assert_says(
            "letter",
            page,
            &[&name, "Objet : Convocation", &letter.sha256()],
        );
    }
    let letter_starts = pages.iter().filter(|p| p.contains("Page 1 / ")).count();
    assert_eq!(letter_starts, letters.len(), "one page-start per letter");
    assert_says("letters", &text, &[&drawn.head.to_hex(), AMENDMENT]);
}

#[test]
fn the_attendance_sheet_says_a_paper_proxy_and_the_forms_received_late() {
    let m = held();
    let drawn = m.drawn();
    let pdf = attendance_pdf(&drawn, m.record(), &people())
        .expect("a PDF")
        .expect("the vote was opened");
    assert_well_formed(&pdf);
    let sheet = [
        "– Paul Martin (h-c2) a donné pouvoir à Jeanne Dupont (h-c1) (pouvoir papier reçu le 13 juin 2024 à 11 h 00).",
        "Formulaires reçus hors délai, conservés et non comptés",
        "Actionnaire h-club : reçu le 11 juin 2024 à 12 h 00 (sur papier), date limite 9 juin 2024 à 23 h 59.",
    ];
    read_back_saying("feuille", &pdf, "sheet", &sheet);
}
