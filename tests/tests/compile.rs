//! Compile tests of the derives: each `tests/ui/{attr,validate,types}/*.rs` case must fail with
//! the committed `.stderr`, each `tests/ui/pass/*.rs` case must compile and run.
//! Regenerate the expected output with `TRYBUILD=overwrite` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/attr/*.rs");
    t.compile_fail("ui/validate/*.rs");
    t.compile_fail("ui/types/*.rs");
    t.pass("ui/pass/*.rs");
}
