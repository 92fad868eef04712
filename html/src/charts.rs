//! Bar charts as inline SVG, drawn on the server: a title and a description
//! for screen readers (`role="img"`, `aria-labelledby`), a `<title>` on
//! every bar for a pointer, and always a data table beside them (the pages
//! draw it). Colours keep a contrast of at least 3:1 with the white
//! background; no style attribute, so the pages' CSP holds.

use maud::{Markup, html};

use windledger_french::format;

/// Colours of the series, in order.
pub const PALETTE: [&str; 9] = [
    "#0b5394", "#b45f06", "#38761d", "#741b47", "#134f5c", "#990000", "#7f6000", "#444444",
    "#351c75",
];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// One bar, or one stack of segments.
pub struct Bar {
    /// Under the bar (short: `janv.`, `2024`).
    pub label: String,
    /// Segments: series index, value, and the value as text (for the
    /// bar's `<title>`).
    pub segments: Vec<(usize, f64, String)>,
    /// The bar's full name (`janvier 2025`).
    pub name: String,
}

impl Bar {
    pub fn single(label: String, name: String, value: f64, text: String) -> Self {
        Self {
            label,
            segments: vec![(0, value, text)],
            name,
        }
    }

    fn total(&self) -> f64 {
        self.segments.iter().map(|s| s.1.max(0.0)).sum()
    }
}

/// A round step for about four grid lines up to `max`.
fn step_for(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
}

/// An axis label: `2,5 M`, `500 k`, `40`.
fn compact(v: f64) -> String {
    let d = |x: f64, places: u32| {
        let decimal = rust_decimal::Decimal::from_f64_retain(x).unwrap_or_default();
        let text = format::decimal(decimal, places);
        // `2,0` reads better as `2`.
        text.strip_suffix(",0").map(str::to_owned).unwrap_or(text)
    };
    if v >= 1e6 {
        format!("{}{}M", d(v / 1e6, 1), format::NBSP)
    } else if v >= 1e4 {
        format!("{}{}k", d(v / 1e3, 0), format::NBSP)
    } else {
        d(v, 0)
    }
}

/// A bar's segments, bottom up: series, top edge, height, text.
fn stack<'a>(bar: &'a Bar, y: &impl Fn(f64) -> f64) -> Vec<(usize, f64, f64, &'a str)> {
    let mut base = 0.0;
    bar.segments
        .iter()
        .map(|(serie, value, text)| {
            let v = value.max(0.0);
            let (y0, y1) = (y(base), y(base + v));
            base += v;
            (*serie, y1, (y0 - y1).max(0.0), text.as_str())
        })
        .collect()
}

/// A bar chart, stacked when bars have several segments. `series` names
/// the series for the legend (none is drawn for a single series).
pub fn bar_chart(
    id: &str,
    title: &str,
    description: &str,
    unit: &str,
    series: &[String],
    bars: &[Bar],
) -> Markup {
    let max = bars.iter().map(Bar::total).fold(0.0, f64::max);
    let step = step_for(max);
    let top_value = (max / step).ceil().max(1.0) * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / bars.len().max(1) as f64;
    let bar_w = (slot * 0.7).min(48.0);
    let y = |v: f64| TOP + plot_h - v / top_value * plot_h;
    let ticks: Vec<f64> = (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|v| *v <= top_value + step / 1e6)
        .collect();
    let title_id = format!("{id}-titre");
    let desc_id = format!("{id}-desc");
    html! {
        figure {
            svg id=(id) viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
                aria-labelledby={ (title_id) " " (desc_id) } xmlns="http://www.w3.org/2000/svg" {
                title id=(title_id) { (title) }
                desc id=(desc_id) { (description) }
                @for t in &ticks {
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y(*t)) y2=(y(*t))
                        stroke="#d0d0d0" stroke-width="1" {}
                    text x=(LEFT - 6.0) y=(y(*t) + 4.0) text-anchor="end" font-size="12" fill="#333333" {
                        (compact(*t))
                    }
                }
                text x="4" y=(TOP - 4.0) font-size="12" fill="#333333" { (unit) }
                @for (i, bar) in bars.iter().enumerate() {
                    @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                    g {
                        title { (bar.name) }
                        @for (serie, y1, height, text) in stack(bar, &y) {
                            rect x=(x) y=(y1) width=(bar_w) height=(height)
                                fill=(PALETTE[serie % PALETTE.len()]) stroke="#ffffff" stroke-width="0.5" {
                                title {
                                    (bar.name)
                                    @if let Some(name) = series.get(serie).filter(|_| series.len() > 1) {
                                        " — " (name)
                                    }
                                    " : " (text)
                                }
                            }
                        }
                        text x=(x + bar_w / 2.0) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle"
                            font-size="12" fill="#1a1a1a" { (bar.label) }
                    }
                }
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(TOP + plot_h) y2=(TOP + plot_h)
                    stroke="#333333" stroke-width="1" {}
            }
            @if series.len() > 1 {
                ul.legend aria-hidden="true" {
                    @for (i, name) in series.iter().enumerate() {
                        li {
                            svg width="14" height="14" viewBox="0 0 14 14" {
                                rect width="14" height="14" fill=(PALETTE[i % PALETTE.len()]) {}
                            }
                            " " (name)
                        }
                    }
                }
            }
            figcaption { (description) " Les valeurs exactes sont dans le tableau qui suit." }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(step_for(100.0), 25.0);
        assert_eq!(step_for(7_000.0), 2_000.0);
        assert_eq!(step_for(0.0), 1.0);
        assert_eq!(compact(2_500_000.0), "2,5\u{a0}M");
        assert_eq!(compact(40_000.0), "40\u{a0}k");
        assert_eq!(compact(250.0), "250");
    }

    #[test]
    fn a_chart_is_labelled_for_screen_readers() {
        let bars = vec![Bar::single(
            "janv.".into(),
            "janvier 2025".into(),
            12.5,
            "12,5 MWh".into(),
        )];
        let svg = bar_chart("c", "Production", "Par mois.", "MWh", &[], &bars).into_string();
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="c-titre c-desc""#));
        assert!(svg.contains("<title id=\"c-titre\">Production</title>"));
        assert!(svg.contains("janvier 2025 : 12,5 MWh"));
        assert!(!svg.contains("style="));
    }
}
