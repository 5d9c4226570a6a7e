//! Reference lists the demo data is drawn from: real countries, DIT sectors, UK regions, business
//! types, UK towns, and the words company and person names are made of.

/// A country: display name, ISO 3166-1 alpha-2 and alpha-3 codes, dialling code, EU member
/// (as of 2016), capital (used as the town of organisations registered there).
pub(crate) struct CountryRow {
    pub name: &'static str,
    pub iso2: &'static str,
    pub iso3: &'static str,
    pub dialling: i32,
    pub eu: bool,
    pub capital: &'static str,
}

macro_rules! countries {
    ($(($name:literal, $iso2:literal, $iso3:literal, $dial:literal, $eu:literal, $cap:literal)),* $(,)?) => {
        &[$(CountryRow { name: $name, iso2: $iso2, iso3: $iso3, dialling: $dial, eu: $eu, capital: $cap }),*]
    };
}

/// The United Kingdom is first: most organisations are registered there.
pub(crate) const COUNTRIES: &[CountryRow] = countries![
    ("United Kingdom", "GB", "GBR", 44, true, "London"),
    ("Ireland", "IE", "IRL", 353, true, "Dublin"),
    ("France", "FR", "FRA", 33, true, "Paris"),
    ("Germany", "DE", "DEU", 49, true, "Berlin"),
    ("Netherlands", "NL", "NLD", 31, true, "Amsterdam"),
    ("Belgium", "BE", "BEL", 32, true, "Brussels"),
    ("Spain", "ES", "ESP", 34, true, "Madrid"),
    ("Italy", "IT", "ITA", 39, true, "Rome"),
    ("Portugal", "PT", "PRT", 351, true, "Lisbon"),
    ("Sweden", "SE", "SWE", 46, true, "Stockholm"),
    ("Denmark", "DK", "DNK", 45, true, "Copenhagen"),
    ("Finland", "FI", "FIN", 358, true, "Helsinki"),
    ("Poland", "PL", "POL", 48, true, "Warsaw"),
    ("Czech Republic", "CZ", "CZE", 420, true, "Prague"),
    ("Austria", "AT", "AUT", 43, true, "Vienna"),
    ("Greece", "GR", "GRC", 30, true, "Athens"),
    ("Hungary", "HU", "HUN", 36, true, "Budapest"),
    ("Romania", "RO", "ROU", 40, true, "Bucharest"),
    ("Norway", "NO", "NOR", 47, false, "Oslo"),
    ("Switzerland", "CH", "CHE", 41, false, "Bern"),
    ("Iceland", "IS", "ISL", 354, false, "Reykjavik"),
    ("Turkey", "TR", "TUR", 90, false, "Ankara"),
    ("Russia", "RU", "RUS", 7, false, "Moscow"),
    ("United States", "US", "USA", 1, false, "Washington"),
    ("Canada", "CA", "CAN", 1, false, "Ottawa"),
    ("Mexico", "MX", "MEX", 52, false, "Mexico City"),
    ("Brazil", "BR", "BRA", 55, false, "Brasilia"),
    ("Argentina", "AR", "ARG", 54, false, "Buenos Aires"),
    ("Chile", "CL", "CHL", 56, false, "Santiago"),
    ("Colombia", "CO", "COL", 57, false, "Bogota"),
    ("China", "CN", "CHN", 86, false, "Beijing"),
    ("Hong Kong", "HK", "HKG", 852, false, "Hong Kong"),
    ("Japan", "JP", "JPN", 81, false, "Tokyo"),
    ("South Korea", "KR", "KOR", 82, false, "Seoul"),
    ("Taiwan", "TW", "TWN", 886, false, "Taipei"),
    ("Singapore", "SG", "SGP", 65, false, "Singapore"),
    ("Malaysia", "MY", "MYS", 60, false, "Kuala Lumpur"),
    ("Thailand", "TH", "THA", 66, false, "Bangkok"),
    ("Vietnam", "VN", "VNM", 84, false, "Hanoi"),
    ("Indonesia", "ID", "IDN", 62, false, "Jakarta"),
    ("Philippines", "PH", "PHL", 63, false, "Manila"),
    ("India", "IN", "IND", 91, false, "New Delhi"),
    ("Pakistan", "PK", "PAK", 92, false, "Islamabad"),
    ("Bangladesh", "BD", "BGD", 880, false, "Dhaka"),
    ("Sri Lanka", "LK", "LKA", 94, false, "Colombo"),
    ("United Arab Emirates", "AE", "ARE", 971, false, "Abu Dhabi"),
    ("Saudi Arabia", "SA", "SAU", 966, false, "Riyadh"),
    ("Qatar", "QA", "QAT", 974, false, "Doha"),
    ("Kuwait", "KW", "KWT", 965, false, "Kuwait City"),
    ("Israel", "IL", "ISR", 972, false, "Jerusalem"),
    ("Egypt", "EG", "EGY", 20, false, "Cairo"),
    ("Morocco", "MA", "MAR", 212, false, "Rabat"),
    ("Nigeria", "NG", "NGA", 234, false, "Abuja"),
    ("Ghana", "GH", "GHA", 233, false, "Accra"),
    ("Kenya", "KE", "KEN", 254, false, "Nairobi"),
    ("South Africa", "ZA", "ZAF", 27, false, "Pretoria"),
    ("Australia", "AU", "AUS", 61, false, "Canberra"),
    ("New Zealand", "NZ", "NZL", 64, false, "Wellington"),
];

