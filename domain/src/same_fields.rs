//! An event read back as the command it is the outcome of: most of it is
//! fields moved by name from the event's variant to the command's.

/// A `match` from one enum to another whose variants carry fields of the
/// same names. What a function cannot say: the variants are of two types.
///
/// ```ignore
/// same_fields!(event.clone(), Event => Self {
///     Moved => Move { piece, to },
///     Cited => Cite { text, resolution: resolution.id },
///     Wrapped(Inner) => Unwrap { a, b },
/// } unless {
///     Event::Renamed { old, .. } => Self::Rename { new: old },
/// })
/// ```
///
/// - Each arm takes the fields it lists from the source variant's fields of
///   the same names, into the target variant; the source's other fields
///   are left (the pattern ends with `..`: what the aggregate computed is
///   not the command's).
/// - `field: expression` computes the field from the source's field of the
///   same name (and any other listed).
/// - `Variant(Inner)`: a tuple variant wrapping the struct `Inner`, whose
///   fields are taken.
/// - `&value`: the match borrows; each field is cloned, so only what the
///   command takes is copied. Otherwise `value` is matched by value and its
///   fields moved.
/// - `unless { arms }`: arms written out in full (a field renamed, a value
///   the source does not hold, a literal in the pattern), tried first.
macro_rules! same_fields {
    (@pattern $from:ident::$source:ident { $($field:ident),* }) => {
        $from::$source { $($field,)* .. }
    };
    (@pattern $from:ident::$source:ident($inner:ident) { $($field:ident),* }) => {
        $from::$source($inner { $($field,)* .. })
    };
    (@field $how:ident $field:ident: $value:expr) => { $value };
    (@field move $field:ident) => { $field };
    (@field clone $field:ident) => { ::core::clone::Clone::clone($field) };
    (@match $how:ident, $value:expr, $from:ident => $to:ident {
        $($source:ident $(($inner:ident))? => $target:ident {
            $($field:ident $(: $computed:expr)?),* $(,)?
        }),+ $(,)?
    } $(unless { $($written:tt)* })?) => {
        match $value {
            $($($written)*)?
            $($crate::same_fields::same_fields!(
                @pattern $from::$source $(($inner))? { $($field),* }
            ) => $to::$target {
                $($field: $crate::same_fields::same_fields!(@field $how $field $(: $computed)?)),*
            },)+
        }
    };
    (&$value:expr, $($arms:tt)*) => {
        $crate::same_fields::same_fields!(@match clone, $value, $($arms)*)
    };
    ($value:expr, $($arms:tt)*) => {
        $crate::same_fields::same_fields!(@match move, $value, $($arms)*)
    };
}

pub(crate) use same_fields;
