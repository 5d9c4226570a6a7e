use cdms_runtime::Entity;
use chrono::{DateTime, Utc};

#[derive(Entity)]
struct Settings {
    #[entity(primary_key)]
    id: i64,
    #[entity(default = "ten")]
    retries: i32,
    #[entity(default = 3)]
    ratio: f64,
    #[entity(default = 1)]
    enabled: Option<bool>,
    #[entity(default = 3_000_000_000)]
    limit: i32,
    #[entity(default = "2024-01-01T00:00:00Z")]
    since: DateTime<Utc>,
}

fn main() {}
