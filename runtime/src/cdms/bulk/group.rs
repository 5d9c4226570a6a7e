//! Group commit of a load's batches on SQLite.
//!
//! SQLite has one writer: the partitions of a load run their transactions one after the other,
//! and while one commits, the others' decoded batches wait for the write lock. Each transaction
//! costs more than its rows: `BEGIN`, the look-ups of the batch (the rows already stored, the
//! targets of its lookups), the upsert and history statements, `COMMIT` with the pages it
//! dirtied written to the write-ahead log, and a hand-over to the connection's thread for each.
//!
//! So the batches waiting are committed together: a partition queues its decoded batch, and
//! whoever takes the commit role next (the first partition to get it) takes every batch queued
//! by then into one transaction. There, each batch's lease is checked (a batch whose lease is
//! gone is dropped, as it would be alone), the batches that keep theirs are applied as one
//! (one read of the stored rows, one upsert, one history insert per chunk of rows), and each
//! partition's checkpoint moves past its own batch. Every partition then gets its own outcome.
//!
//! The queue holds at most one batch per running partition, so a transaction applies at most
//! `concurrency × pages_per_commit` pages, and no more is held in memory than before: the
//! batches waiting were waiting for the write lock anyway. A failed transaction fails every
//! partition whose batch it held (nothing of it is committed; each checkpoint stays where it
//! was, and a rerun resumes there).
//!
//! On PostgreSQL, whose writers run side by side, and in a backfill, each batch has a transaction
//! of its own: [`EntityRun::commit_together`] with that one batch.

use std::future::Future;
use std::sync::Mutex;

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::store::Backend;

use super::lease;
use super::state::Partition;
use super::worker::{lock, EntityRun, Ready, Step};

/// A batch waiting for its transaction: its partition's id, the batch, and where it leaves the
/// partition.
pub(super) type Waiting = (i64, Ready, Step);

/// Items queued for the next shared commit, each with where its outcome goes, and the role of
/// committing them.
pub(super) struct Group<T, R> {
    queue: Mutex<Vec<(T, oneshot::Sender<Result<R>>)>>,
    committing: tokio::sync::Mutex<()>,
}

