//! The API's problems in French: a refused command names the domain's rule
//! (its error variant), which is translated here. The rule's own words are
//! English, so they go to the log, never to the page.

use windledger_domain::finance::YearMonth;
use windledger_domain::types::ParseError;

use crate::format;
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

/// The French sentence of a domain rule, by its error variant's name.
fn rule_text(rule: &str) -> Option<&'static str> {
    Some(match rule {
        // Company.
        "NotIncorporated" => "La société n'est pas encore immatriculée.",
        "EffectiveDateTooEarly" => {
            "La date d'effet est antérieure à la dernière opération enregistrée : les dates ne reviennent jamais en arrière."
        }
        "ResolutionRequired" => "Cette opération doit s'appuyer sur une résolution adoptée.",
        "ResolutionNotAdopted" => "La résolution citée est inconnue, pas encore close ou rejetée.",
        "ResolutionPurposeMismatch" => "La résolution citée n'a pas été adoptée pour cet objet.",
        "WrongDecisionKind" => {
            "Le type de décision ne convient pas à cet objet : les statuts en réservent un autre."
        }
        "ResolutionAdoptedAfterEffectiveDate" => {
            "La résolution a été adoptée après la date d'effet demandée."
        }
        "HolderAlreadyRegistered" => "Cet associé est déjà inscrit au registre.",
        "UnknownHolder" => "Cet associé n'est pas inscrit au registre : inscrivez-le d'abord.",
        "HolderHasExited" => "Cet associé a quitté la société.",
        "UnknownCollege" => "Ce collège n'existe pas dans les statuts.",
        "NothingChanges" => "Le registre indique déjà cela : rien à enregistrer.",
        "StillHoldsShares" => "Cet associé détient encore des actions.",
        "UnknownShareClass" => "Cette catégorie d'actions n'existe pas dans les statuts.",
        "NoShares" => "Un mouvement doit porter sur au moins une action.",
        "TransferToSelf" => "Un associé ne peut pas se céder des actions à lui-même.",
        "InsufficientShares" => "Le cédant ne détient pas assez d'actions de cette catégorie.",
        "LockedUp" => "Les actions sont inaliénables jusqu'à une date non encore atteinte.",
        "ApprovalRequired" => {
            "Le cessionnaire ne détient pas encore d'actions : un agrément (résolution adoptée) est nécessaire."
        }
        "PriceBelowNominal" => "Le prix est inférieur à la valeur nominale.",
        "AuthorisedSharesExceeded" => {
            "Le nombre d'actions autorisé par les statuts serait dépassé."
        }
        "CapBreached" => {
            "L'opération enfreindrait un plafond ou un plancher de détention des statuts."
        }
        // Meetings.
        "AlreadyConvened" => {
            "Cette assemblée est déjà convoquée : choisissez un autre identifiant."
        }
        "NotConvened" => "Cette assemblée n'est pas convoquée.",
        "MeetingIdTooLong" => "L'identifiant de l'assemblée est trop long (60 caractères au plus).",
        "EmptyAgenda" => "L'ordre du jour est vide : ajoutez au moins une résolution.",
        "TooManyResolutions" => "L'ordre du jour a trop de résolutions.",
        "InvalidResolutionText" => "Le texte d'une résolution est vide ou trop long.",
        "UnknownDecisionKind" => "Ce type de décision n'existe pas dans les statuts en vigueur.",
        "EmptyVotingWindow" => "La clôture du vote doit venir après son ouverture.",
        "RecordDateNotBeforeOpening" => {
            "La date d'enregistrement doit précéder le jour d'ouverture du vote."
        }
        "ConvenedAfterRecordDate" => {
            "La date de convocation doit précéder (ou égaler) la date d'enregistrement."
        }
        "MembersRequired" => "Un conseil ou un comité a besoin de la liste de ses membres.",
        "MembersNotAllowed" => {
            "Une assemblée générale vote sur la table de capitalisation : ne donnez pas de liste de membres."
        }
        "DuplicateMember" => "Un membre figure deux fois dans la liste.",
        "SecondCallOfItself" => "Une seconde convocation doit renvoyer à une autre assemblée.",
        "VotingAlreadyOpen" => "Le vote est déjà ouvert.",
        "VotingNotOpen" => "Le vote n'est pas encore ouvert.",
        "OpenedOnOrBeforeRecordDate" => {
            "Le vote ne peut pas s'ouvrir avant la fin de la date d'enregistrement."
        }
        "WindowOver" => "La période de vote est terminée.",
        "EmptyRoll" => "Personne ne détient de voix à la date d'enregistrement.",
        "Closed" => "L'assemblée est close.",
        "NotOnRoll" => "Cet associé ne figure pas sur la liste d'émargement de l'assemblée.",
        "ProxyToSelf" => "On ne peut pas se donner pouvoir à soi-même.",
        "ProxyAlreadyGiven" => "Un pouvoir est déjà donné : révoquez-le d'abord.",
        "NoProxyGiven" => "Aucun pouvoir n'a été donné dans cette assemblée.",
        "ProxyHasGivenProxy" => {
            "Ce mandataire a lui-même donné pouvoir : il ne peut pas en recevoir (pas de chaîne de pouvoirs)."
        }
        "GrantorHoldsProxies" => {
            "Vous détenez des pouvoirs d'autres associés : vous ne pouvez pas donner le vôtre."
        }
        "ProxyCapReached" => "Ce mandataire détient déjà le nombre maximal de pouvoirs.",
        "OutsideVotingWindow" => "Le vote n'est pas ouvert à cette heure-ci.",
        "VoterIsRepresented" => {
            "Cet associé est représenté par un mandataire : seul le mandataire vote pour lui, jusqu'à la révocation du pouvoir."
        }
        "NotTheProxy" => "Vous ne détenez pas de pouvoir de cet associé.",
        "IncompleteBallot" => "Le bulletin doit donner un choix pour chaque résolution.",
        "UnknownResolution" => "Une résolution du bulletin n'est pas à l'ordre du jour.",
        "CloseBeforeWindowEnds" => {
            "La période de vote n'est pas terminée : l'assemblée ne peut pas encore être close."
        }
        // Financial years.
        "AlreadyOpened" => "Cet exercice est déjà ouvert.",
        "NotOpened" => {
            "Cet exercice n'est pas ouvert : seul le secrétariat de la société l'ouvre (par l'API, avec un jeton de secrétaire). Demandez-le-lui avant de déclarer."
        }
        "MonthNotOver" => {
            "Ce mois n'est pas terminé : sa production et ses recettes se déclarent à partir du 1er du mois suivant."
        }
        "AccountsAlreadyApproved" => {
            "Les comptes de cet exercice sont approuvés : enregistrez la correction sur l'exercice suivant."
        }
        "DuplicateReport" => {
            "Cet identifiant de rapport est déjà utilisé : donnez à chaque rapport son propre identifiant."
        }
        "UnknownReport" => "Le rapport à corriger n'existe pas dans cet exercice.",
        "ReportAlreadyCorrected" => {
            "Ce rapport a déjà été corrigé : corrigez la dernière correction."
        }
        "CorrectionOfAnotherKind" => {
            "Une correction doit être de la même nature que le rapport corrigé."
        }
        "CorrectionChangesSubject" => {
            "Une correction garde l'éolienne et le mois (ou l'année fiscale) du rapport corrigé."
        }
        "UnknownTurbine" => "Cette éolienne n'est pas une éolienne du parc.",
        "MonthOutsideYear" => "Ce mois n'est pas dans l'exercice.",
        "BeforeCommissioning" => "Cette éolienne n'était pas encore mise en service ce mois-là.",
        "ProductionAlreadyReported" => {
            "La production de cette éolienne pour ce mois est déjà déclarée : envoyez une correction (colonne « corrects »)."
        }
        "InvalidQuantity" => {
            "Une quantité doit être un nombre positif ou nul, avec au plus trois décimales (MWh) ou deux (prix)."
        }
        "InvalidAvailability" => "La disponibilité doit être comprise entre 0 et 100 %.",
        "SubCentAmount" => "Les montants sont tenus au centime près.",
        "Overflow" => "Un montant est trop grand : vérifiez les chiffres.",
        _ => return None,
    })
}

