//! Shared helpers of the integration tests.
//!
//! - [`db`]: fresh databases per test, SQLite always and PostgreSQL when `DATABASE_URL` is set.
//! - [`local`]: plain (local-only) test entities covering every field kind.

pub mod bulk_support;
pub mod db;
pub mod emulator_fixtures;
pub mod local;
pub mod sync_support;
