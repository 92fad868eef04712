//! The conversions the validated newtypes share.
//!
//! A newtype of [`crate::types`], [`crate::money`], [`crate::ratio`] or
//! [`crate::finance::types`] is (de)serialised through its raw value with
//! `#[serde(try_from = "...", into = "...")]` (the ids, through borrowed
//! text: `str_serde`), so that a payload read back from the log goes
//! through the same check as a command. These macros write those
//! conversions once.

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

/// Serialised as the text it wraps, and read back from text without a
/// `String` of its own: the type's `parse(&str)` checks it as `new` does,
/// and an id of up to 24 bytes is then held inline. A rebuild's payloads
/// carry many ids (a ballot's resolutions, a dividend's allocations to
/// 20,000 holders); reading each through a `String` first cost an
/// allocation and a free apiece. The text written and the errors are
/// those of `#[serde(try_from = "String", into = "String")]`.
macro_rules! str_serde {
    ($name:ident) => {
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Text;
                impl serde::de::Visitor<'_> for Text {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(Text)
            }
        }
    };
}

pub(crate) use {checked_conversions, display_as_str, str_serde, text_conversions};
