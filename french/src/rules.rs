//! The domain's refusals in French. A refused command names the rule it
//! broke (its error variant's name, `windledger_domain::Rule`); the rule's
//! own words are English and go to the log, a person reads these.

/// The French sentence of a refusal that says its dates, read back from the
/// rule's own words (which start with the date they give); `None` for
/// another rule, or words it cannot read (then [`refusal`]'s sentence).
pub fn refusal_with_dates(rule: &str, detail: &str) -> Option<String> {
    let first = detail.split_whitespace().next()?;
    match rule {
        // `2026-11 is not over yet ...: its production is reported ...`
        "MonthNotOver" => {
            let month: windledger_domain::finance::YearMonth = first.parse().ok()?;
            let what = if detail.contains("its revenue") {
                "ses recettes se déclarent"
            } else {
                "sa production se déclare"
            };
            Some(format!(
                "Le mois de {} n'est pas terminé : {what} à partir du {}.",
                crate::format::month(month),
                crate::format::date(month.first_day_after())
            ))
        }
        // `2026-12-20 is the earliest a meeting convened on ... can open: ...`
        "NoticeTooShort" => {
            let earliest: chrono::NaiveDate = first.parse().ok()?;
            Some(format!(
                "Le délai de convocation des statuts n'est pas respecté : convoquée à cette date, \
                 l'assemblée peut ouvrir son vote le {} au plus tôt.",
                crate::format::date(earliest)
            ))
        }
        _ => None,
    }
}