impl<T, R> Default for Group<T, R> {
    fn default() -> Self {
        Group {
            queue: Mutex::new(Vec::new()),
            committing: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T, R> Group<T, R> {
    /// Queues `item` and waits for its outcome. Whoever holds the commit role commits every
    /// item queued by the time it takes them, with `commit`, which returns one outcome per item
    /// in order; an error of `commit` is every item's (the first gets it, the others an
    /// [`Error::Refused`] of `entity` quoting it).
    pub(super) async fn submit<F, Fut>(&self, entity: &'static str, item: T, commit: F) -> Result<R>
    where
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = Result<Vec<R>>>,
    {
        let (reply, mut answer) = oneshot::channel();
        lock(&self.queue).push((item, reply));
        loop {
            tokio::select! {
                // The answer first: an item taken into another's commit is answered before that
                // one gives up the role.
                biased;
                answer = &mut answer => {
                    return answer.unwrap_or_else(|_| {
                        Err(Error::Refused {
                            entity,
                            message: "the commit holding this batch was abandoned".into(),
                        })
                    });
                }
                _role = self.committing.lock() => {
                    let queued = std::mem::take(&mut *lock(&self.queue));
                    if !queued.is_empty() {
                        Self::commit_queued(entity, queued, &commit).await;
                    }
                }
            }
        }
    }

    async fn commit_queued<F, Fut>(
        entity: &'static str,
        queued: Vec<(T, oneshot::Sender<Result<R>>)>,
        commit: &F,
    ) where
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = Result<Vec<R>>>,
    {
        let (items, replies): (Vec<T>, Vec<_>) = queued.into_iter().unzip();
        let count = items.len();
        match commit(items).await {
            Ok(outcomes) if outcomes.len() == count => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // An item whose submitter stopped waiting has nobody to tell.
                    let _ = reply.send(Ok(outcome));
                }
            }
            Ok(outcomes) => {
                let message = format!(
                    "a shared commit returned {} outcomes for {count} batches",
                    outcomes.len()
                );
                for reply in replies {
                    let _ = reply.send(Err(Error::Refused {
                        entity,
                        message: message.clone(),
                    }));
                }
            }
            Err(e) => {
                let shared = e.to_string();
                let mut first = Some(e);
                for reply in replies {
                    let error = first.take().unwrap_or_else(|| Error::Refused {
                        entity,
                        message: format!(
                            "the transaction this batch shared with other partitions' failed: \
                             {shared}"
                        ),
                    });
                    let _ = reply.send(Err(error));
                }
            }
        }
    }
}

impl EntityRun {
    /// Whether this run's batches are committed in groups (a load on SQLite).
    pub(super) fn grouped(&self) -> bool {
        self.target.is_none() && self.db.backend() == Backend::Sqlite
    }

    /// Applies a batch and moves its partition's checkpoint, in a transaction shared with the
    /// other batches waiting: the partition as committed, or `None` when its lease is gone
    /// (nothing of the batch is applied).
    pub(super) async fn commit_grouped(&self, work: Waiting) -> Result<Option<Partition>> {
        self.group
            .submit(self.meta.entity.name, work, |work| {
                self.commit_together(work)
            })
            .await
    }

    /// One transaction for one batch or several: the leases checked, the batches whose
    /// partitions still hold theirs applied as one, each checkpoint moved past its own batch.
    /// Per batch, in order: its partition, or `None` when its lease is gone.
    pub(super) async fn commit_together(
        &self,
        work: Vec<Waiting>,
    ) -> Result<Vec<Option<Partition>>> {
        let mut outcomes: Vec<Option<Partition>> = vec![None; work.len()];
        let mut tx = self.db.begin().await?;
        let mut held = Vec::with_capacity(work.len());
        let mut batches = Vec::with_capacity(work.len());
        for (i, (part, batch, step)) in work.into_iter().enumerate() {
            if let Some(locked) = lease::lock_leased(&mut tx, part, &self.worker).await? {
                held.push((i, locked, step, batch.len()));
                batches.push(batch);
            }
        }
        if held.is_empty() {
            tx.rollback().await?;
            return Ok(outcomes);
        }
        let stats = match Ready::merged(self.meta.entity.name, batches)? {
            Ready::Backfill(p) => self.bulk.apply_backfill(&mut tx, self.meta, p).await?,
            Ready::Load(d) => self.apply_decoded(&mut tx, self.meta, d).await?,
        };
        let lease = self.options.lease;
        for (i, mut locked, step, records) in held {
            lease::advance(&mut tx, &mut locked, step.next, records, step.pages, lease).await?;
            outcomes[i] = Some(locked);
        }
        tx.commit().await?;
        self.counted(stats.quarantined, stats.updated);
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::*;

    /// What a commit function saw, and a gate its calls wait at after the first.
    #[derive(Default)]
    struct Seen {
        calls: Mutex<Vec<Vec<u32>>>,
        gate: Notify,
    }

    /// A commit that records its items and answers each with ten times it, once the gate opens
    /// (the first call waits); items of 99 fail the commit.
    async fn commit(seen: Arc<Seen>, items: Vec<u32>) -> Result<Vec<u32>> {
        let first = {
            let mut calls = lock(&seen.calls);
            calls.push(items.clone());
            calls.len() == 1
        };
        if first {
            seen.gate.notified().await;
        }
        if items.contains(&99) {
            return Err(Error::Refused {
                entity: "Thing",
                message: "disk full".into(),
            });
        }
        Ok(items.iter().map(|i| i * 10).collect())
    }

    fn submit(group: &Arc<Group<u32, u32>>, seen: &Arc<Seen>, item: u32) -> Task {
        let (group, seen) = (Arc::clone(group), Arc::clone(seen));
        tokio::spawn(async move {
            group
                .submit("Thing", item, |items| commit(Arc::clone(&seen), items))
                .await
        })
    }

    async fn until(what: &str, done: impl Fn() -> bool) {
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            while !done() {
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(waited.is_ok(), "timed out waiting until {what}");
    }

    async fn answer(task: Task) -> Result<u32> {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("answered in time")
            .expect("the task ran to its end")
    }

    type Task = tokio::task::JoinHandle<Result<u32>>;

    /// A commit of item 1 held at the gate, items `a` and `b` queued behind it; then the gate
    /// opens.
    async fn two_behind_one(a: u32, b: u32) -> (Arc<Group<u32, u32>>, Arc<Seen>, [Task; 3]) {
        let (group, seen) = (Arc::new(Group::default()), Arc::new(Seen::default()));
        let first = submit(&group, &seen, 1);
        until("the first commit runs", || lock(&seen.calls).len() == 1).await;
        let (second, third) = (submit(&group, &seen, a), submit(&group, &seen, b));
        until("both wait", || lock(&group.queue).len() == 2).await;
        seen.gate.notify_one();
        (group, seen, [first, second, third])
    }

    #[tokio::test]
    async fn batches_queued_while_one_commits_are_committed_together() {
        let (_group, seen, [first, second, third]) = two_behind_one(2, 3).await;
        assert_eq!(answer(first).await.expect("first"), 10);
        assert_eq!(answer(second).await.expect("second"), 20);
        assert_eq!(answer(third).await.expect("third"), 30);
        assert_eq!(*lock(&seen.calls), vec![vec![1], vec![2, 3]]);
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_batch_it_held_and_no_other() {
        let (group, seen, [first, doomed, beside]) = two_behind_one(99, 2).await;
        assert_eq!(answer(first).await.expect("first"), 10);
        let own = answer(doomed).await.expect_err("the failing batch");
        assert_eq!(own.to_string(), "Thing: disk full");
        let shared = answer(beside).await.expect_err("the batch beside it");
        assert!(
            shared
                .to_string()
                .contains("shared with other partitions' failed")
                && shared.to_string().contains("disk full"),
            "{shared}"
        );
        let after = submit(&group, &seen, 4);
        assert_eq!(answer(after).await.expect("a later batch"), 40);
        assert_eq!(*lock(&seen.calls), vec![vec![1], vec![99, 2], vec![4]]);
    }

    #[tokio::test]
    async fn the_batches_of_an_abandoned_commit_get_an_error() {
        let (group, seen) = (Arc::new(Group::default()), Arc::new(Seen::default()));
        let role = group.committing.lock().await;
        let leader = submit(&group, &seen, 1);
        until("the first waits", || lock(&group.queue).len() == 1).await;
        let other = submit(&group, &seen, 2);
        until("both wait", || lock(&group.queue).len() == 2).await;
        drop(role);
        // The first in line takes both into its commit, which waits at the gate: abandon it.
        until("the commit runs", || lock(&seen.calls).len() == 1).await;
        leader.abort();
        let error = answer(other).await.expect_err("abandoned");
        assert!(error.to_string().contains("abandoned"), "{error}");
        assert_eq!(*lock(&seen.calls), vec![vec![1, 2]]);
    }
}
