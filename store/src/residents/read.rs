//! Resident reads for the pages (being written).
