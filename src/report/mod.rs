//! The office's accounts of its service: the satisfaction index (`ikm`).

pub mod ikm;
