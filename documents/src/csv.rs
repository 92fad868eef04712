//! CSV cells as windledger writes them, whatever the separator: hidden
//! characters replaced, a formula neutralised, quoted when the cell holds
//! the separator, a quote or a line break (RFC 4180).

use std::borrow::Cow;

/// A field as written with `separator` between fields.
pub fn field(field: &str, separator: char) -> Cow<'_, str> {
    let field = visible(field);
    let field = if runs_as_formula(&field) {
        Cow::Owned(format!("'{field}"))
    } else {
        field
    };
    if field.contains([separator, '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        field
    }
}

/// One line of fields, CRLF-terminated.
pub fn row(out: &mut Vec<u8>, fields: &[&str], separator: char) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            let mut buf = [0; 4];
            out.extend_from_slice(separator.encode_utf8(&mut buf).as_bytes());
        }
        out.extend_from_slice(field(f, separator).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether a spreadsheet would read the cell as a formula (or strip a
/// leading tab or carriage return and then read one).
fn runs_as_formula(field: &str) -> bool {
    field.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number(field)
}

/// `-?[0-9]+(\.[0-9]+)?`: a number as the exports write them.
fn plain_number(field: &str) -> bool {
    let digits = field.strip_prefix('-').unwrap_or(field);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// The field with every hidden character (a control character but tab,
/// line feed and carriage return; a bidirectional formatting character)
/// replaced by U+FFFD.
fn visible(field: &str) -> Cow<'_, str> {
    let hidden =
        |c: char| windledger_domain::input::refused_in_text(c) && !matches!(c, '\t' | '\n' | '\r');
    if field.contains(hidden) {
        Cow::Owned(field.replace(hidden, "\u{fffd}"))
    } else {
        Cow::Borrowed(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_holding_the_separator_is_quoted() {
        assert_eq!(field("Dupont; Jeanne", ';'), "\"Dupont; Jeanne\"");
        assert_eq!(field("Dupont, Jeanne", ';'), "Dupont, Jeanne");
        assert_eq!(field("Dupont, Jeanne", ','), "\"Dupont, Jeanne\"");
        assert_eq!(field("=HYPERLINK(1)", ';'), "'=HYPERLINK(1)");
        assert_eq!(field("-12.5", ';'), "-12.5");
    }
}
