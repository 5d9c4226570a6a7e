//! Counts of the SQL statements a [`Db`](super::Db) executes, by kind: cheap atomic counters
//! shared by every clone of one handle (one pool), read with [`Db::sql_counts`](super::Db::sql_counts).

use std::sync::atomic::{AtomicU64, Ordering};

/// The kind of a statement, from its first keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `SELECT` (and `WITH … SELECT` without a data-modifying part).
    Select,
    /// `INSERT` (also an upsert, `INSERT … ON CONFLICT`, and a `WITH` whose first
    /// data-modifying part is an `INSERT`).
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `BEGIN` of a transaction.
    Begin,
    /// `COMMIT` of a transaction.
    Commit,
    /// `ROLLBACK` of a transaction.
    Rollback,
    /// Anything else (DDL, `PRAGMA`, …).
    Other,
}

impl StatementKind {
    /// The kind of the statement `text`.
    pub fn of(text: &str) -> StatementKind {
        let word = text
            .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or_default();
        let is = |k: &str| word.eq_ignore_ascii_case(k);
        if is("with") {
            return StatementKind::of_with(text);
        }
        if is("select") || is("values") {
            StatementKind::Select
        } else if is("insert") {
            StatementKind::Insert
        } else if is("update") {
            StatementKind::Update
        } else if is("delete") {
            StatementKind::Delete
        } else if is("begin") {
            StatementKind::Begin
        } else if is("commit") {
            StatementKind::Commit
        } else if is("rollback") {
            StatementKind::Rollback
        } else {
            StatementKind::Other
        }
    }

    /// A `WITH` statement: the kind of its first data-modifying part (`AS (INSERT …`), or a
    /// `SELECT`. The store writes its own statements, so the keyword is never inside a literal.
    fn of_with(text: &str) -> StatementKind {
        let upper = text.to_ascii_uppercase();
        [
            ("AS (INSERT", StatementKind::Insert),
            ("AS (UPDATE", StatementKind::Update),
            ("AS (DELETE", StatementKind::Delete),
        ]
        .into_iter()
        .filter_map(|(part, kind)| upper.find(part).map(|at| (at, kind)))
        .min_by_key(|(at, _)| *at)
        .map_or(StatementKind::Select, |(_, kind)| kind)
    }

    const ALL: [StatementKind; 8] = [
        StatementKind::Select,
        StatementKind::Insert,
        StatementKind::Update,
        StatementKind::Delete,
        StatementKind::Begin,
        StatementKind::Commit,
        StatementKind::Rollback,
        StatementKind::Other,
    ];

    fn slot(self) -> usize {
        self as usize
    }
}

/// The live counters of one pool.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    by_kind: [AtomicU64; 8],
}

impl Counters {
    pub(crate) fn count(&self, kind: StatementKind) {
        self.by_kind[kind.slot()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SqlCounts {
        let mut by_kind = [0; 8];
        for (n, c) in by_kind.iter_mut().zip(&self.by_kind) {
            *n = c.load(Ordering::Relaxed);
        }
        SqlCounts { by_kind }
    }
}

/// The statements executed through a [`Db`](super::Db) (all its clones) so far, by kind.
/// Subtract two snapshots to count the statements of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SqlCounts {
    by_kind: [u64; 8],
}

impl SqlCounts {
    /// The statements of `kind`.
    pub fn get(&self, kind: StatementKind) -> u64 {
        self.by_kind[kind.slot()]
    }

    /// Every statement, transaction control included.
    pub fn total(&self) -> u64 {
        self.by_kind.iter().sum()
    }

    /// The counts since `earlier` (a snapshot of the same handle taken before).
    pub fn since(&self, earlier: &SqlCounts) -> SqlCounts {
        let mut by_kind = [0; 8];
        for (i, n) in by_kind.iter_mut().enumerate() {
            *n = self.by_kind[i].saturating_sub(earlier.by_kind[i]);
        }
        SqlCounts { by_kind }
    }
}

impl std::fmt::Display for SqlCounts {
    /// `7 (3 SELECT, 2 INSERT, 1 BEGIN, 1 COMMIT)`: the total, then each kind that occurred.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.total())?;
        let parts: Vec<String> = StatementKind::ALL
            .iter()
            .filter(|k| self.get(**k) > 0)
            .map(|k| format!("{} {}", self.get(*k), k.name()))
            .collect();
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl StatementKind {
    /// The keyword, as in `SELECT`.
    pub fn name(self) -> &'static str {
        match self {
            StatementKind::Select => "SELECT",
            StatementKind::Insert => "INSERT",
            StatementKind::Update => "UPDATE",
            StatementKind::Delete => "DELETE",
            StatementKind::Begin => "BEGIN",
            StatementKind::Commit => "COMMIT",
            StatementKind::Rollback => "ROLLBACK",
            StatementKind::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_the_first_keyword() {
        assert_eq!(StatementKind::of("SELECT 1"), StatementKind::Select);
        assert_eq!(
            StatementKind::of("  WITH r AS (SELECT 1) SELECT * FROM r"),
            StatementKind::Select
        );
        assert_eq!(
            StatementKind::of("insert into \"t\""),
            StatementKind::Insert
        );
        assert_eq!(StatementKind::of("UPDATE \"t\" SET"), StatementKind::Update);
        assert_eq!(
            StatementKind::of("DELETE FROM \"t\""),
            StatementKind::Delete
        );
        assert_eq!(
            StatementKind::of("WITH w AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM w"),
            StatementKind::Insert
        );
        assert_eq!(StatementKind::of("CREATE TABLE x"), StatementKind::Other);
        assert_eq!(StatementKind::of(""), StatementKind::Other);
    }

    #[test]
    fn snapshots_subtract_and_display() {
        let c = Counters::default();
        let before = c.snapshot();
        c.count(StatementKind::Begin);
        c.count(StatementKind::of("SELECT 1"));
        c.count(StatementKind::of("SELECT 2"));
        c.count(StatementKind::of("INSERT INTO t VALUES (1)"));
        c.count(StatementKind::Commit);
        let d = c.snapshot().since(&before);
        assert_eq!(d.total(), 5);
        assert_eq!(d.get(StatementKind::Select), 2);
        assert_eq!(d.to_string(), "5 (2 SELECT, 1 INSERT, 1 BEGIN, 1 COMMIT)");
    }
}
