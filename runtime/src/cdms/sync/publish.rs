//! Publishing local-only rows: a row created with `skip_cdms()` (it has no CDMS id) becomes a
//! CDMS record, explicitly.

use super::fields::{cdms_of, id_of};
use super::{write, CdmsRemote};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::store::history::{self, VersionKind};
use crate::store::{rows, Db};

impl CdmsRemote {
    /// Creates the CDMS record of a local-only object (one POST, with a client-generated id) and
    /// stores the id, `ModifiedOn` and `CreatedOn` CDMS assigned, with a `local change` version,
    /// in one transaction: if CDMS fails, nothing changes locally. `obj` is updated to the stored
    /// row. Referenced rows must be published first. Refused for an object that already has a
    /// CDMS id.
    pub async fn publish<E: Entity>(&self, db: &Db, obj: &mut E) -> Result<()> {
        let meta = E::META;
        let cdms = cdms_of(meta)?;
        let pk = obj.pk();
        let mut tx = db.begin().await?;
        let mut row = rows::get_for_update(&mut tx, meta, pk)
            .await?
            .ok_or_else(|| Error::NotFound {
                entity: meta.name,
                query: format!("{} = {pk}", meta.pk_field().name),
            })?;
        if let Some(id) = id_of(cdms, &row)? {
            return Err(Error::Refused {
                entity: meta.name,
                message: format!("object {pk} is already published (CDMS id {id})"),
            });
        }
        let before = row.clone();
        write::insert(self, &mut tx, meta, &mut row, false).await?;
        rows::update(&mut tx, meta, &mut row).await?;
        history::record(&mut tx, meta, VersionKind::LocalChange, &row, Some(&before)).await?;
        tx.commit().await?;
        *obj = E::from_row(row)?;
        Ok(())
    }
}
