use cdms_runtime::OptionSet;

#[derive(OptionSet)]
enum Gender {
    Male,
    Female = 2,
}

const THREE: isize = 3;

#[derive(OptionSet)]
enum Rating {
    Good = THREE,
    Huge = 3_000_000_000,
}

fn main() {}