/// A month's production or revenue sent before the month is over, said
/// with the month and the day it can be sent: both read back from the
/// rule's own words, which start with the month (`2026-11 is not over
/// yet ...: its production is reported ...`).
fn month_not_over(p: &Problem) -> Option<String> {
    if p.rule.as_deref() != Some("MonthNotOver") {
        return None;
    }
    let month: YearMonth = p.detail.split_whitespace().next()?.parse().ok()?;
    let what = if p.detail.contains("its revenue") {
        "ses recettes se déclarent"
    } else {
        "sa production se déclare"
    };
    Some(format!(
        "Le mois de {} n'est pas terminé : {what} à partir du {}.",
        format::month(month),
        format::date(month.first_day_after())
    ))
}

/// A problem as a French message.
pub fn translate(p: &Problem) -> Message {
    tracing::info!(kind = %p.kind, rule = ?p.rule, detail = %p.detail, "shown in French");
    if let Some(text) = month_not_over(p) {
        return Message::new(text);
    }
    let text = if p.kind == Kind::Refused.uri() {
        rule_text(p.rule.as_deref().unwrap_or(""))
            .unwrap_or("Les règles du registre refusent cette opération.")
    } else if p.kind == Kind::Validation.uri() {
        "La demande n'est pas valide."
    } else if p.kind == Kind::VersionConflict.uri() {
        "Quelqu'un a modifié ces données au même instant : renvoyez le formulaire."
    } else if p.kind == Kind::Unavailable.uri() {
        "Le registre n'est pas joignable pour le moment : réessayez dans un instant."
    } else if p.kind == Kind::Forbidden.uri() {
        "Votre rôle ne permet pas cette opération."
    } else if p.kind == Kind::NotFound.uri() {
        "Élément introuvable."
    } else if p.kind == Kind::FiguresOutOfRange.uri() {
        "Des chiffres enregistrés avant que windledger ne borne les montants ne peuvent pas être additionnés : corrigez le rapport nommé."
    } else {
        "Erreur interne : elle a été consignée."
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
