//! The conversions the validated newtypes share.
//!
//! A newtype of [`crate::types`], [`crate::money`], [`crate::ratio`] or
//! [`crate::finance::types`] is (de)serialised through its raw value with
//! `#[serde(try_from = "...", into = "...")]`, so that a payload read back
//! from the log goes through the same check as a command. These macros
//! write that pair of conversions once.

/// `TryFrom<$raw>` through the type's checking constructor `new`, and
/// `From<$name> for $raw`, giving back the value it wraps.
macro_rules! checked_conversions {
    ($name:ident, $raw:ty) => {
        impl TryFrom<$raw> for $name {
            type Error = $crate::types::ParseError;
            fn try_from(value: $raw) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for $raw {
            fn from(value: $name) -> $raw {
                value.0.into()
            }
        }
    };
}

/// `TryFrom<String>` through the type's `FromStr`, and `From<$name> for
/// String` through its `Display`: a value written as text (`"1/3"`,
/// `"2025-03"`) and parsed back.
macro_rules! text_conversions {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = $crate::types::ParseError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.to_string()
            }
        }
    };
}

/// `Display` as the text the type wraps.
macro_rules! display_as_str {
    ($name:ident) => {
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use {checked_conversions, display_as_str, text_conversions};
