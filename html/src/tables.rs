//! Data tables with their caption and headers, that read as cards on a
//! phone, and the links to a page's sections.

use maud::{Markup, PreEscaped, html};

/// A data table written by hand (one with a footer, or whose columns are
/// known only at run time) in its box, made to fit as [`table`]'s do: on a
/// phone (`.cards` in the style sheet) each row becomes a card, each cell
/// a line after its column's header, which this writes into the cell's
/// `data-label`.
pub fn cards(table: Markup) -> Markup {
    html! { div.table.cards { (PreEscaped(labelled(&table.into_string()))) } }
}

/// `table` (maud's output) with each cell after the header row given the
/// text of its column's header as `data-label`. maud escapes `<`, `>` and
/// `"` in text and attributes, so every `<` opens a tag, every `>` closes
/// one, and a header's text without its tags is a valid attribute value.
fn labelled(table: &str) -> String {
    let Some((head, body)) = table.split_once("</thead>") else {
        return table.to_owned();
    };
    let headers: Vec<String> = head
        .split("<th")
        .skip(1)
        .filter(|cell| cell.starts_with([' ', '>']))
        .map(|cell| {
            let inner = cell.split_once('>').map_or("", |(_, rest)| rest);
            let inner = inner.split("</th>").next().unwrap_or("");
            without_tags(inner).trim().to_owned()
        })
        .collect();
    let mut out = String::with_capacity(table.len() + table.len() / 4);
    out.push_str(head);
    out.push_str("</thead>");
    let mut column = 0;
    let mut rest = body;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let tag = rest.get(..3).unwrap_or("");
        let opens = matches!(rest.as_bytes().get(3), Some(b' ' | b'>'));
        if opens && tag == "<tr" {
            column = 0;
        } else if opens && (tag == "<td" || tag == "<th") {
            out.push_str(tag);
            if let Some(header) = headers.get(column).filter(|h| !h.is_empty()) {
                out.push_str(" data-label=\"");
                out.push_str(header);
                out.push('"');
            }
            column += colspan(&rest[..rest.find('>').unwrap_or(rest.len())]);
            rest = &rest[3..];
            continue;
        }
        out.push('<');
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// The columns a cell's opening tag spans.
fn colspan(tag: &str) -> usize {
    tag.split_once(" colspan=\"")
        .and_then(|(_, n)| n.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

fn without_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        text.push_str(&rest[..at]);
        rest = rest[at..].split_once('>').map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    text
}

/// A column of a data table: its header, and whether it holds figures
/// (aligned right).
pub enum Col {
    Text(&'static str),
    Num(&'static str),
}

/// A data table with its caption, its column headers and its rows: every
/// table of the pages has this shape, and fits as [`cards`] says.
pub fn table(caption: impl maud::Render, columns: &[Col], rows: Markup) -> Markup {
    cards(html! {
        table {
            caption { (caption) }
            thead { tr {
                @for column in columns {
                    @match column {
                        Col::Text(header) => th scope="col" { (header) },
                        Col::Num(header) => th.num scope="col" { (header) },
                    }
                }
            } }
            tbody { (rows) }
        }
    })
}

/// A page's section under its heading `title` (whose id, `id`, labels
/// the section): `nothing` in a paragraph when `empty`, else `body`.
pub fn section(
    id: &str,
    title: &str,
    empty: bool,
    nothing: &str,
    body: impl FnOnce() -> Markup,
) -> Markup {
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (title) }
            @if empty { p { (nothing) } } @else { (body()) }
        }
    }
}

/// "Sur cette page": links to the page's sections, `(anchor, title)`.
pub fn contents(sections: &[(&str, &str)]) -> Markup {
    html! {
        nav aria-label="Sur cette page" {
            ul { @for (anchor, title) in sections { li { a href={ "#" (anchor) } { (title) } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_reads_as_one_written_by_hand() {
        let by_hand = |empty: bool| {
            html! {
                section aria-labelledby="annees" {
                    h2 #annees { "Année par année" }
                    @if empty {
                        p { "Le fonds n'a encore rien reçu." }
                    } @else {
                        p { "1 & <2>" }
                    }
                }
            }
        };
        for empty in [true, false] {
            let made = section(
                "annees",
                "Année par année",
                empty,
                "Le fonds n'a encore rien reçu.",
                || html! { p { "1 & <2>" } },
            );
            assert_eq!(made.into_string(), by_hand(empty).into_string());
        }
    }

    #[test]
    fn each_cell_is_labelled_with_its_columns_header_and_nothing_else_changes() {
        let rows = html! {
            tr { th scope="row" { "2024" } td.num { "1 200,00 €" } td { "a <td> & \"b\"" } }
            tr { td { "2025" } td.num { "—" } }
        };
        let columns = [
            Col::Text("Exercice"),
            Col::Num("Brut \"€\""),
            Col::Text("Versé"),
        ];
        assert_eq!(
            table("Légende", &columns, rows).into_string(),
            "<div class=\"table cards\"><table><caption>Légende</caption><thead><tr>\
             <th scope=\"col\">Exercice</th><th class=\"num\" scope=\"col\">Brut &quot;€&quot;</th>\
             <th scope=\"col\">Versé</th></tr></thead><tbody>\
             <tr><th data-label=\"Exercice\" scope=\"row\">2024</th>\
             <td data-label=\"Brut &quot;€&quot;\" class=\"num\">1 200,00 €</td>\
             <td data-label=\"Versé\">a &lt;td&gt; &amp; &quot;b&quot;</td></tr>\
             <tr><td data-label=\"Exercice\">2025</td><td data-label=\"Brut &quot;€&quot;\" class=\"num\">—</td></tr>\
             </tbody></table></div>"
        );
    }

    #[test]
    fn a_header_is_its_text_a_footer_is_labelled_and_a_spanning_cell_moves_on_as_far() {
        let markup = cards(html! {
            table {
                thead { tr { th { "Collège" } th { "n°" small { "1" } } th { "Total" } } }
                tfoot { tr { th colspan="2" { "Total" } td { "3" } } }
            }
        });
        assert_eq!(
            markup.into_string(),
            "<div class=\"table cards\"><table><thead><tr><th>Collège</th><th>n°<small>1</small></th>\
             <th>Total</th></tr></thead><tfoot><tr><th data-label=\"Collège\" colspan=\"2\">Total</th>\
             <td data-label=\"Total\">3</td></tr></tfoot></table></div>"
        );
    }
}
