//! A small typesetter and PDF/A-2b writer: pages of positioned text lines
//! and rules in one embedded font, written with `pdf-writer`.
//!
//! What makes the file PDF/A-2b: the font is embedded (a subset of DejaVu
//! Sans, with its widths and a ToUnicode map, so text can be searched and
//! copied), XMP metadata names the part and conformance and repeats the
//! document information, an output intent carries an sRGB profile, and the
//! trailer has a file identifier. Nothing is encrypted, transparent or
//! external.
//!
//! Deterministic: no clock is read; object numbers, the subset (glyphs in
//! ascending order), the compression level and the identifier (a SHA-256
//! of the pages' content and the title) depend on the content only.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::types::{CidFontType, FontFlags, OutputIntentSubtype, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};

use crate::DocumentError;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const SRGB: &[u8] = include_bytes!("../assets/sRGB.icc");
const PRODUCER: &str = "windledger";

/// A4, in points.
pub(crate) const A4_PORTRAIT: Sheet = Sheet {
    width: 595.0,
    height: 842.0,
};
pub(crate) const A4_LANDSCAPE: Sheet = Sheet {
    width: 842.0,
    height: 595.0,
};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Sheet {
    pub width: f32,
    pub height: f32,
}

/// The documents' one font, read once per document.
pub(crate) struct Font {
    face: ttf_parser::Face<'static>,
    units_per_em: f32,
}

impl Font {
    pub(crate) fn load() -> Result<Self, DocumentError> {
        let face =
            ttf_parser::Face::parse(FONT, 0).map_err(|e| DocumentError::Font(e.to_string()))?;
        let units_per_em = f32::from(face.units_per_em());
        Ok(Self { face, units_per_em })
    }

    /// The glyph of `c`, or of `?` for a character the font lacks.
    fn glyph(&self, c: char) -> u16 {
        self.face
            .glyph_index(c)
            .or_else(|| self.face.glyph_index('?'))
            .map_or(0, |g| g.0)
    }

    fn advance(&self, glyph: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(glyph))
                .unwrap_or(0),
        )
    }

    /// The width of `text` at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text.chars().map(|c| self.advance(self.glyph(c))).sum();
        units * size / self.units_per_em
    }

    /// `text` broken into lines no wider than `width`: at spaces, and a
    /// word wider than a line over as many lines as it takes (nothing is
    /// left out).
    pub(crate) fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= width || line.is_empty() {
                line = candidate;
            } else {
                lines.push(std::mem::take(&mut line));
                line = word.to_owned();
            }
        }
        lines.push(line);
        let mut out = Vec::with_capacity(lines.len());
        for line in lines {
            if self.width(&line, size) <= width {
                out.push(line);
                continue;
            }
            let mut piece = String::new();
            for c in line.chars() {
                piece.push(c);
                if self.width(&piece, size) > width && piece.chars().count() > 1 {
                    piece.pop();
                    out.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            out.push(piece);
        }
        out
    }
}

/// What a page shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mark {
    /// Text whose baseline starts at (x, y), y from the bottom.
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    /// A horizontal rule.
    Rule { x1: f32, x2: f32, y: f32 },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Page {
    pub marks: Vec<Mark>,
}

impl Page {
    pub(crate) fn text(&mut self, x: f32, y: f32, size: f32, text: impl Into<String>) {
        self.marks.push(Mark::Text {
            x,
            y,
            size,
            text: text.into(),
        });
    }

