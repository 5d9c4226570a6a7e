//! An entity without CDMS: no `#[cdms(...)]`, no `CdmsSynced`; it never names CDMS items.

use cdms_runtime::{Db, Entity, QuerySet, Ref};

/// A local-only note.
#[derive(Debug, Entity)]
pub struct MeetingNote {
    /// The key.
    #[entity(primary_key)]
    pub id: i64,
    /// The text.
    pub text: String,
    /// Another note this one answers.
    pub reply_to: Option<Ref<MeetingNote>>,
    r#type: Option<String>,
}

fn main() {
    let meta = MeetingNote::META;
    assert_eq!(meta.table, "meeting_note");
    assert!(meta.remote.is_none());
    assert_eq!(meta.field("type").map(|(i, f)| (i, f.column)), Some((3, "type")));
    let target = meta.fields[2].references.map(|f| f().name);
    assert_eq!(target, Some("MeetingNote"), "a self-reference");
    let _: fn(&Db) -> QuerySet<MeetingNote> = MeetingNote::objects;
    let f = MeetingNote::fields();
    let _ = f.text.icontains("agenda") & !f.reply_to.isnull(true) | f.r#type.eq("minutes");
    let note = MeetingNote { id: 5, text: "hi".into(), reply_to: None, r#type: None };
    assert_eq!(note.pk(), 5);
}
