//! Read models (DESIGN.md section 2.4): pure folds over a ledger's events in
//! position order. Nothing here yet: the projections arrive with the domain
//! they read (issues 3 to 6).
