//! Amounts of money.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::newtype::checked_conversions;
use crate::types::ParseError;

/// An amount in euros, never negative: prices, nominal values, share capital.
///
/// Exact decimal, serialised as a string ("100.00") so that no JSON reader
/// turns it into a float. Signed amounts (a loss, a correction) will get their
/// own type when the financial year needs them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "Decimal", into = "Decimal")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(with = "String", extend("pattern" = "^[0-9]+(\\.[0-9]+)?$"))
)]
pub struct Euros(Decimal);

impl Euros {
    pub const ZERO: Self = Self(Decimal::ZERO);

    pub fn new(amount: Decimal) -> Result<Self, ParseError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            Err(ParseError::NegativeAmount { value: amount })
        } else {
            Ok(Self(amount))
        }
    }

    pub fn amount(self) -> Decimal {
        self.0
    }
}

checked_conversions!(Euros, Decimal);

impl Euros {
    /// Whether the amount is a whole number of cents (accounts are kept to
    /// the cent).
    pub fn is_whole_cents(self) -> bool {
        whole_cents(self.0)
    }

    /// The amount in cents, if it is a whole number of cents that fits.
    pub fn cents(self) -> Option<u64> {
        cents(self.0).and_then(|c| u64::try_from(c).ok())
    }

    /// `cents` cents, e.g. `Euros::from_cents(12_345)` is 123.45.
    pub fn from_cents(cents: u64) -> Self {
        Self(Decimal::from_i128_with_scale(i128::from(cents), 2))
    }

    pub fn signed(self) -> SignedEuros {
        SignedEuros(self.0)
    }
}

/// A signed amount in euros: a net result (a loss is negative), retained
/// earnings (négatives: prior losses), a complément de rémunération (paid
/// back when the market is above the reference price). Exact decimal,
/// serialised as a string.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(from = "Decimal", into = "Decimal")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$"))
)]
pub struct SignedEuros(Decimal);

impl SignedEuros {
    pub const ZERO: Self = Self(Decimal::ZERO);

    pub fn new(amount: Decimal) -> Self {
        Self(amount)
    }

    pub fn amount(self) -> Decimal {
        self.0
    }

    pub fn is_whole_cents(self) -> bool {
        whole_cents(self.0)
    }

    pub fn cents(self) -> Option<i64> {
        cents(self.0)
    }

    pub fn from_cents(cents: i64) -> Self {
        Self(Decimal::from_i128_with_scale(i128::from(cents), 2))
    }

    /// The amount if it is not negative.
    pub fn non_negative(self) -> Option<Euros> {
        Euros::new(self.0).ok()
    }
}

impl From<Decimal> for SignedEuros {
    fn from(amount: Decimal) -> Self {
        Self(amount)
    }
}

impl From<SignedEuros> for Decimal {
    fn from(euros: SignedEuros) -> Decimal {
        euros.0
    }
}

impl fmt::Display for SignedEuros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} €", self.0)
    }
}

fn whole_cents(amount: Decimal) -> bool {
    amount.normalize().scale() <= 2
}

fn cents(amount: Decimal) -> Option<i64> {
    if !whole_cents(amount) {
        return None;
    }
    let cents = amount.checked_mul(Decimal::ONE_HUNDRED)?;
    i64::try_from(cents).ok()
}

/// Rounded to the cent, half away from zero (the usual rule for taxes and
/// invoices).
pub fn round_to_cent(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

impl fmt::Display for Euros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} €", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_are_strings_in_json_and_never_negative() {
        let e = Euros::new(Decimal::new(10050, 2)).expect("positive");
        assert_eq!(
            serde_json::to_string(&e).ok().as_deref(),
            Some("\"100.50\"")
        );
        assert_eq!(serde_json::from_str::<Euros>("\"100.50\"").ok(), Some(e));
        assert!(serde_json::from_str::<Euros>("\"-1\"").is_err());
        assert!(Euros::new(Decimal::new(-1, 2)).is_err());
    }
}
