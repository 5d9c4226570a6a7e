//! The sync protocol: the local store kept in step with CDMS through the ordinary query API.
//!
//! ```no_run
//! # async fn demo(db: cdms_runtime::Db) -> cdms_runtime::Result<()> {
//! use cdms_runtime::cdms::{CdmsClient, CdmsRemote, SyncConfig};
//! let client = CdmsClient::builder("https://crm.example.org/UKTI").build()?;
//! let remote = CdmsRemote::new(client, SyncConfig::default());
//! let db = remote.attach(&db).as_actor("jane@example.org");
//! // Organisation::objects(&db).filter(...).all().await? now reads through CDMS.
//! # let _ = db; Ok(()) }
//! ```
//!
//! A row and its CDMS record are **in sync** when the row's `modified` equals the record's
//! `ModifiedOn`. Every path keeps that invariant: writes take `ModifiedOn` from CDMS after
//! writing, refreshes copy it, and local-only writes cannot change a synced row's mapped fields
//! ([`guard`](self) rules below).
//!
//! # Reads
//! - **One record** (a filter with a top-level `pk = n` or `cdms_id = guid` condition: `get`,
//!   `refresh`, ...): by local key, the row's CDMS id is read locally, then one GET; by CDMS id,
//!   the local row and the GET run concurrently. CDMS newer → the row is refreshed (a
//!   `remote refresh` version) before the local read; equal → untouched; local newer →
//!   [`SyncError::NotInSync`], nothing changed. A record only CDMS has is created locally;
//!   neither side has it → the local read reports not found. A row without a CDMS id (created
//!   with `skip_cdms()`) is returned as it is, with no request; [`CdmsRemote::publish`] creates
//!   its record.
//! - **Deleted in CDMS** (404 for a row that has a CDMS id): the local row is removed with a
//!   `remote delete` version holding its last state, and the read finds nothing. Restoring it
//!   (`EntityExt::restore`) re-creates the record in CDMS under the same id. If other local rows
//!   still refer to it, nothing is removed and [`SyncError::RemoteDeleted`] says so.
//! - **Lists** (`filter`, `exclude`, `all`, `order_by`, slices, `values`, `first`, ...): see
//!   [`list`](self): one request per CDMS page up to [`SyncConfig::page_cap`], one local
//!   transaction with batched upserts, then the local SQL answers. `count`, `aggregate` and a
//!   negative `exists` fail with [`SyncError::Incomplete`] rather than answer from a capped list.
//! - **Dirty data**: a record that cannot be applied (a null in a non-optional field, a
//!   property absent from the answer, a value the database refuses, an unresolvable reference,
//!   a local row newer than CDMS) is skipped by lists, loads and polls and recorded in the
//!   quarantine ([`CdmsRemote::quarantine`]); the others are applied. A `get` of the record
//!   itself returns its typed error. Equal `ModifiedOn` stamps (whole seconds) are settled by
//!   comparing the mapped values.
//! - **Caching**: identical GETs in flight at the same time share one request; with
//!   [`SyncConfig::freshness`] a row confirmed in sync within the window is not asked again.
//!
//! # Writes
//! `save`, `create` and `delete` on a handle make the CDMS write first, with no local
//! transaction open ([`crate::store::Remote::stage`]), then lock the row and apply CDMS's answer
//! in one short transaction; writes inside a caller's transaction (and bulk writes) make it in
//! the store's hooks, before the statement. Either way a CDMS error returns before anything is
//! written locally and the error says what failed. Only the fields the object's holder changed
//! since reading it are written.
//! - **insert**: one POST with a client-generated id (a retried create cannot duplicate: a
//!   duplicate answer for our id is success); the row takes the id, `ModifiedOn`, `CreatedOn`
//!   and the values from the created record.
//! - **update**: only when a mapped field changed (local-only fields are written locally with no
//!   request): GET the record; local newer → [`SyncError::NotInSync`]; CDMS changed since the
//!   last sync → its version is recorded (`remote refresh`), fields CDMS changed and we did not
//!   are merged in, fields both changed keep our value (last writer wins) and a
//!   [`WriteOutcome`] reports both ([`observe`], [`CdmsRemote::recent_outcomes`], tracing); then
//!   one MERGE of the changed mapped properties (none left → no write) and a GET for the new
//!   `ModifiedOn`: at most 3 requests.
//! - **delete**: one DELETE; a record already gone (404) still lets the local delete happen.
//! - Queryset `bulk_create`, `update`, `delete`, `get_or_create`, `update_or_create` make one
//!   CDMS write per record inside the store's single transaction: all or nothing locally per
//!   call. CDMS has no transactions: when record *n* fails, records before it are already
//!   written in CDMS; they are not in the local store until a read brings them in.
//! - Concurrent writers to one record serialize (an in-process lock from the first GET to the
//!   local commit, then the row lock): each sees the previous write's `ModifiedOn` and no update
//!   is lost; writers to different records never wait for each other's CDMS answers.
//!
//! # `skip_cdms()` writes
//! Local-only rows (no CDMS id) may be written freely; synced rows only in their local-only
//! (`#[cdms(skip)]`) fields. Anything else is refused with an error saying to write through CDMS.
//! Deleting a synced row locally only forgets it: the next read brings it back.

mod apply;
mod config;
mod error;
mod expand;
mod fields;
mod guard;
mod inflight;
mod list;
mod ordering;
mod outcome;
mod paths;
mod prefetch;
mod publish;
mod quarantine;
mod read;
mod refs;
mod remote;
mod set_table;
pub(crate) mod stale;
#[cfg(test)]
mod tests;
mod write;

pub use apply::{apply_json, apply_prefetched, apply_records, ApplyStats, LocalNewer};
pub use config::{SyncConfig, DEFAULT_OUTCOME_LOG, DEFAULT_PAGE_CAP, DEFAULT_REFERENCE_DEPTH};
pub use error::SyncError;
pub(crate) use guard::only_local_fields_changed;
pub use outcome::{observe, WriteOutcome};
pub use prefetch::References;
pub(crate) use quarantine::create as create_quarantine;
pub use quarantine::{Quarantined, Rejected};
pub use read::remove_deleted;
pub(crate) use refs::decode_page as apply_json_page;
pub(crate) use refs::fetch_by_ids as fetch_whole;
pub use remote::CdmsRemote;
