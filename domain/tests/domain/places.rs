//! Names of places: the secretary names the territory's communes, EPCIs and
//! départements so that the pages say "Burdignes" instead of
//! "Commune 42026". Only places the company knows are named.

use std::collections::BTreeMap;

use serde_json::json;
use windledger_domain::company::{CompanyCommand, CompanyError, CompanyEvent, PlaceNames};
use windledger_domain::types::{CommuneCode, ParseError};
use windledger_fixtures::farm::siren;

use crate::common::*;

fn names(communes: &[(&str, &str)], departements: &[(&str, &str)]) -> PlaceNames {
    PlaceNames {
        communes: communes
            .iter()
            .map(|(code, name)| (commune(code), (*name).to_owned()))
            .collect(),
        epcis: BTreeMap::new(),
        departements: departements
            .iter()
            .map(|(code, name)| ((*code).to_owned(), (*name).to_owned()))
            .collect(),
    }
}

fn name_places(places: PlaceNames) -> CompanyCommand {
    CompanyCommand::NamePlaces {
        places,
        effective_date: later(),
    }
}

fn the_territory() -> PlaceNames {
    let mut places = names(
        &[(LOCAL_A, "Burdignes"), (LOCAL_B, "Saint-Sauveur-en-Rue")],
        &[("42", "Département de la Loire")],
    );
    places.epcis.insert(
        siren("24420077"),
        "Communauté de communes des Monts du Pilat".to_owned(),
    );
    places
}

/// `places` named on the incorporated farm (the command's date, later()).
fn named(places: PlaceNames) -> CompanyEvent {
    CompanyEvent::PlacesNamed {
        places,
        effective_date: later(),
    }
}

/// Naming `places` on the incorporated farm records them.
fn naming_accepted(places: PlaceNames) {
    framework()
        .given(incorporated())
        .when(name_places(places.clone()))
        .then_expect_events(vec![named(places)]);
}

/// Naming `places` after the events `given` is refused with `error`.
fn naming_refused(given: Vec<CompanyEvent>, places: PlaceNames, error: CompanyError) {
    framework()
        .given(given)
        .when(name_places(places))
        .then_expect_error(error);
}

#[test]
fn the_secretary_names_the_territorys_communes_its_epci_and_its_departement() {
    naming_accepted(the_territory());
}

#[test]
fn a_holders_commune_outside_the_territory_and_its_departement_may_be_named() {
    let lyon = names(&[(ELSEWHERE, "Lyon")], &[("69", "Département du Rhône")]);
    naming_accepted(lyon);
}

#[test]
fn any_epci_may_be_named_since_the_company_stream_knows_none() {
    let mut places = PlaceNames::default();
    places.epcis.insert(
        siren("20004664"),
        "Communauté d'agglomération voisine".to_owned(),
    );
    naming_accepted(places);
}

#[test]
fn naming_nothing_is_refused() {
    naming_refused(
        incorporated(),
        PlaceNames::default(),
        CompanyError::NoPlaceNamed,
    );
}

#[test]
fn a_commune_neither_in_the_territory_nor_of_a_holder_is_refused() {
    let paris = names(&[(LOCAL_A, "Burdignes"), ("75056", "Paris")], &[]);
    naming_refused(
        incorporated(),
        paris,
        CompanyError::UnknownCommune(commune("75056")),
    );
}

#[test]
fn a_departement_without_a_known_commune_is_refused() {
    let paris = names(&[], &[("75", "Paris")]);
    naming_refused(
        incorporated(),
        paris,
        CompanyError::UnknownDepartement("75".to_owned()),
    );
}

#[test]
fn places_are_named_only_once_the_company_is_incorporated() {
    naming_refused(vec![], the_territory(), CompanyError::NotIncorporated);
}

#[test]
fn names_are_recorded_in_date_order_like_every_fact() {
    let mut given = incorporated();
    given.push(named(the_territory()));
    framework()
        .given(given)
        .when(CompanyCommand::NamePlaces {
            places: the_territory(),
            effective_date: formed(),
        })
        .then_expect_error(CompanyError::EffectiveDateTooEarly {
            effective_date: formed(),
            latest: later(),
        });
}

#[test]
fn the_command_reads_back_from_its_event_and_the_event_keeps_its_json_form() {
    let event = CompanyEvent::PlacesNamed {
        places: names(&[(LOCAL_A, "Burdignes")], &[]),
        effective_date: later(),
    };
    assert_eq!(
        CompanyCommand::from(&event),
        name_places(names(&[(LOCAL_A, "Burdignes")], &[]))
    );
    assert_eq!(
        serde_json::to_value(&event).expect("an event's JSON"),
        json!({"PlacesNamed": {
            "places": {"communes": {"42026": "Burdignes"}, "epcis": {}, "departements": {}},
            "effective_date": "2016-07-01"
        }})
    );
}

#[test]
fn a_command_may_give_only_the_kinds_of_places_it_names() {
    let command: CompanyCommand = serde_json::from_value(json!({
        "command": "name_places",
        "places": {"communes": {"42026": "Burdignes"}},
        "effective_date": "2016-07-01"
    }))
    .expect("a command naming communes only");
    assert_eq!(command, name_places(names(&[(LOCAL_A, "Burdignes")], &[])));
    let misspelt = serde_json::from_value::<CompanyCommand>(json!({
        "command": "name_places",
        "places": {"commune": {"42026": "Burdignes"}},
        "effective_date": "2016-07-01"
    }));
    assert!(misspelt.is_err(), "an unknown field is refused");
}

fn refused_name(name: &str) -> String {
    let command = name_places(names(&[(LOCAL_A, name)], &[]));
    match command.check_input() {
        Err(ParseError::OutOfBounds { what, .. })
        | Err(ParseError::ControlCharacter { what, .. }) => what,
        other => panic!("expected {name:?} to be refused, got {other:?}"),
    }
}

#[test]
fn a_name_is_one_line_of_visible_text_of_at_most_200_characters() {
    assert_eq!(refused_name("Bur\ndignes"), "places.communes.42026");
    assert_eq!(refused_name("Bur\u{202E}dignes"), "places.communes.42026");
    assert_eq!(refused_name("   "), "places.communes.42026");
    assert_eq!(refused_name(""), "places.communes.42026");
    assert_eq!(refused_name(&"a".repeat(201)), "places.communes.42026");
    let longest = name_places(names(&[(LOCAL_A, &"é".repeat(200))], &[]));
    assert_eq!(longest.check_input(), Ok(()));
    let departement = name_places(names(&[], &[("42", "Loire\u{0007}")]));
    assert!(departement.check_input().is_err());
}

#[test]
fn the_latest_name_of_a_place_wins_and_the_others_stay() {
    let mut places = the_territory();
    places.merge(&names(&[(LOCAL_A, "Burdignes (Loire)")], &[]));
    assert_eq!(places.commune(&commune(LOCAL_A)), Some("Burdignes (Loire)"));
    assert_eq!(
        places.commune(&commune(LOCAL_B)),
        Some("Saint-Sauveur-en-Rue")
    );
    assert_eq!(places.departement("42"), Some("Département de la Loire"));
    let unnamed = CommuneCode::new("42023").expect("a commune code");
    assert_eq!(places.commune(&unnamed), None);
}
