//! Vote counts as a citizen can follow them: each college's count in its
//! own unit (votes carried by shares, or members), never a sum of units
//! that differ, with one sentence on how the charter combines them.

use std::collections::HashMap;

use rust_decimal::Decimal;
use windledger_domain::charter::{Charter, Majority, QuorumBasis, VetoBasis, VoteBasis};
use windledger_domain::meeting::{Fraction, Outcome, RejectionRule, ResolutionResult, RollCollege};
use windledger_domain::ratio::Ratio;
use windledger_domain::types::CollegeId;

use crate::format;

/// `n` in the unit of a college that counts by `basis`: "60 000 voix"
/// (shares × votes per share) or "64 associés" (one member, one vote).
pub fn count(basis: VoteBasis, n: u64) -> String {
    match basis {
        VoteBasis::PerShare => format!("{} voix", format::int(n)),
        VoteBasis::PerMember => format!("{} associé{}", format::int(n), format::plural(n as usize)),
    }
}

/// The charter's colleges as a roll lists them.
pub fn colleges_of(charter: &Charter) -> Vec<RollCollege> {
    charter.colleges.iter().map(RollCollege::from).collect()
}

/// Whether a total over these colleges adds like with like: no weights and
/// one unit.
pub fn totals_add_up(colleges: &[RollCollege]) -> bool {
    colleges.iter().all(|c| c.weight.is_none())
        && colleges
            .windows(2)
            .all(|w| w[0].vote_basis == w[1].vote_basis)
}

/// One sentence: how each college counts and how the charter combines the
/// colleges into one result.
pub fn combination(colleges: &[RollCollege], names: &HashMap<CollegeId, String>) -> String {
    let name = |c: &RollCollege| name(&c.id, names);
    let how = |c: &RollCollege| match c.vote_basis {
        VoteBasis::PerShare => "par action",
        VoteBasis::PerMember => "un associé, une voix",
    };
    let each: Vec<String> = colleges
        .iter()
        .map(|c| format!("{} ({})", name(c), how(c)))
        .collect();
    let weights: Vec<String> = colleges
        .iter()
        .filter_map(|c| Some(format!("{} {}", name(c), weight(c.weight?))))
        .collect();
    if !weights.is_empty() {
        format!(
            "Chaque collège compte dans son unité — {} ; les statuts pondèrent ensuite la part « pour » de chaque collège : {} (le poids d'un collège où personne n'a voté est réparti entre les autres).",
            each.join(", "),
            weights.join(", ")
        )
    } else if totals_add_up(colleges) {
        format!(
            "Les voix de tous les collèges s'additionnent — {}.",
            each.join(", ")
        )
    } else {
        format!(
            "Les statuts additionnent les voix des collèges sans pondération — {} : une voix d'action et un associé y pèsent autant.",
            each.join(", ")
        )
    }
}

/// A charter's weight as a percentage when it is one exactly, else as a
/// fraction.
fn weight(w: Ratio) -> String {
    let (n, d) = (u128::from(w.numerator()), u128::from(w.denominator()));
    if (n * 100) % d == 0 {
        format!("{}{}%", n * 100 / d, format::NBSP)
    } else {
        w.to_string()
    }
}

/// A college's name, or its id when the charter does not name it.
pub fn name(id: &CollegeId, names: &HashMap<CollegeId, String>) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// A fraction as a percentage with two decimals; "—" for none.
pub fn percent(fraction: Option<&Fraction>) -> String {
    fraction
        .and_then(|f| {
            let text = f.to_string();
            let (n, d) = text.split_once('/').unwrap_or((&text, "1"));
            let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
            (d > 0.0).then(|| Decimal::from_f64_retain(n / d * 100.0))?
        })
        .map(|d| format::percent(d, 2))
        .unwrap_or_else(|| "—".to_owned())
}

/// A decision kind's majority in words.
pub fn majority(m: Majority) -> String {
    match m {
        Majority::MoreThan(r) => format!("plus de {r} des voix exprimées"),
        Majority::AtLeast(r) => format!("au moins {r} des voix exprimées"),
    }
}

/// What a decision kind's quorum counts, in words: "des voix", "du
/// capital"...
pub fn quorum_basis(basis: QuorumBasis) -> &'static str {
    match basis {
        QuorumBasis::Votes => "des voix du registre",
        QuorumBasis::Capital => "du capital des actions avec droit de vote",
        QuorumBasis::CollegeWeighted => {
            "des présents, collège par collège, pondérés par les poids des collèges"
        }
        QuorumBasis::PerCollege => "des voix dans chaque collège",
    }
}

