//! The names of places as the cap table keeps them: the latest name of each
//! place wins, a place never named has none (the pages then show its code).

use windledger_domain::company::{CompanyEvent, PlaceNames};
use windledger_fixtures::farm::{commune, day};
use windledger_fixtures::small_farm::{LOCAL_A, LOCAL_B, charter, formed, incorporation};

use crate::company_projected as projected;

fn communes(names: &[(&str, &str)]) -> PlaceNames {
    PlaceNames {
        communes: names
            .iter()
            .map(|(code, name)| (commune(code), (*name).to_owned()))
            .collect(),
        ..PlaceNames::default()
    }
}

#[test]
fn the_latest_name_of_each_place_wins_and_unnamed_places_have_none() {
    let mut departement = PlaceNames::default();
    departement
        .departements
        .insert("42".to_owned(), "Département de la Loire".to_owned());
    let projections = projected(&[
        CompanyEvent::Incorporated {
            company: incorporation(),
            charter: charter().build(),
        },
        CompanyEvent::PlacesNamed {
            places: communes(&[(LOCAL_A, "Burdine"), (LOCAL_B, "Saint-Sauveur-en-Rue")]),
            effective_date: formed(),
        },
        CompanyEvent::PlacesNamed {
            places: departement,
            effective_date: day(2014, 1, 1),
        },
        CompanyEvent::PlacesNamed {
            places: communes(&[(LOCAL_A, "Burdignes")]),
            effective_date: day(2015, 1, 1),
        },
    ]);
    let cap_table = projections.cap_table.fold();
    let places = cap_table.place_names();
    assert_eq!(places.commune(&commune(LOCAL_A)), Some("Burdignes"));
    assert_eq!(
        places.commune(&commune(LOCAL_B)),
        Some("Saint-Sauveur-en-Rue")
    );
    assert_eq!(places.departement("42"), Some("Département de la Loire"));
    assert_eq!(places.commune(&commune("42023")), None);
    assert_eq!(places.departement("69"), None);
    // Naming places moves the cap table (cached views are read again).
    assert_eq!(cap_table.changed(), 4);
}

#[test]
fn a_ledger_that_names_no_place_has_no_name() {
    let projections = projected(&[CompanyEvent::Incorporated {
        company: incorporation(),
        charter: charter().build(),
    }]);
    assert_eq!(
        projections.cap_table.fold().place_names(),
        &PlaceNames::default()
    );
}
