use cdms_runtime::OptionSet;

#[derive(OptionSet)]
struct Code {
    value: i32,
}

#[derive(OptionSet)]
struct Wide(i64);

#[derive(OptionSet)]
#[repr(i32)]
enum Generic<T> {
    A = 1,
    #[option_set(other)]
    B(T),
}

fn main() {}