/// How a quorum counted otherwise than on the roll's votes was met, in
/// one sentence ending without a full stop; `None` for the default (the
/// caller says "n voix présentes sur m").
pub fn quorum_counted(r: &ResolutionResult, names: &HashMap<CollegeId, String>) -> Option<String> {
    let turnout = percent(r.turnout.as_ref());
    match r.quorum_basis {
        QuorumBasis::Votes => None,
        QuorumBasis::Capital => Some(match r.capital {
            Some(c) => format!(
                "quorum compté {} : {} présents ou représentés sur {} ({turnout})",
                quorum_basis(r.quorum_basis),
                format::euros(c.present.amount()),
                format::euros(c.roll_total.amount()),
            ),
            None => format!("quorum compté {} : {turnout}", quorum_basis(r.quorum_basis)),
        }),
        QuorumBasis::CollegeWeighted => Some(format!(
            "quorum compté {} : {}, soit {turnout}",
            quorum_basis(r.quorum_basis),
            r.colleges
                .iter()
                .filter(|c| c.roll_total > 0)
                .map(|c| format!(
                    "{} {} sur {}",
                    name(&c.college, names),
                    format::int(c.present),
                    format::int(c.roll_total)
                ))
                .collect::<Vec<_>>()
                .join(", "),
        )),
        QuorumBasis::PerCollege => Some(format!(
            "quorum compté {} : {}",
            quorum_basis(r.quorum_basis),
            r.colleges
                .iter()
                .filter_map(|c| Some(format!(
                    "{} {} sur {} ({})",
                    name(&c.college, names),
                    format::int(c.present),
                    format::int(c.roll_total),
                    if c.quorum_reached? {
                        "atteint"
                    } else {
                        "non atteint"
                    }
                )))
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// When a required college vetoes, in words.
pub fn veto_basis(basis: VetoBasis) -> &'static str {
    match basis {
        VetoBasis::Silence => "sauf majorité « pour » dans le collège (son silence vaut veto)",
        VetoBasis::MajorityAgainst => {
            "si la majorité des voix exprimées dans le collège est « contre »"
        }
    }
}

/// Why a resolution was rejected, in words.
pub fn rejection(rule: &RejectionRule, colleges: &HashMap<CollegeId, String>) -> String {
    match rule {
        RejectionRule::Quorum => "quorum non atteint".to_owned(),
        RejectionRule::CollegeQuorum { college } => {
            format!(
                "quorum non atteint dans le collège {}",
                name(college, colleges)
            )
        }
        RejectionRule::Majority => "majorité non atteinte".to_owned(),
        RejectionRule::Veto { college } => {
            format!("veto du collège {}", name(college, colleges))
        }
    }
}

/// The outcome in plain words, with the rules that rejected it.
pub fn outcome(outcome: &Outcome, colleges: &HashMap<CollegeId, String>) -> String {
    match outcome {
        Outcome::Adopted => "adoptée".to_owned(),
        Outcome::Rejected { rules } => {
            let rules: Vec<String> = rules.iter().map(|r| rejection(r, colleges)).collect();
            format!("rejetée : {}", rules.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn college(id: &str, weight: Option<Ratio>, vote_basis: VoteBasis) -> RollCollege {
        RollCollege {
            id: CollegeId::new(id).expect("an id"),
            weight,
            vote_basis,
        }
    }

    fn names() -> HashMap<CollegeId, String> {
        [("ind", "Partenaire"), ("cit", "Citoyens")]
            .into_iter()
            .map(|(id, name)| (CollegeId::new(id).expect("an id"), name.to_owned()))
            .collect()
    }

    /// One resolution counted under `basis` on a roll of two colleges:
    /// the partner (600 EUR of voting shares, 6 votes) votes; the citizens
    /// (one member, 400 EUR) do not.
    fn counted(basis: QuorumBasis) -> ResolutionResult {
        use windledger_domain::charter::DecisionKind;
        use windledger_domain::meeting::{Choice, Roll, Voter, tally::tally};
        use windledger_domain::money::Euros;
        use windledger_domain::types::{HolderId, ResolutionId};
        let voter = |id: &str, college: &str, weight: u64, euros: i64| Voter {
            holder: HolderId::new(id).expect("an id"),
            college: CollegeId::new(college).expect("an id"),
            shares: weight,
            weight,
            capital: Euros::new(Decimal::new(euros, 0)).ok(),
        };
        let half = Ratio::new(1, 2).expect("a ratio");
        let roll = Roll {
            record_date: chrono::NaiveDate::from_ymd_opt(2025, 6, 1).expect("a date"),
            colleges: vec![
                college("ind", Some(half), VoteBasis::PerShare),
                college("cit", Some(half), VoteBasis::PerMember),
            ],
            voters: vec![voter("p", "ind", 6, 600), voter("c", "cit", 1, 400)],
            max_proxies_held: None,
        };
        let kind = DecisionKind {
            quorum_basis: basis,
            ..DecisionKind::french_ordinary()
        };
        tally(
            &ResolutionId::new("ag.1").expect("an id"),
            &kind,
            Ratio::percent(20),
            &roll,
            |v| (v.holder.as_str() == "p").then_some(Choice::For),
        )
    }

    #[test]
    fn a_quorum_counted_otherwise_than_on_votes_says_what_it_counted() {
        assert_eq!(quorum_counted(&counted(QuorumBasis::Votes), &names()), None);
        assert_eq!(
            quorum_counted(&counted(QuorumBasis::Capital), &names()).as_deref(),
            Some(
                "quorum compté du capital des actions avec droit de vote : 600,00\u{a0}€ présents ou représentés sur 1\u{202f}000,00\u{a0}€ (60,00\u{a0}%)"
            )
        );
        assert_eq!(
            quorum_counted(&counted(QuorumBasis::CollegeWeighted), &names()).as_deref(),
            Some(
                "quorum compté des présents, collège par collège, pondérés par les poids des collèges : Partenaire 6 sur 6, Citoyens 0 sur 1, soit 50,00\u{a0}%"
            )
        );
        assert_eq!(
            quorum_counted(&counted(QuorumBasis::PerCollege), &names()).as_deref(),
            Some(
                "quorum compté des voix dans chaque collège : Partenaire 6 sur 6 (atteint), Citoyens 0 sur 1 (non atteint)"
            )
        );
        assert_eq!(
            outcome(&counted(QuorumBasis::PerCollege).outcome, &names()),
            "rejetée : quorum non atteint dans le collège Citoyens"
        );
    }

    #[test]
    fn a_count_is_in_its_colleges_unit() {
        assert_eq!(count(VoteBasis::PerShare, 60_061), "60\u{202f}061 voix");
        assert_eq!(count(VoteBasis::PerMember, 1), "1 associé");
        assert_eq!(count(VoteBasis::PerMember, 134), "134 associés");
    }

    #[test]
    fn the_sentence_says_how_the_charter_combines_colleges() {
        let half = Ratio::new(1, 2).expect("a ratio");
        let weighted = [
            college("ind", Some(half), VoteBasis::PerShare),
            college("cit", Some(half), VoteBasis::PerMember),
        ];
        assert!(!totals_add_up(&weighted));
        assert_eq!(
            combination(&weighted, &names()),
            "Chaque collège compte dans son unité — Partenaire (par action), Citoyens (un associé, une voix) ; \
             les statuts pondèrent ensuite la part « pour » de chaque collège : Partenaire 50 %, Citoyens 50 % \
             (le poids d'un collège où personne n'a voté est réparti entre les autres)."
                .replace(" %", "\u{a0}%")
        );
        let plain = [
            college("ind", None, VoteBasis::PerShare),
            college("cit", None, VoteBasis::PerShare),
        ];
        assert!(totals_add_up(&plain));
        assert!(
            combination(&plain, &names())
                .starts_with("Les voix de tous les collèges s'additionnent")
        );
        let mixed = [
            college("ind", None, VoteBasis::PerShare),
            college("cit", None, VoteBasis::PerMember),
        ];
        assert!(!totals_add_up(&mixed));
        assert!(combination(&mixed, &names()).contains("sans pondération"));
    }

    #[test]
    fn a_weight_is_a_percentage_when_it_is_one() {
        assert_eq!(weight(Ratio::new(1, 4).expect("a ratio")), "25\u{a0}%");
        assert_eq!(weight(Ratio::new(1, 3).expect("a ratio")), "1/3");
        assert_eq!(percent(None), "—");
    }
}
