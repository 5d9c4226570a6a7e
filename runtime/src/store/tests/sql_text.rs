//! The generated SQL text, checked literally for the forms that matter.

use super::{Group, Item};
use crate::entity::Entity;
use crate::expr::{Expr, OrderKey};
use crate::store::remote::ReadSpec;
use crate::store::sql::{ddl, filter, quote_ident, select, write, Sql};
use crate::store::Backend;
use crate::Q;

fn where_of(backend: Backend, q: Q<Item>) -> (String, usize) {
    let mut sql = Sql::new(backend, "Item");
    filter::push_expr(&mut sql, Item::META, None, q.expr()).unwrap();
    (sql.text().to_owned(), sql.params().len())
}

#[test]
fn quoting() {
    assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(filter::escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
}

#[test]
fn ddl_per_backend() {
    let sqlite = ddl::create_table(Backend::Sqlite, Item::META);
    assert!(
        sqlite.contains("\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"),
        "{sqlite}"
    );
    assert!(sqlite.contains("\"code\" TEXT NULL UNIQUE"), "{sqlite}");
    assert!(sqlite.contains("\"qty\" INTEGER NOT NULL"), "{sqlite}");
    assert!(
        sqlite.contains("FOREIGN KEY (\"group\") REFERENCES \"grp\" (\"id\")"),
        "{sqlite}"
    );
    let pg = ddl::create_table(Backend::Postgres, Item::META);
    assert!(pg.contains("\"id\" BIGSERIAL PRIMARY KEY"), "{pg}");
    assert!(pg.contains("\"name\" TEXT COLLATE \"C\" NOT NULL"), "{pg}");
    assert!(pg.contains("\"price\" NUMERIC NULL"), "{pg}");
    assert!(pg.contains("\"at\" TIMESTAMPTZ NULL"), "{pg}");
    assert!(pg.contains("\"uid\" UUID NULL"), "{pg}");
    assert_eq!(
        ddl::create_indexes(Item::META),
        [
            "CREATE INDEX IF NOT EXISTS \"item__group\" ON \"item\" (\"group\")",
            "CREATE INDEX IF NOT EXISTS \"item__modified\" ON \"item\" (\"modified\")",
        ]
    );
    assert!(
        ddl::create_table(Backend::Sqlite, Group::META).contains("\"name\" TEXT NOT NULL UNIQUE")
    );
}

#[test]
fn null_guard_and_negation() {
    let f = Item::fields();
    let (text, n) = where_of(Backend::Sqlite, !f.code.eq("x"));
    assert_eq!(text, "(NOT (\"code\" IS NOT NULL AND \"code\" = ?))");
    assert_eq!(n, 1);
    // Not-null columns need no guard.
    let (text, _) = where_of(Backend::Postgres, f.name.eq("x") | f.qty.gt(3));
    assert_eq!(text, "((\"name\" = $1) OR (\"qty\" > $2))");
    let (text, _) = where_of(Backend::Sqlite, f.code.isnull(true));
    assert_eq!(text, "(\"code\" IS NULL)");
}

#[test]
fn text_lookups_per_backend() {
    let f = Item::fields();
    assert_eq!(
        where_of(Backend::Sqlite, f.name.contains("a%")).0,
        "(instr(\"name\", ?) > 0)"
    );
    assert_eq!(
        where_of(Backend::Postgres, f.name.contains("a%")).0,
        "(\"name\" LIKE $1 ESCAPE '\\')"
    );
    assert_eq!(
        where_of(Backend::Sqlite, f.name.endswith("z")).0,
        "(substr(\"name\", -length(?)) = ?)"
    );
    assert_eq!(
        where_of(Backend::Sqlite, f.name.icontains("A")).0,
        "(lower(\"name\") LIKE ? ESCAPE '\\')"
    );
    let pg = where_of(Backend::Postgres, f.name.iexact("A")).0;
    assert!(
        pg.starts_with(
            "(translate(\"name\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') = $1"
        ),
        "{pg}"
    );
    assert_eq!(where_of(Backend::Sqlite, f.name.contains("")).0, "(1=1)");
    assert_eq!(
        where_of(Backend::Postgres, f.name.iregex("a")).0,
        "(\"name\" ~* $1)"
    );
}

#[test]
fn date_parts_and_decimals() {
    let f = Item::fields();
    let (sqlite, _) = where_of(Backend::Sqlite, f.at.week_day().eq(1));
    assert_eq!(
        sqlite,
        "(\"at\" IS NOT NULL AND (CAST(strftime('%w', substr(\"at\", 1, 19)) AS INTEGER) + 1) = ?)"
    );
    let (pg, _) = where_of(Backend::Postgres, f.at.second().lt(30));
    assert_eq!(pg, "(\"at\" IS NOT NULL AND (CAST(FLOOR(EXTRACT(SECOND FROM \"at\" AT TIME ZONE 'UTC')) AS INTEGER)) < $1)");
    let (dec, _) = where_of(Backend::Sqlite, f.price.gte(rust_decimal::Decimal::ONE));
    assert_eq!(
        dec,
        "(\"price\" IS NOT NULL AND CAST(\"price\" AS REAL) >= CAST(? AS REAL))"
    );
}

#[test]
fn long_in_lists_are_split() {
    let f = Item::fields();
    let (text, n) = where_of(Backend::Sqlite, f.qty.is_in(0..2500));
    assert_eq!(n, 2500);
    assert_eq!(text.matches(" IN (").count(), 3);
}

#[test]
fn select_limit_offset_order() {
    let spec = ReadSpec {
        order: vec![OrderKey::new(2, true), OrderKey::new(0, true)],
        limit: None,
        offset: 5,
        ..ReadSpec::filtered(Item::META, Expr::All)
    };
    let sqlite = select::count(Backend::Sqlite, Item::META, &spec).unwrap();
    assert!(sqlite.text().ends_with("ORDER BY \"t0\".\"code\" DESC NULLS LAST, \"t0\".\"id\" DESC LIMIT -1 OFFSET 5) AS \"sub\""), "{}", sqlite.text());
    let pg = select::rows(Backend::Postgres, Item::META, &spec, true).unwrap();
    assert!(pg.text().ends_with("OFFSET 5 FOR UPDATE"), "{}", pg.text());
}

#[test]
fn upsert_text() {
    let rows = vec![super::item("a", 1).to_row(), super::item("b", 2).to_row()];
    let sql = write::upsert(Backend::Postgres, Item::META, 2, &[1, 3], &rows).unwrap();
    assert!(sql.text().contains("), ($10,"), "{}", sql.text());
    assert!(sql.text().ends_with(
        "ON CONFLICT (\"code\") DO UPDATE SET \"name\" = excluded.\"name\", \"qty\" = excluded.\"qty\" RETURNING \"id\", \"code\""
    ), "{}", sql.text());
    assert_eq!(sql.params().len(), 18);
}

#[test]
fn an_upsert_says_which_written_rows_match_a_condition() {
    let f = Item::fields();
    let rows = vec![super::item("a", 1).to_row(), super::item("b", 2).to_row()];
    let cond = f.qty.gt(1) & f.name.startswith("a");
    let plan = write::UpsertPlan {
        matches: Some(cond.expr()),
        insert_only: false,
    };
    let sql = write::upsert_planned(Backend::Sqlite, Item::META, 2, &[1, 3], &rows, plan).unwrap();
    // The condition reads the written row's columns, its values bound after the rows'.
    assert!(
        sql.text().ends_with(
            "RETURNING \"id\", \"code\", COALESCE(((\"qty\" > ?) AND (substr(\"name\", 1, \
             length(?)) = ?)), 1=0) AS \"cdms_matches\""
        ),
        "{}",
        sql.text()
    );
    assert_eq!(sql.params().len(), 18 + 3);
    assert_eq!(
        write::condition_params(Backend::Sqlite, Item::META, cond.expr()).unwrap(),
        3
    );
    // Rows believed new: an existing key is left alone and not returned.
    let plan = write::UpsertPlan {
        matches: None,
        insert_only: true,
    };
    let sql =
        write::upsert_planned(Backend::Postgres, Item::META, 2, &[1, 3], &rows, plan).unwrap();
    assert!(
        sql.text()
            .ends_with("ON CONFLICT (\"code\") DO NOTHING RETURNING \"id\", \"code\""),
        "{}",
        sql.text()
    );
}

#[test]
fn a_write_and_its_version_in_one_statement() {
    use crate::value::Value;
    let row = super::item("a", 1).to_row();
    let insert = write::insert(Backend::Postgres, Item::META, &row, false).unwrap();
    let n = insert.params().len();
    // id, entity, local_pk (taken from the written row), remote_key, kind, snapshot, actor,
    // at, prior.
    let version = vec![
        Value::Int(0),
        Value::Text("item".into()),
        Value::Int(0),
        Value::Null,
        Value::Text("change".into()),
        Value::Text(String::new()),
        Value::Null,
        Value::DateTime(crate::store::now()),
        Value::Null,
    ];
    let sql = write::with_version(Item::META, insert.clone(), &version).unwrap();
    let text = sql.text();
    assert!(
        text.starts_with(&format!("WITH \"cdms_written\" AS ({})", insert.text())),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            ", \"cdms_versions\" AS (INSERT INTO \"history\" (\"entity\", \"local_pk\", \
             \"remote_key\", \"kind\", \"snapshot\", \"actor\", \"at\", \"prior\") SELECT ${}, \
             \"w\".\"id\", ${}, ${}, ${}, ${}, ${}, ${} FROM \"cdms_written\" AS \"w\") SELECT \
             \"id\" FROM \"cdms_written\"",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7
        )),
        "{text}"
    );
    assert_eq!(sql.params().len(), n + 7);
    assert_eq!(&sql.params()[..n], insert.params());
    // SQLite has no data-modifying `WITH`.
    let insert = write::insert(Backend::Sqlite, Item::META, &row, false).unwrap();
    assert!(write::with_version(Item::META, insert, &version).is_err());
}