    pub(crate) fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        self.marks.push(Mark::Rule { x1, x2, y });
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, DocumentError> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

/// Writes `pages` as a PDF/A-2b file titled `title`.
pub(crate) fn write(
    font: &Font,
    sheet: Sheet,
    title: &str,
    pages: &[Page],
) -> Result<Vec<u8>, DocumentError> {
    // The glyphs used, each with the first character that showed it.
    let mut used: BTreeMap<u16, char> = BTreeMap::new();
    for mark in pages.iter().flat_map(|p| &p.marks) {
        if let Mark::Text { text, .. } = mark {
            for c in text.chars() {
                used.entry(font.glyph(c)).or_insert(c);
            }
        }
    }
    let glyphs: Vec<u16> = std::iter::once(0)
        .chain(used.keys().copied().filter(|g| *g != 0))
        .collect();
    let remapper = subsetter::GlyphRemapper::new_from_glyphs_sorted(&glyphs);
    let subset =
        subsetter::subset(FONT, 0, &remapper).map_err(|e| DocumentError::Font(format!("{e:?}")))?;
    let new_id = |glyph: u16| remapper.get(glyph).unwrap_or(0);

    let mut next = 0;
    let mut alloc = || {
        next += 1;
        Ref::new(next)
    };
    let catalog = alloc();
    let tree = alloc();
    let type0 = alloc();
    let cid = alloc();
    let descriptor = alloc();
    let font_file = alloc();
    let to_unicode = alloc();
    let metadata = alloc();
    let icc = alloc();
    let info = alloc();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();

    let mut pdf = Pdf::new();
    pdf.set_version(1, 7);
    let font_name = Name(b"F1");

    // Page contents first: they give the document its identifier.
    let mut digest = Sha256::new();
    digest.update(title.as_bytes());
    let mut contents = Vec::with_capacity(pages.len());
    for page in pages {
        let mut content = Content::new();
        for mark in &page.marks {
            match mark {
                Mark::Text { x, y, size, text } => {
                    let encoded: Vec<u8> = text
                        .chars()
                        .flat_map(|c| new_id(font.glyph(c)).to_be_bytes())
                        .collect();
                    content
                        .begin_text()
                        .set_font(font_name, *size)
                        .next_line(*x, *y)
                        .show(Str(&encoded))
                        .end_text();
                }
                Mark::Rule { x1, x2, y } => {
                    content
                        .set_line_width(0.4)
                        .move_to(*x1, *y)
                        .line_to(*x2, *y)
                        .stroke();
                }
            }
        }
        let raw = content.finish();
        digest.update(raw.as_slice());
        contents.push(deflate(raw.as_slice())?);
    }
    let id = digest.finalize()[..16].to_vec();
    pdf.set_file_id((id.clone(), id));

    let xmp = xmp(title);
    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree).metadata(metadata);
        cat.output_intents()
            .push()
            .subtype(OutputIntentSubtype::PDFA)
            .output_condition_identifier(TextStr("sRGB IEC61966-2.1"))
            .info(TextStr("sRGB IEC61966-2.1"))
            .dest_output_profile(icc);
    }
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    for ((page_id, content_id), content) in page_ids.iter().zip(&contents) {
        let mut page = pdf.page(*page_id);
        page.parent(tree)
            .media_box(Rect::new(0.0, 0.0, sheet.width, sheet.height))
            .contents(*content_id);
        page.resources().fonts().pair(font_name, type0);
        page.finish();
        pdf.stream(*content_id, content).filter(Filter::FlateDecode);
    }

    // The font: a CID-keyed Type 0 font over the subset, glyph ids as CIDs.
    let base = format!("{}+DejaVuSans", subset_tag(&glyphs));
    let base = Name(base.as_bytes());
    pdf.type0_font(type0)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(to_unicode);
    let system_info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let scale = 1000.0 / font.units_per_em;
    {
        let mut cid_font = pdf.cid_font(cid);
        cid_font
            .subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system_info)
            .font_descriptor(descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid_font
            .widths()
            .consecutive(0, glyphs.iter().map(|g| font.advance(*g) * scale));
    }
    let bbox = font.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(base)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(font.face.ascender()) * scale)
        .descent(f32::from(font.face.descender()) * scale)
        .cap_height(
            f32::from(
                font.face
                    .capital_height()
                    .unwrap_or_else(|| font.face.ascender()),
            ) * scale,
        )
        .stem_v(80.0)
        .font_file2(font_file);
    let compressed = deflate(&subset)?;
    pdf.stream(font_file, &compressed)
        .filter(Filter::FlateDecode)
        .pair(
            Name(b"Length1"),
            i32::try_from(subset.len()).unwrap_or(i32::MAX),
        );
    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system_info);
    for (glyph, c) in &used {
        cmap.pair(new_id(*glyph), *c);
    }
    let cmap = cmap.finish();
    pdf.cmap(to_unicode, cmap.as_slice());

    pdf.metadata(metadata, xmp.as_bytes());
    pdf.icc_profile(icc, SRGB).n(3);
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr(PRODUCER));
    Ok(pdf.finish())
}

/// Six capital letters derived from the glyphs, as PDF names a subset.
fn subset_tag(glyphs: &[u16]) -> String {
    let mut digest = Sha256::new();
    for g in glyphs {
        digest.update(g.to_be_bytes());
    }
    digest.finalize()[..6]
        .iter()
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// The XMP packet: PDF/A-2b identification, and the title and producer
/// the document information also holds.
fn xmp(title: &str) -> String {
    let title = escape_xml(title);
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n\
<pdfaid:part>2</pdfaid:part>\n\
<pdfaid:conformance>B</pdfaid:conformance>\n\
<dc:format>application/pdf</dc:format>\n\
<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n\
<pdf:Producer>{PRODUCER}</pdf:Producer>\n\
</rdf:Description>\n\
</rdf:RDF>\n\
</x:xmpmeta>\n\
<?xpacket end=\"w\"?>"
    )
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