/// Export and investment sectors as UKTI's CDMS listed them.
#[rustfmt::skip]
pub(crate) const SECTORS: &[&str] = &[
    "Advanced Engineering", "Aerospace", "Agriculture, Horticulture and Fisheries", "Airports",
    "Automotive", "Biotechnology and Pharmaceuticals", "Business and Consumer Services",
    "Chemicals", "Clothing, Footwear and Fashion", "Communications", "Construction",
    "Creative and Media", "Defence and Security", "Education and Training",
    "Electronics and IT Hardware", "Environment",
    "Financial Services (including Professional Services)", "Food and Drink",
    "Giftware, Jewellery and Tableware", "Healthcare and Medical",
    "Household Goods, Furniture and Furnishings", "ICT", "Leisure and Tourism", "Life Sciences",
    "Marine", "Mechanical Electrical and Process Engineering", "Metals, Minerals and Materials",
    "Mining", "Oil and Gas", "Ports and Logistics", "Power", "Railways", "Renewable Energy",
    "Retail", "Software and Computer Services Business to Business (B2B)",
    "Textiles, Interior Textiles and Carpets", "Water",
];

/// UK regions: display name and code.
pub(crate) const UK_REGIONS: &[(&str, &str)] = &[
    ("London", "LDN"),
    ("South East", "SE"),
    ("South West", "SW"),
    ("East of England", "EOE"),
    ("East Midlands", "EM"),
    ("West Midlands", "WM"),
    ("Yorkshire and The Humber", "YH"),
    ("North East", "NE"),
    ("North West", "NW"),
    ("Scotland", "SCO"),
    ("Wales", "WAL"),
    ("Northern Ireland", "NI"),
    ("Channel Islands", "CI"),
    ("Isle of Man", "IOM"),
];

/// Kinds of business; the index decides the company-name suffix.
#[rustfmt::skip]
pub(crate) const BUSINESS_TYPES: &[&str] = &[
    "Private limited company", "Public limited company", "Limited liability partnership",
    "Partnership", "Sole trader", "Charity", "Government department", "Other",
];

/// A UK town: name, postcode district prefixes, index into [`UK_REGIONS`], latitude, STD code.
pub(crate) struct Town {
    pub name: &'static str,
    pub districts: &'static [&'static str],
    pub region: usize,
    pub latitude: f64,
    pub std_code: &'static str,
}

macro_rules! towns {
    ($(($name:literal, [$($d:literal),*], $region:literal, $lat:literal, $std:literal)),* $(,)?) => {
        &[$(Town { name: $name, districts: &[$($d),*], region: $region, latitude: $lat, std_code: $std }),*]
    };
}

