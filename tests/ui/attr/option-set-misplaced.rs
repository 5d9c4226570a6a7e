use cdms_runtime::OptionSet;

#[derive(OptionSet)]
#[option_set(other)]
enum Gender {
    Male = 1,
    Female = 2,
}

#[derive(OptionSet)]
struct Code(#[option_set(other)] i32);

#[derive(OptionSet)]
#[repr(i32)]
enum Industry {
    Accounting = 1,
    #[option_set(fallback)]
    Other(i32),
}

fn main() {}
