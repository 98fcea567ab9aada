//! Resident writes for the sync rules (being written).
