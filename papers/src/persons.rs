//! A holder of the vault as the papers print them: the name and postal
//! address a document shows, and a beneficiary as the tax form names them.
//! The vault (in [`windledger_app::people`]) keeps and reads the person;
//! how a paper writes them is the papers' own.

use std::collections::BTreeMap;

use windledger_app::error::Error;
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::{Reader, Vault};
use windledger_domain::types::HolderId;
use windledger_vault::{Identity, Person};

/// Who the `holders` are, for a document printed now: the name and postal
/// address in force of each (none recorded, or erased: left out, and the
/// document shows the id), each read logged.
pub async fn names(
    vault: &Vault,
    runtime: &LedgerRuntime,
    holders: impl IntoIterator<Item = HolderId>,
    reader: &Reader,
) -> Result<BTreeMap<HolderId, windledger_documents::Person>, Error> {
    let holders: Vec<HolderId> = holders.into_iter().collect();
    Ok(vault
        .read_many(runtime, &holders, reader)
        .await?
        .into_iter()
        .map(|(holder, in_force)| (holder, printed(&in_force.person)))
        .collect())
}

/// A person as a document names them: their name, and their postal
/// address with the country when it is not France.
pub fn printed(person: &Person) -> windledger_documents::Person {
    let place = &person.address;
    let mut address = place.lines.clone();
    address.push(format!("{} {}", place.postal_code, place.city));
    if place.country.as_str() != "FR" {
        address.push(place.country.as_str().to_owned());
    }
    windledger_documents::Person {
        name: person.display_name(),
        address,
    }
}

/// Who a beneficiary is, as the IFU (form 2561) names them: their name
/// and address, and a person's birth or a legal person's SIREN.
pub fn beneficiary(person: &Person) -> windledger_documents::tax::Beneficiary {
    let printed = printed(person);
    let identification = match &person.identity {
        Identity::Natural {
            birth: Some(birth), ..
        } => Some(format!(
            "Né(e) le {} à {}",
            birth.date.format("%d/%m/%Y"),
            birth.place
        )),
        Identity::Natural { birth: None, .. } => None,
        Identity::Legal {
            siren, legal_form, ..
        } => Some(match siren {
            Some(siren) => format!("{legal_form}, SIREN {siren}"),
            None => legal_form.clone(),
        }),
    };
    windledger_documents::tax::Beneficiary {
        name: printed.name,
        identification,
        address: printed.address,
    }
}