/// London is listed several times so that it gets its real share of organisations.
pub(crate) const TOWNS: &[Town] = towns![
    (
        "London",
        [
            "EC1A", "EC2M", "EC3V", "EC4R", "WC1B", "WC2N", "SW1A", "SW1P", "SE1", "N1", "E14",
            "W1J"
        ],
        0,
        51.5074,
        "020"
    ),
    (
        "London",
        ["EC1V", "EC2A", "WC2H", "SE11", "NW1", "E1", "W2", "SW6"],
        0,
        51.5155,
        "020"
    ),
    (
        "London",
        ["E16", "N7", "SE10", "SW19", "W6", "NW3"],
        0,
        51.4975,
        "020"
    ),
    ("Reading", ["RG1", "RG2", "RG30"], 1, 51.4543, "0118"),
    ("Oxford", ["OX1", "OX2", "OX4"], 1, 51.7520, "01865"),
    ("Southampton", ["SO14", "SO15", "SO16"], 1, 50.9097, "023"),
    ("Brighton", ["BN1", "BN2", "BN3"], 1, 50.8225, "01273"),
    (
        "Milton Keynes",
        ["MK9", "MK10", "MK14"],
        1,
        52.0406,
        "01908"
    ),
    ("Guildford", ["GU1", "GU2"], 1, 51.2362, "01483"),
    ("Bristol", ["BS1", "BS2", "BS8", "BS16"], 2, 51.4545, "0117"),
    ("Exeter", ["EX1", "EX2", "EX4"], 2, 50.7184, "01392"),
    ("Plymouth", ["PL1", "PL4", "PL6"], 2, 50.3755, "01752"),
    ("Swindon", ["SN1", "SN2", "SN5"], 2, 51.5558, "01793"),
    ("Cambridge", ["CB1", "CB2", "CB4"], 3, 52.2053, "01223"),
    ("Norwich", ["NR1", "NR2", "NR3"], 3, 52.6309, "01603"),
    ("Ipswich", ["IP1", "IP3", "IP4"], 3, 52.0567, "01473"),
    ("Nottingham", ["NG1", "NG2", "NG7"], 4, 52.9548, "0115"),
    ("Leicester", ["LE1", "LE2", "LE4"], 4, 52.6369, "0116"),
    ("Derby", ["DE1", "DE21", "DE24"], 4, 52.9225, "01332"),
    (
        "Birmingham",
        ["B1", "B2", "B3", "B4", "B15"],
        5,
        52.4862,
        "0121"
    ),
    ("Coventry", ["CV1", "CV3", "CV4"], 5, 52.4068, "024"),
    ("Wolverhampton", ["WV1", "WV2", "WV10"], 5, 52.5870, "01902"),
    ("Leeds", ["LS1", "LS2", "LS11"], 6, 53.8008, "0113"),
    ("Sheffield", ["S1", "S2", "S9"], 6, 53.3811, "0114"),
    ("York", ["YO1", "YO10", "YO31"], 6, 53.9600, "01904"),
    ("Hull", ["HU1", "HU2", "HU9"], 6, 53.7676, "01482"),
    (
        "Newcastle upon Tyne",
        ["NE1", "NE4", "NE6"],
        7,
        54.9783,
        "0191"
    ),
    ("Sunderland", ["SR1", "SR2", "SR5"], 7, 54.9069, "0191"),
    ("Middlesbrough", ["TS1", "TS2", "TS3"], 7, 54.5742, "01642"),
    (
        "Manchester",
        ["M1", "M2", "M3", "M4", "M15"],
        8,
        53.4808,
        "0161"
    ),
    ("Liverpool", ["L1", "L2", "L3", "L24"], 8, 53.4084, "0151"),
    ("Preston", ["PR1", "PR2"], 8, 53.7632, "01772"),
    ("Warrington", ["WA1", "WA2", "WA5"], 8, 53.3900, "01925"),
    ("Glasgow", ["G1", "G2", "G3", "G51"], 9, 55.8642, "0141"),
    (
        "Edinburgh",
        ["EH1", "EH2", "EH3", "EH12"],
        9,
        55.9533,
        "0131"
    ),
    ("Aberdeen", ["AB10", "AB11", "AB25"], 9, 57.1497, "01224"),
    ("Dundee", ["DD1", "DD2", "DD4"], 9, 56.4620, "01382"),
    ("Cardiff", ["CF10", "CF11", "CF24"], 10, 51.4816, "029"),
    ("Swansea", ["SA1", "SA2", "SA6"], 10, 51.6214, "01792"),
    ("Newport", ["NP10", "NP19", "NP20"], 10, 51.5842, "01633"),
    ("Belfast", ["BT1", "BT2", "BT3", "BT9"], 11, 54.5973, "028"),
    ("Derry", ["BT47", "BT48"], 11, 54.9966, "028"),
    ("St Helier", ["JE1", "JE2"], 12, 49.1868, "01534"),
    ("Douglas", ["IM1", "IM2"], 13, 54.1523, "01624"),
];

