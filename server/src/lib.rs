//! The Gridwalk server as a library: `main` reads the configuration and calls
//! [`serve`]; tests call it on port 0 with a fresh SQLite file.

pub mod activities;
pub mod api;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod client;
pub mod config;
pub mod coverage;
pub mod db;
pub mod deadline;
pub mod demo;
pub mod html;
pub mod import;
pub mod limits;
pub mod notices;
pub mod openapi;
pub mod party;
pub mod passwords;
pub mod photos;
pub mod requests;
pub mod resident_edits;
pub mod routes;
pub mod same_site;
pub mod staff;
pub mod startup;
pub mod sweep;
pub mod sync;
pub mod telemetry;
pub mod visits;

pub use startup::{Server, build};