#[test]
fn relations_are_exists_subqueries() {
    let f = Item::fields();
    // Forward: the referenced row exists and matches; without an alias the outer column is
    // qualified by its table, so the subquery cannot capture it.
    let (text, params) = where_of(Backend::Postgres, f.group.matching(|g| g.name.eq("x")));
    assert_eq!(
        text,
        "EXISTS (SELECT 1 FROM \"grp\" AS \"r1\" WHERE \"r1\".\"id\" = \"item\".\"group\" \
         AND (\"r1\".\"name\" = $1))"
    );
    assert_eq!(params, 1);
    // Backward, negated (`none`), beside a root condition; each subquery has its own alias.
    let q = f.group.matching(|_| f.group.none(|i| i.qty.gt(3))) & f.qty.eq(1);
    let (text, _) = where_of(Backend::Sqlite, q);
    assert_eq!(
        text,
        "(EXISTS (SELECT 1 FROM \"grp\" AS \"r1\" WHERE \"r1\".\"id\" = \"item\".\"group\" \
         AND (NOT EXISTS (SELECT 1 FROM \"item\" AS \"r2\" WHERE \"r2\".\"group\" = \"r1\".\"id\" \
         AND (\"r2\".\"qty\" > ?)))) AND (\"qty\" = ?))"
    );
    // No condition after the hop: existence only.
    let mut sql = Sql::new(Backend::Sqlite, "Group");
    let q: Q<Group> = f.group.any(|_| Q::all());
    filter::push_expr(&mut sql, Group::META, None, q.expr()).unwrap();
    assert_eq!(
        sql.text(),
        "EXISTS (SELECT 1 FROM \"item\" AS \"r1\" WHERE \"r1\".\"group\" = \"grp\".\"id\")"
    );
}

