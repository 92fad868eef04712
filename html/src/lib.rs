//! The pages' building blocks, accessible and in French, that know nothing
//! of windledger's domain nor of HTTP: form state and fields with their
//! labels, hints and errors; data tables that read as cards on a phone;
//! bar charts as inline SVG with their text. `windledger-web` builds its
//! pages from them.

pub mod charts;
pub mod forms;
pub mod tables;
