use cdms_runtime::OptionSet;

#[derive(OptionSet)]
#[repr(i32)]
enum Industry {
    Accounting = 1,
    Named { code: i32 },
    #[option_set(other)]
    Other(i32) = 99,
    #[option_set(other)]
    Unknown(i64),
}

#[derive(OptionSet)]
enum Nothing {}

fn main() {}