#[test]
fn order_through_references_left_joins() {
    let (f, g) = (Item::fields(), Group::fields());
    let group_id = OrderKey {
        field: Group::META.pk,
        desc: false,
        via: vec![f.group.index()],
    };
    let order = vec![
        f.group.then(g.name).desc().into_key(),
        f.qty.asc().into_key(),
        group_id,
        OrderKey::asc(Item::META.pk),
    ];
    let spec = ReadSpec {
        order,
        limit: Some(3),
        ..ReadSpec::filtered(Item::META, f.group.matching(|g| g.name.eq("x")).into_expr())
    };
    // One join per distinct path (shared by both keys through `group`), before the relation's
    // EXISTS subquery, whose alias stays its own; nulls placed explicitly for keys through a
    // reference, whatever the far field's nullability.
    let sqlite = select::columns(Backend::Sqlite, Item::META, &spec, &[0], false).unwrap();
    assert_eq!(
        sqlite.text(),
        "SELECT \"t0\".\"id\" FROM \"item\" AS \"t0\" \
         LEFT JOIN \"grp\" AS \"o1\" ON \"o1\".\"id\" = \"t0\".\"group\" \
         WHERE EXISTS (SELECT 1 FROM \"grp\" AS \"r1\" WHERE \"r1\".\"id\" = \"t0\".\"group\" \
         AND (\"r1\".\"name\" = ?)) \
         ORDER BY \"o1\".\"name\" DESC NULLS LAST, \"t0\".\"qty\" ASC, \
         \"o1\".\"id\" ASC NULLS FIRST, \"t0\".\"id\" ASC LIMIT 3"
    );
    assert_eq!(sqlite.params().len(), 1);
    // PostgreSQL locks only the queried rows (not the outer join's nullable side).
    let pg = select::rows(Backend::Postgres, Item::META, &spec, true).unwrap();
    assert!(
        pg.text().ends_with(" LIMIT 3 FOR UPDATE OF \"t0\""),
        "{}",
        pg.text()
    );
    // Counts of a window join too; unwindowed counts need no order.
    let count = select::count(Backend::Postgres, Item::META, &spec).unwrap();
    assert!(
        count.text().contains(" LEFT JOIN \"grp\" AS \"o1\" "),
        "{}",
        count.text()
    );
    let all = ReadSpec {
        limit: None,
        ..spec.clone()
    };
    let count = select::count(Backend::Postgres, Item::META, &all).unwrap();
    assert!(!count.text().contains("JOIN"), "{}", count.text());
    // Random order needs no join.
    let random = ReadSpec {
        random: true,
        ..spec.clone()
    };
    let text = select::rows(Backend::Sqlite, Item::META, &random, false).unwrap();
    assert!(!text.text().contains("JOIN"), "{}", text.text());
    // An untyped key through a field that is not a reference is refused, naming the field.
    let bad = ReadSpec {
        order: vec![OrderKey {
            field: 0,
            desc: false,
            via: vec![f.group.index(), g.name.index()],
        }],
        ..ReadSpec::all(Item::META)
    };
    let err = select::rows(Backend::Sqlite, Item::META, &bad, false).unwrap_err();
    assert!(
        err.to_string().contains("field name: not a reference"),
        "{err}"
    );
}
