//! What each object was read as, so that a `save` writes only the fields its holder changed.
//!
//! Plain structs carry no change tracking. The store remembers the rows it hands out (typed
//! reads, and the row a save or create stored) per primary key, a few versions each. When an
//! object is saved, its *base* is the remembered version it was read as: the one with the same
//! `modified` (each write moves `modified`), the closest by value among several from within one
//! second. The fields that differ from the base are the holder's changes; every other field
//! keeps what the database holds now, so concurrent holders of one record changing different
//! fields never undo each other's edits. Without a remembered base (an object built by hand,
//! or forgotten after [`MAX_KEYS`] other records were read), the whole object is written, as a
//! plain `UPDATE` would.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::entity::{EntityMeta, Row};
use crate::value::Value;

/// How many records are remembered (the oldest are forgotten first).
pub const MAX_KEYS: usize = 4096;
/// How many versions of one record are remembered.
pub const PER_KEY: usize = 8;

type Key = (&'static str, i64);

#[derive(Default)]
struct State {
    by_key: HashMap<Key, Vec<Row>>,
    order: VecDeque<Key>,
}

/// The remembered rows of one database handle (shared by its clones).
#[derive(Default)]
pub(crate) struct Snapshots {
    state: Mutex<State>,
}

fn pk_of(meta: &EntityMeta, row: &Row) -> Option<i64> {
    match row.get(meta.pk) {
        Some(Value::Int(pk)) if *pk != 0 => Some(*pk),
        _ => None,
    }
}

impl Snapshots {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers `rows` of `meta` as handed out.
    pub(crate) fn remember<'a>(
        &self,
        meta: &'static EntityMeta,
        rows: impl IntoIterator<Item = &'a Row>,
    ) {
        let mut state = self.lock();
        for row in rows {
            let Some(pk) = pk_of(meta, row) else {
                continue;
            };
            let key = (meta.table, pk);
            let versions = match state.by_key.get_mut(&key) {
                Some(v) => v,
                None => {
                    state.order.push_back(key);
                    if state.order.len() > MAX_KEYS {
                        if let Some(old) = state.order.pop_front() {
                            state.by_key.remove(&old);
                        }
                    }
                    state.by_key.entry(key).or_default()
                }
            };
            if versions.last() == Some(row) {
                continue;
            }
            versions.retain(|v| v != row);
            versions.push(row.clone());
            if versions.len() > PER_KEY {
                versions.remove(0);
            }
        }
    }

    /// The version `row` (an object about to be saved) was read as, if one is remembered.
    pub(crate) fn base_of(&self, meta: &'static EntityMeta, row: &Row) -> Option<Row> {
        let pk = pk_of(meta, row)?;
        let state = self.lock();
        let versions = state.by_key.get(&(meta.table, pk))?;
        let same_stamp = |v: &&Row| match meta.modified {
            Some(m) => v.get(m) == row.get(m),
            None => true,
        };
        let distance = |v: &Row| v.iter().zip(row).filter(|(a, b)| a != b).count();
        versions
            .iter()
            .rev()
            .filter(same_stamp)
            .min_by_key(|v| distance(v))
            .cloned()
    }
}

/// `current` with the fields in which `new` differs from `base` taken from `new`: the holder's
/// changes on top of what the database holds now.
pub(crate) fn rebase(base: &Row, new: &Row, current: &Row) -> Row {
    current
        .iter()
        .zip(base.iter().zip(new))
        .map(|(cur, (b, n))| if b != n { n.clone() } else { cur.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_keeps_other_changes() {
        let base = vec![Value::Int(1), Value::Text("a".into()), Value::Int(0)];
        let ours = vec![Value::Int(1), Value::Text("b".into()), Value::Int(0)];
        let now = vec![Value::Int(1), Value::Text("a".into()), Value::Int(7)];
        assert_eq!(
            rebase(&base, &ours, &now),
            vec![Value::Int(1), Value::Text("b".into()), Value::Int(7)]
        );
    }
}
