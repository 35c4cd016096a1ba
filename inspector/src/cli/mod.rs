//! The command-line edge: files, clock, terminal. Everything here turns
//! outside input into parameters for the `inspector` library.

pub mod chain;
pub mod io;
pub mod lot;
pub mod registry;
pub mod station;
pub mod text;
pub mod verify;

pub use crate::Format;