/// The French sentence of a domain rule, by its error variant's name.
pub fn refusal(rule: &str) -> Option<&'static str> {
    Some(match rule {
        // Company.
        "NotIncorporated" => "La société n'est pas encore immatriculée.",
        "EffectiveDateTooEarly" => {
            "La date d'effet est antérieure à la dernière opération enregistrée : les dates ne reviennent jamais en arrière."
        }
        "ResolutionRequired" => "Cette opération doit s'appuyer sur une résolution adoptée.",
        "ResolutionNotAdopted" => {
            "La résolution citée ne figure à l'ordre du jour d'aucune assemblée."
        }
        "ResolutionNotClosed" => {
            "La résolution citée n'est pas encore décidée : son assemblée n'est pas close."
        }
        "ResolutionRejected" => {
            "La résolution citée a été rejetée (son décompte dit pourquoi) : elle ne peut fonder cette opération."
        }
        "ResolutionPurposeMismatch" => "La résolution citée n'a pas été adoptée pour cet objet.",
        "WrongDecisionKind" => {
            "Le type de décision ne convient pas à cet objet : les statuts en réservent un autre."
        }
        "ResolutionAdoptedAfterEffectiveDate" => {
            "La résolution a été adoptée après la date d'effet demandée."
        }
        "TermsDeadlinePassed" => {
            "Le délai fixé par la résolution citée est passé : elle n'autorise plus cette opération."
        }
        "TermsOtherHolder" => "La résolution citée autorise cette opération pour un autre associé.",
        "TermsOtherClass" => "La résolution citée porte sur une autre catégorie d'actions.",
        "TermsOtherPrice" => "Le prix par action n'est pas celui que fixe la résolution citée.",
        "TermsPriceMissing" => "La résolution citée fixe un prix par action : indiquez-le.",
        "TermsCountExceeded" => {
            "Le nombre d'actions dépasse ce que la résolution citée autorise, compte tenu des opérations déjà faites en vertu d'elle."
        }
        "TurbineAlreadyCommissioned" => "Cette éolienne est déjà en service.",
        "TurbineNotInService" => {
            "Cette éolienne n'est pas en service à cette date : seule une éolienne en service, mise en service avant ce jour, est renouvelée ou démantelée."
        }
        "AfterDecommissioning" => "Cette éolienne avait quitté le service avant ce mois.",
        "HolderAlreadyRegistered" => "Cet associé est déjà inscrit au registre.",
        "UnknownHolder" => "Cet associé n'est pas inscrit au registre : inscrivez-le d'abord.",
        "HolderHasExited" => "Cet associé a quitté la société.",
        "UnknownCollege" => "Ce collège n'existe pas dans les statuts.",
        "NothingChanges" => "Le registre indique déjà cela : rien à enregistrer.",
        "StillHoldsShares" => "Cet associé détient encore des actions.",
        "NoIdentity" => "Aucune identité n'est enregistrée pour cet associé.",
        "IdentityErased" => {
            "L'identité de cet associé a été effacée : inscrivez-le de nouveau pour en enregistrer une."
        }
        "NotExited" => {
            "Cet associé n'a pas quitté la société : son identité doit être conservée tant qu'il est associé et dix ans après sa sortie."
        }
        "RetentionRunning" => {
            "La durée de conservation (dix ans après la sortie, Code de commerce L123-22) n'est pas écoulée."
        }
        "UnknownShareClass" => "Cette catégorie d'actions n'existe pas dans les statuts.",
        "NoShares" => "Un mouvement doit porter sur au moins une action.",
        "TransferToSelf" => "Un associé ne peut pas se céder des actions à lui-même.",
        "InsufficientShares" => "Le cédant ne détient pas assez d'actions de cette catégorie.",
        "LockedUp" => "Les actions sont inaliénables jusqu'à une date non encore atteinte.",
        "ExemptionNotInCharter" => {
            "Les statuts ne prévoient pas cette exception à l'inaliénabilité des actions."
        }
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
        "TermsUnknownClass" => {
            "Une résolution porte sur une catégorie d'actions qui n'existe pas dans les statuts."
        }
        "TermsWithoutShares" => {
            "Une résolution qui fixe un nombre d'actions en autorise au moins une."
        }
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
        "NoticeTooShort" => {
            "Le délai de convocation des statuts n'est pas respecté : le vote s'ouvre trop tôt après la convocation."
        }
        "NoticeTooLong" => "Un délai de convocation ne peut dépasser un an.",
        "FirstCallUnknown" => "La première convocation citée n'existe pas.",
        "BureauAlreadyConstituted" => "Le bureau de cette assemblée est déjà constitué.",
        "ScrutineerCount" => "Le bureau compte un ou deux scrutateurs.",
        "OfficerTwice" => {
            "Une même personne ne peut tenir deux fonctions du bureau (président, scrutateur, secrétaire)."
        }
        "FirstCallOfAnotherKind" => {
            "La première convocation citée est une assemblée d'une autre nature."
        }
        "FirstCallNotHeld" => {
            "La première convocation citée n'est pas close : une seconde convocation suit une assemblée tenue."
        }
        "FirstCallReachedQuorum" => {
            "La première convocation a atteint son quorum sur toutes ses résolutions : rien n'est à soumettre de nouveau."
        }
        "NotOnTheFirstCall" => {
            "Une résolution de la seconde convocation n'est pas une résolution de la première qui a manqué son quorum (même type de décision, même objet, même texte)."
        }
        "VotingAlreadyOpen" => "Le vote est déjà ouvert.",
        "VotingNotOpen" => "Le vote n'est pas encore ouvert.",
        "OpenedOnOrBeforeRecordDate" => {
            "Le vote ne peut pas s'ouvrir avant la fin de la date d'enregistrement."
        }
        "WindowOver" => "La période de vote est terminée.",
        "ProxyWindowOver" => {
            "La période de vote est terminée : un pouvoir ne peut plus être donné ni révoqué."
        }
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

        "InTheFuture" => {
            "Cette date est dans le futur : le registre n'enregistre que ce qui a eu lieu."
        }
        "PostalFormOutsideTime" => {
            "Un formulaire de vote par correspondance doit avoir été reçu entre la convocation et la fin du vote."
        }
        "LaterBallotInForce" => {
            "Cet associé a voté après la réception de ce document : son vote plus récent reste en vigueur."
        }
        "ConvocationOutsideTime" => {
            "Les convocations s'enregistrent entre la date de convocation et le jour où le vote s'ouvre."
        }
        "SentInTheFuture" => "Cette date d'envoi est dans le futur.",
        "MinutesBeforeClose" => "Le procès-verbal s'enregistre une fois l'assemblée close.",
        "MinutesWithoutBureau" => "Le procès-verbal nomme le bureau : constituez-le d'abord.",
        "MinutesAlreadyRecorded" => "Le procès-verbal de cette assemblée est déjà enregistré.",
        "InvalidDebates" => "Le résumé des débats est vide ou trop long.",
        "InvalidDocumentsPresented" => {
            "Les documents présentés sont 100 au plus, chacun nommé en 500 caractères au plus."
        }
        "NoMinutes" => "Le procès-verbal n'est pas encore enregistré : il n'y a rien à signer.",
        "NotAnOfficer" => "Seuls les membres du bureau signent le procès-verbal.",
        "AlreadySigned" => "Ce membre du bureau a déjà signé le procès-verbal.",
        "OtherDocumentSigned" => {
            "Les signatures déjà enregistrées portent sur un autre document que le procès-verbal tel qu'il est tiré aujourd'hui : \
             le nom d'un membre du bureau a-t-il été corrigé depuis ?"
        }
        "PaperProxyBeforeConvening" => {
            "Ce pouvoir aurait été reçu avant la convocation de l'assemblée : vérifiez la date de réception."
        }
        "ConvocationCount" => "Un envoi de convocations compte de 1 à 1 000 associés.",
        "ConvenedTwice" => "Un associé figure deux fois dans le même envoi de convocations.",
        "NotConvenable" => {
            "Cet associé ne détenait pas d'action à la date de convocation (ni n'est membre) : il n'est pas convoqué."
        }
        "NotASha256" => "Une empreinte SHA-256 s'écrit en 64 chiffres hexadécimaux minuscules.",
        "BadSignature" => {
            "Cette signature Ed25519 ne correspond pas au procès-verbal tel qu'il est tiré : vérifiez la clé et l'empreinte signée."
        }
        "WitnessQuorumOutOfRange" => {
            "Le nombre de cosignatures exigé doit être compris entre 1 et le nombre de témoins nommés par les statuts."
        }
        "DuplicateWitness" => "Un même témoin (la même clé) est nommé deux fois dans les statuts.",
        "InvalidWitness" => {
            "Un témoin se nomme par sa clé publique, telle que `windledger witness` l'affiche, et par une adresse http:// ou https://."
        }
        "PostalDeadlineOutOfRange" => {
            "Les délais du vote par correspondance : au plus un an pour le papier, une heure de 0 à 23 pour la voie électronique."
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
        "WithholdingStatusOfNonIndividual" => {
            "Seule une personne physique est dispensée de prélèvement ou non-résidente, et seul un club d'investissement demande la retenue pour ses membres : une personne morale ou une association reçoit le brut."
        }
        "WithholdingStatusMisfit" => {
            "Cette situation fiscale ne convient pas à cet associé : la dispense et la non-résidence sont celles d'une personne physique, la retenue pour les membres celle d'un club d'investissement."
        }
        "WithholdingStatusOffRoll" => "Cet associé n'est pas sur la liste du dividende.",
        "WithholdingUndecided" => {
            "Cet associé est imposé hors de France : enregistrez d'abord la retenue décidée sur son dividende."
        }
        "NotNonResident" => {
            "Cet associé n'est pas non-résident pour ce dividende : sa retenue suit la règle française."
        }
        "WithholdingAlreadyDecided" => {
            "La retenue sur le dividende de cet associé est déjà décidée."
        }
        "WithheldAboveGross" => "La retenue dépasse le dividende brut de cet associé.",
        // Current-account advances.
        "AlreadyGranted" => "Cette avance est déjà consentie.",
        "NotGranted" => "Cette avance n'est pas encore consentie.",
        "NotAShareholder" => {
            "Seul un associé consent une avance en compte courant : ce prêteur ne détenait pas d'actions ce jour-là."
        }
        "RepaymentAboveOutstanding" => "Le remboursement dépasse le capital restant dû.",
        "AlreadyAccrued" => "Les intérêts de cette année sont déjà calculés.",
        "YearBeforeGrant" => "L'avance a été consentie après cette année.",
        "YearNotEnded" => "Les intérêts d'une année se calculent à partir du 1er janvier suivant.",
        "InterestNotAccrued" => {
            "Les intérêts de cette année ne sont pas calculés : calculez-les avant de les verser."
        }
        "InterestAlreadyPaid" => "Les intérêts de cette année sont déjà versés.",
        "NoInterestToPay" => "Rien à verser : les intérêts nets de cette année sont nuls.",
        "InterestWithholdingUndecided" => {
            "Le prêteur est imposé hors de France : enregistrez d'abord la retenue décidée sur ses intérêts."
        }
        "InterestNotNonResident" => {
            "Le prêteur n'est pas non-résident pour ces intérêts : leur retenue suit la règle française."
        }
        "InterestWithholdingAlreadyDecided" => "La retenue sur ces intérêts est déjà décidée.",
        "InterestWithheldAboveGross" => "La retenue dépasse les intérêts bruts.",
        "StatusWithoutRates" => {
            "Une situation fiscale (dispense, non-résident) se donne avec les taux de la retenue."
        }
        "NoDividendDeclared" => "Aucun dividende n'est mis en distribution pour cet exercice.",
        "UnknownAdvance" => "Cette avance en compte courant n'existe pas.",
        "NoInterestAccrued" => {
            "Aucun intérêt de cette année n'est calculé sur les avances : calculez-les d'abord."
        }
        "NothingToTransfer" => {
            "Aucun virement à faire : chaque associé est payé, ou n'a pas de coordonnées bancaires."
        }
        // The territory fund's budgeting rounds.
        "RoundAlreadyConvened" => {
            "Ce budget participatif est déjà convoqué : choisissez un autre identifiant."
        }
        "RoundNotConvened" => "Ce budget participatif n'est pas convoqué.",
        "InvalidBudget" => "L'enveloppe doit être un montant positif, au centime.",
        "InvalidCommunes" => "Nommez au moins une commune, chacune une fois.",
        "InvalidWindows" => {
            "Les périodes doivent se suivre : le dépôt des projets se ferme avant que le vote n'ouvre, et chacune ouvre avant de se fermer."
        }
        "InvalidMaxApprovals" => "Un bulletin retient au moins un projet.",
        "OutsideSubmissions" => "Les projets ne se déposent que pendant la période de dépôt.",
        "ReviewClosed" => "Le vote est ouvert : la recevabilité des projets ne peut plus changer.",
        "OutsideVoting" => "On ne vote que pendant la période de vote.",
        "VotingNotClosed" => "Le vote n'est pas clos : le dépouillement se fait après sa clôture.",
        "AlreadyTallied" => "Ce budget participatif est déjà dépouillé.",
        "NotAResident" => {
            "Cette personne n'est pas inscrite parmi les habitants du territoire : la commune valide d'abord son inscription."
        }
        "CommuneNotInRound" => {
            "Cet habitant ne vit pas dans une commune de ce budget participatif."
        }
        "ProposalCommuneNotInRound" => "Ce projet vise une commune hors de ce budget participatif.",
        "DuplicateProposal" => "Un projet porte déjà cet identifiant.",
        "TooManyProposals" => "Ce budget participatif a reçu le nombre maximal de projets.",
        "UnknownProposal" => "Ce projet n'existe pas dans ce budget participatif.",
        "InvalidText" => "Le titre est requis, et chaque texte reste dans sa longueur maximale.",
        "InvalidCost" => {
            "Le coût d'un projet est un montant positif, au centime, au plus l'enveloppe."
        }
        "ReasonMisfit" => {
            "Un projet jugé irrecevable est motivé ; un projet recevable ne l'est pas."
        }
        "AlreadyVoted" => "Cet habitant a déjà voté : un bulletin est définitif.",
        "InvalidApprovals" => "Un bulletin retient au moins un projet, chacun une fois.",
        "TooManyApprovals" => "Ce bulletin retient plus de projets que le règlement ne le permet.",
        "NotOnTheBallot" => "Ce projet n'a pas été jugé recevable : il n'est pas soumis au vote.",
        // The territory fund.
        "AlreadyRegistered" => "Cet habitant est déjà inscrit.",
        "SameCommune" => "Cet habitant vit déjà dans cette commune.",
        "SameIdentity" => "Cette identité est déjà celle en vigueur pour cet habitant.",
        "NoFeed" => {
            "Les statuts ne prévoient pas de fonds de territoire : modifiez-les pour dire ce qui l'alimente."
        }
        "YearBeforeFeed" => "Cet exercice précède le premier exercice qui alimente le fonds.",
        "UnknownYear" => "Cet exercice n'existe pas.",
        "AccountsNotApproved" => {
            "Les comptes de cet exercice ne sont pas approuvés : le fonds est alimenté une fois qu'ils le sont."
        }
        "AlreadyFed" => "Cet exercice a déjà alimenté le fonds.",
        "RoundNotTallied" => "Ce budget participatif n'est pas dépouillé.",
        "AlreadyCommitted" => "Les projets de ce budget participatif sont déjà engagés.",
        "InsufficientFunds" => "Le fonds ne dispose pas de quoi engager les projets retenus.",
        "UnknownCommitment" => "Aucun engagement du fonds envers ce projet.",
        "PaymentAboveOutstanding" => "Ce paiement dépasse ce qui reste dû au projet.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_rule_reads_in_french_and_an_unknown_one_has_no_sentence() {
        assert_eq!(
            super::refusal("UnknownTurbine"),
            Some("Cette éolienne n'est pas une éolienne du parc.")
        );
        assert_eq!(super::refusal("NoSuchRule"), None);
    }

    #[test]
    fn a_notice_too_short_says_the_first_day_the_vote_can_open() {
        use windledger_domain::Rule;
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).expect("a day");
        let e = windledger_domain::meeting::MeetingError::NoticeTooShort {
            call: "first call",
            days: 15,
            convened_on: day(1),
            opens_on: day(10),
            earliest: day(16),
        };
        assert_eq!(
            super::refusal_with_dates(e.rule(), &e.to_string()).as_deref(),
            Some(
                "Le délai de convocation des statuts n'est pas respecté : convoquée à cette date, \
                 l'assemblée peut ouvrir son vote le 16 décembre 2026 au plus tôt."
            )
        );
        // Words it cannot read: no sentence with a date (the rule's own).
        assert_eq!(
            super::refusal_with_dates("NoticeTooShort", "too short"),
            None
        );
        assert!(super::refusal("NoticeTooShort").is_some());
    }
}