/// The first word of a company name: places, landscape words and surnames.
#[rustfmt::skip]
pub(crate) const NAME_STEMS: &[&str] = &[
    "Albion", "Ashford", "Avon", "Beacon", "Bedford", "Birch", "Blackwood", "Bramley",
    "Bridgewater", "Brunel", "Caledonian", "Cambrian", "Carlton", "Castle", "Cavendish", "Chiltern",
    "Clyde", "Cotswold", "Crown", "Dalton", "Derwent", "Downland", "Eden", "Elgin", "Fairfax",
    "Fenwick", "Forth", "Foxley", "Galloway", "Grafton", "Granite", "Hadley", "Halcyon", "Hamilton",
    "Harbour", "Harrow", "Hawthorn", "Heather", "Highland", "Holloway", "Kestrel", "Kingsley",
    "Lakeland", "Langley", "Lomond", "Marlow", "Meridian", "Mersey", "Millbrook", "Moorgate",
    "Northgate", "Oakridge", "Orchard", "Pennine", "Pembroke", "Portland", "Quayside",
    "Ravenscroft", "Redwood", "Ribble", "Riverside", "Rowan", "Severn", "Sheldon", "Solent",
    "Sterling", "Stratton", "Summit", "Tamar", "Thames", "Thornbury", "Trent", "Tweed", "Tyne",
    "Vale", "Wessex", "Westbury", "Whitfield", "Willow", "Windsor", "Wolds", "Wycombe", "Yarrow",
    "Yorkshire",
];

/// The activity word(s) of a company name.
#[rustfmt::skip]
pub(crate) const NAME_CORES: &[&str] = &[
    "Precision Engineering", "Aerospace Components", "Analytics", "Architecture", "Bakeries",
    "Biosciences", "Brewing", "Building Services", "Ceramics", "Chemicals", "Cloud Systems",
    "Composites", "Consulting", "Data", "Design", "Digital", "Distillers", "Electronics", "Energy",
    "Environmental", "Fabrications", "Fashion", "Financial Services", "Fisheries", "Foods",
    "Furniture", "Games", "Garden Products", "Glass", "Healthcare", "Holdings", "Hydraulics",
    "Instruments", "Insurance Brokers", "Interiors", "Logistics", "Machine Tools", "Marine",
    "Media", "Medical Devices", "Metals", "Motorsport", "Optics", "Packaging", "Pharmaceuticals",
    "Plastics", "Power Systems", "Print", "Rail Services", "Recruitment", "Renewables", "Robotics",
    "Security", "Software", "Surveying", "Technologies", "Textiles", "Tooling", "Trading", "Travel",
    "Ventures", "Water Solutions", "Wind Power", "Woollens",
];

/// Common UK given names (female, then male: the index parity decides the gender code).
#[rustfmt::skip]
pub(crate) const FIRST_NAMES_FEMALE: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Emily", "Ava", "Jessica", "Sophie", "Grace", "Lucy", "Charlotte",
    "Hannah", "Ellie", "Chloe", "Megan", "Sarah", "Rebecca", "Laura", "Claire", "Rachel", "Helen",
    "Joanne", "Nicola", "Emma", "Katherine", "Victoria", "Fiona", "Aisha", "Priya", "Siobhan",
    "Mairi",
];

/// Common UK given names (male).
#[rustfmt::skip]
pub(crate) const FIRST_NAMES_MALE: &[&str] = &[
    "Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "Thomas", "William", "James",
    "Daniel", "Matthew", "Andrew", "David", "Richard", "Paul", "Mark", "Stephen", "Christopher",
    "Michael", "Peter", "Robert", "Simon", "Gareth", "Rhys", "Callum", "Ewan", "Mohammed", "Raj",
    "Liam",
];

/// Common UK family names.
#[rustfmt::skip]
pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes",
    "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin",
    "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison",
    "Morgan", "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price",
    "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey",
    "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Richards", "Khan", "Marshall",
    "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson", "Foster", "Chapman",
    "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell", "Matthews",
    "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Russell", "Barker",
    "Fisher", "Stevens", "Jenkins", "MacDonald", "Dixon", "O'Brien", "O'Neill", "McKenzie",
    "Fraser", "Reid", "Stewart", "Murray",
];

/// Job titles as they appear on CDMS contacts.
#[rustfmt::skip]
pub(crate) const JOB_TITLES: &[&str] = &[
    "Managing Director", "Chief Executive Officer", "Finance Director", "Chief Financial Officer",
    "Operations Director", "Sales Director", "Export Manager", "Export Sales Manager",
    "International Business Manager", "Head of International", "Marketing Manager",
    "Business Development Manager", "Commercial Director", "Company Secretary", "Director",
    "Founder", "Chairman", "Office Manager", "Procurement Manager", "Head of Partnerships",
    "Technical Director", "Engineering Manager", "Product Manager", "Logistics Coordinator",
    "Head of Legal", "Investment Manager", "Trade Adviser", "Partner",
];

/// Mail hosts of people who give a personal address.
#[rustfmt::skip]
pub(crate) const MAIL_HOSTS: &[&str] = &[
    "gmail.com", "hotmail.co.uk", "btinternet.com", "outlook.com", "yahoo.co.uk",
];
