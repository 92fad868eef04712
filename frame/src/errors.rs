//! The API's problems in French: a refused command names the domain's rule
//! (its error variant), which is translated here. The rule's own words are
//! English, so they go to the log, never to the page.

use windledger_domain::types::ParseError;

use crate::layout::Message;
use windledger_api::problem::{Kind, Problem};

/// Figures recorded before windledger bounded them that do not add up:
/// said where the sum would be shown, the rest of the page stands.
pub fn out_of_range(e: &windledger_projections::finance::SumOverflow) -> Message {
    Message {
        text: format!(
            "Les chiffres de l'exercice {} ne peuvent pas être additionnés : un rapport enregistré \
             avant que windledger ne borne les montants porte un chiffre qu'aucun parc n'atteint. \
             Une correction de ce rapport rétablira ces chiffres.",
            e.year
        ),
    }
}

/// A value beyond the input bounds (`windledger_domain::input`), in French
/// (as the operator's CSV file says it: field, value, bound).
pub fn input_error(e: &ParseError) -> Message {
    Message::new(windledger_app::import::csv::input_message(e))
}

/// What the pages say of a problem of each kind (a refusal says its rule).
const SENTENCES: [(Kind, &str); 7] = [
    (Kind::Validation, "La demande n'est pas valide."),
    (
        Kind::VersionConflict,
        "Quelqu'un a modifié ces données au même instant : renvoyez le formulaire.",
    ),
    (
        Kind::Unavailable,
        "Le registre n'est pas joignable pour le moment : réessayez dans un instant.",
    ),
    (Kind::Forbidden, "Votre rôle ne permet pas cette opération."),
    (Kind::NotFound, "Élément introuvable."),
    (
        Kind::ReadOnly,
        "Ce serveur ne fait que montrer le registre : cette opération se fait sur le serveur principal.",
    ),
    (
        Kind::FiguresOutOfRange,
        "Des chiffres enregistrés avant que windledger ne borne les montants ne peuvent pas être additionnés : corrigez le rapport nommé.",
    ),
];

/// A problem as a French message.
pub fn translate(p: &Problem) -> Message {
    tracing::info!(kind = %p.kind, rule = ?p.rule, detail = %p.detail, "shown in French");
    if let Some(text) = p
        .rule
        .as_deref()
        .and_then(|rule| windledger_french::rules::refusal_with_dates(rule, &p.detail))
    {
        return Message::new(text);
    }
    let text = if p.kind == Kind::Refused.uri() {
        windledger_french::rules::refusal(p.rule.as_deref().unwrap_or(""))
            .unwrap_or("Les règles du registre refusent cette opération.")
    } else {
        SENTENCES
            .iter()
            .find(|(kind, _)| p.kind == kind.uri())
            .map_or("Erreur interne : elle a été consignée.", |(_, text)| {
                text
            })
    };
    Message::new(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_not_over_is_said_with_its_month_and_the_day_it_can_be_reported() {
        use windledger_domain::Rule;
        use windledger_domain::finance::FinancialYearError;
        use windledger_domain::finance::YearMonth;
        let said = |what, month| {
            let e = FinancialYearError::MonthNotOver {
                month: YearMonth::new(2026, month).expect("a month"),
                what,
                today: chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("a day"),
            };
            let shown = translate(&Problem::refused(e.rule(), e.to_string()));
            crate::layout::message(&shown).into_string()
        };
        assert_eq!(
            said("production", 11),
            "Le mois de novembre 2026 n'est pas terminé : sa production se déclare à partir du 1er décembre 2026."
        );
        assert_eq!(
            said("revenue", 12),
            "Le mois de décembre 2026 n'est pas terminé : ses recettes se déclarent à partir du 1er janvier 2027."
        );
        // Words it cannot read back still get a French sentence.
        let unread = translate(&Problem::refused("MonthNotOver", "not over"));
        assert!(unread.text.starts_with("Ce mois n'est pas terminé"));
    }

    #[test]
    fn a_year_not_opened_says_that_the_secretary_opens_it() {
        use windledger_domain::Rule;
        let e = windledger_domain::finance::FinancialYearError::NotOpened;
        let shown = translate(&Problem::refused(e.rule(), e.to_string()));
        let page = crate::layout::message(&shown).into_string();
        assert!(
            page.starts_with(
                "Cet exercice n'est pas ouvert : seul le secrétariat de la société l'ouvre"
            ),
            "{page}"
        );
    }

    #[test]
    fn refusals_are_said_in_french_without_the_rules_english_words() {
        let p = Problem::refused(
            "UnknownTurbine",
            "turbine T99 is not one of the farm's turbines",
        );
        let shown = crate::layout::message(&translate(&p)).into_string();
        assert_eq!(shown, "Cette éolienne n'est pas une éolienne du parc.");
        let unknown = translate(&Problem::refused("SomethingNew", "why"));
        assert_eq!(
            unknown.text,
            "Les règles du registre refusent cette opération."
        );
        let internal = translate(&Problem::new(Kind::Internal, "secret"));
        assert_eq!(internal.text, "Erreur interne : elle a été consignée.");
        let invalid = translate(&Problem::new(
            Kind::Validation,
            "field x: expected a number",
        ));
        assert_eq!(invalid.text, "La demande n'est pas valide.");
    }
}
