use cdms_runtime::Entity;
use chrono::{DateTime, NaiveDate, Utc};

#[derive(Entity)]
struct Note {
    #[entity(primary_key)]
    id: i64,
    #[entity(modified)]
    modified_on: Option<DateTime<Utc>>,
    #[entity(modified)]
    changed_on: DateTime<Utc>,
    #[entity(created)]
    created_on: NaiveDate,
    #[entity(created, modified)]
    stamped_on: DateTime<Utc>,
}

fn main() {}
