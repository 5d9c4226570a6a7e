//! A full-width entity for the decode figures: 198 properties cycling over every kind CRM 2011
//! publishes (String, Boolean, Int32, Int64, Decimal, Double, DateTime, Guid, Money,
//! OptionSetValue, EntityReference), about as wide as CDMS's `AccountSet` (201 properties).
//!
//! [`NewWide`] and its option sets are exactly what `cdms-sync scaffold` generates from the
//! emulator's `$metadata` for [`spec`]; [`PlainWide`] is a plain `#[derive(Deserialize)]`
//! struct of the same properties, which keeps dates, GUIDs, decimals and 64-bit integers as the
//! strings CRM sends.

use cdms_runtime::cdms::CdmsKind;
use cdms_runtime::emulator::SetSpec;
use cdms_runtime::{CdmsSynced, Entity, OptionSet};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

/// How many properties the set has besides its key and the server-managed ones.
const WIDTH: usize = 198;

/// The emulator's set: `new_wideSet`, key `new_wideId`, properties `new_Field000` …
/// `new_Field197`, their kinds cycling over [`CdmsKind::ALL`]. Fill it with
/// `Emulator::generate`.
pub fn spec() -> SetSpec {
    (0..WIDTH).fold(SetSpec::new("new_wide", "new_wideId"), |spec, i| {
        spec.property(
            &format!("new_Field{i:03}"),
            CdmsKind::ALL[i % CdmsKind::ALL.len()],
        )
    })
}

/// CDMS `new_wide` (set `new_wideSet`, table `new_wide`).
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[entity(table = "new_wide")]
#[cdms(service = "new_wide")]
pub struct NewWide {
    /// The local primary key (0 until saved).
    #[entity(primary_key)]
    pub id: i64,
    /// The CDMS GUID (`new_wideId`, `Edm.Guid`, the key; `None` until the record exists in CDMS).
    #[entity(unique)]
    #[cdms(field = "new_wideId", id)]
    pub cdms_id: Option<Uuid>,
    /// `new_Field000` (`Edm.String`).
    #[cdms(field = "new_Field000")]
    pub new_field000: Option<String>,
    /// `new_Field001` (`Edm.Boolean`).
    #[cdms(field = "new_Field001")]
    pub new_field001: Option<bool>,
    /// `new_Field002` (`Edm.Int32`).
    #[cdms(field = "new_Field002")]
    pub new_field002: Option<i32>,
    /// `new_Field003` (`Edm.Int64`).
    #[cdms(field = "new_Field003")]
    pub new_field003: Option<i64>,
    /// `new_Field004` (`Edm.Decimal`).
    #[cdms(field = "new_Field004")]
    pub new_field004: Option<Decimal>,
    /// `new_Field005` (`Edm.Double`).
    #[cdms(field = "new_Field005")]
    pub new_field005: Option<f64>,
    /// `new_Field006` (`Edm.DateTime`).
    #[cdms(field = "new_Field006")]
    pub new_field006: Option<DateTime<Utc>>,
    /// `new_Field007` (`Edm.Guid`).
    #[cdms(field = "new_Field007")]
    pub new_field007: Option<Uuid>,
    /// `new_Field008` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field008", money)]
    pub new_field008: Option<Decimal>,
    /// `new_Field009` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field009")]
    pub new_field009: Option<NewWideNewField009>,
    /// `new_Field010` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field010", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field010: Option<Uuid>,
    /// `new_Field011` (`Edm.String`).
    #[cdms(field = "new_Field011")]
    pub new_field011: Option<String>,
    /// `new_Field012` (`Edm.Boolean`).
    #[cdms(field = "new_Field012")]
    pub new_field012: Option<bool>,
    /// `new_Field013` (`Edm.Int32`).
    #[cdms(field = "new_Field013")]
    pub new_field013: Option<i32>,
    /// `new_Field014` (`Edm.Int64`).
    #[cdms(field = "new_Field014")]
    pub new_field014: Option<i64>,
    /// `new_Field015` (`Edm.Decimal`).
    #[cdms(field = "new_Field015")]
    pub new_field015: Option<Decimal>,
    /// `new_Field016` (`Edm.Double`).
    #[cdms(field = "new_Field016")]
    pub new_field016: Option<f64>,
    /// `new_Field017` (`Edm.DateTime`).
    #[cdms(field = "new_Field017")]
    pub new_field017: Option<DateTime<Utc>>,
    /// `new_Field018` (`Edm.Guid`).
    #[cdms(field = "new_Field018")]
    pub new_field018: Option<Uuid>,
    /// `new_Field019` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field019", money)]
    pub new_field019: Option<Decimal>,
    /// `new_Field020` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field020")]
    pub new_field020: Option<NewWideNewField020>,
    /// `new_Field021` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field021", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field021: Option<Uuid>,
    /// `new_Field022` (`Edm.String`).
    #[cdms(field = "new_Field022")]
    pub new_field022: Option<String>,
    /// `new_Field023` (`Edm.Boolean`).
    #[cdms(field = "new_Field023")]
    pub new_field023: Option<bool>,
    /// `new_Field024` (`Edm.Int32`).
    #[cdms(field = "new_Field024")]
    pub new_field024: Option<i32>,
    /// `new_Field025` (`Edm.Int64`).
    #[cdms(field = "new_Field025")]
    pub new_field025: Option<i64>,
    /// `new_Field026` (`Edm.Decimal`).
    #[cdms(field = "new_Field026")]
    pub new_field026: Option<Decimal>,
    /// `new_Field027` (`Edm.Double`).
    #[cdms(field = "new_Field027")]
    pub new_field027: Option<f64>,
    /// `new_Field028` (`Edm.DateTime`).
    #[cdms(field = "new_Field028")]
    pub new_field028: Option<DateTime<Utc>>,
    /// `new_Field029` (`Edm.Guid`).
    #[cdms(field = "new_Field029")]
    pub new_field029: Option<Uuid>,
    /// `new_Field030` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field030", money)]
    pub new_field030: Option<Decimal>,
    /// `new_Field031` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field031")]
    pub new_field031: Option<NewWideNewField031>,
    /// `new_Field032` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field032", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field032: Option<Uuid>,
    /// `new_Field033` (`Edm.String`).
    #[cdms(field = "new_Field033")]
    pub new_field033: Option<String>,
    /// `new_Field034` (`Edm.Boolean`).
    #[cdms(field = "new_Field034")]
    pub new_field034: Option<bool>,
    /// `new_Field035` (`Edm.Int32`).
    #[cdms(field = "new_Field035")]
    pub new_field035: Option<i32>,
    /// `new_Field036` (`Edm.Int64`).
    #[cdms(field = "new_Field036")]
    pub new_field036: Option<i64>,
    /// `new_Field037` (`Edm.Decimal`).
    #[cdms(field = "new_Field037")]
    pub new_field037: Option<Decimal>,
    /// `new_Field038` (`Edm.Double`).
    #[cdms(field = "new_Field038")]
    pub new_field038: Option<f64>,
    /// `new_Field039` (`Edm.DateTime`).
    #[cdms(field = "new_Field039")]
    pub new_field039: Option<DateTime<Utc>>,
    /// `new_Field040` (`Edm.Guid`).
    #[cdms(field = "new_Field040")]
    pub new_field040: Option<Uuid>,
    /// `new_Field041` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field041", money)]
    pub new_field041: Option<Decimal>,
    /// `new_Field042` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field042")]
    pub new_field042: Option<NewWideNewField042>,
    /// `new_Field043` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field043", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field043: Option<Uuid>,
    /// `new_Field044` (`Edm.String`).
    #[cdms(field = "new_Field044")]
    pub new_field044: Option<String>,
    /// `new_Field045` (`Edm.Boolean`).
    #[cdms(field = "new_Field045")]
    pub new_field045: Option<bool>,
    /// `new_Field046` (`Edm.Int32`).
    #[cdms(field = "new_Field046")]
    pub new_field046: Option<i32>,
    /// `new_Field047` (`Edm.Int64`).
    #[cdms(field = "new_Field047")]
    pub new_field047: Option<i64>,
    /// `new_Field048` (`Edm.Decimal`).
    #[cdms(field = "new_Field048")]
    pub new_field048: Option<Decimal>,
    /// `new_Field049` (`Edm.Double`).
    #[cdms(field = "new_Field049")]
    pub new_field049: Option<f64>,
    /// `new_Field050` (`Edm.DateTime`).
    #[cdms(field = "new_Field050")]
    pub new_field050: Option<DateTime<Utc>>,
    /// `new_Field051` (`Edm.Guid`).
    #[cdms(field = "new_Field051")]
    pub new_field051: Option<Uuid>,
    /// `new_Field052` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field052", money)]
    pub new_field052: Option<Decimal>,
    /// `new_Field053` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field053")]
    pub new_field053: Option<NewWideNewField053>,
    /// `new_Field054` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field054", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field054: Option<Uuid>,
    /// `new_Field055` (`Edm.String`).
    #[cdms(field = "new_Field055")]
    pub new_field055: Option<String>,
    /// `new_Field056` (`Edm.Boolean`).
    #[cdms(field = "new_Field056")]
    pub new_field056: Option<bool>,
    /// `new_Field057` (`Edm.Int32`).
    #[cdms(field = "new_Field057")]
    pub new_field057: Option<i32>,
    /// `new_Field058` (`Edm.Int64`).
    #[cdms(field = "new_Field058")]
    pub new_field058: Option<i64>,
    /// `new_Field059` (`Edm.Decimal`).
    #[cdms(field = "new_Field059")]
    pub new_field059: Option<Decimal>,
    /// `new_Field060` (`Edm.Double`).
    #[cdms(field = "new_Field060")]
    pub new_field060: Option<f64>,
    /// `new_Field061` (`Edm.DateTime`).
    #[cdms(field = "new_Field061")]
    pub new_field061: Option<DateTime<Utc>>,
    /// `new_Field062` (`Edm.Guid`).
    #[cdms(field = "new_Field062")]
    pub new_field062: Option<Uuid>,
    /// `new_Field063` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field063", money)]
    pub new_field063: Option<Decimal>,
    /// `new_Field064` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field064")]
    pub new_field064: Option<NewWideNewField064>,
    /// `new_Field065` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field065", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field065: Option<Uuid>,
    /// `new_Field066` (`Edm.String`).
    #[cdms(field = "new_Field066")]
    pub new_field066: Option<String>,
    /// `new_Field067` (`Edm.Boolean`).
    #[cdms(field = "new_Field067")]
    pub new_field067: Option<bool>,
    /// `new_Field068` (`Edm.Int32`).
    #[cdms(field = "new_Field068")]
    pub new_field068: Option<i32>,
    /// `new_Field069` (`Edm.Int64`).
    #[cdms(field = "new_Field069")]
    pub new_field069: Option<i64>,
    /// `new_Field070` (`Edm.Decimal`).
    #[cdms(field = "new_Field070")]
    pub new_field070: Option<Decimal>,
    /// `new_Field071` (`Edm.Double`).
    #[cdms(field = "new_Field071")]
    pub new_field071: Option<f64>,
    /// `new_Field072` (`Edm.DateTime`).
    #[cdms(field = "new_Field072")]
    pub new_field072: Option<DateTime<Utc>>,
    /// `new_Field073` (`Edm.Guid`).
    #[cdms(field = "new_Field073")]
    pub new_field073: Option<Uuid>,
    /// `new_Field074` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field074", money)]
    pub new_field074: Option<Decimal>,
    /// `new_Field075` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field075")]
    pub new_field075: Option<NewWideNewField075>,
    /// `new_Field076` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field076", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field076: Option<Uuid>,
    /// `new_Field077` (`Edm.String`).
    #[cdms(field = "new_Field077")]
    pub new_field077: Option<String>,
    /// `new_Field078` (`Edm.Boolean`).
    #[cdms(field = "new_Field078")]
    pub new_field078: Option<bool>,
    /// `new_Field079` (`Edm.Int32`).
    #[cdms(field = "new_Field079")]
    pub new_field079: Option<i32>,
    /// `new_Field080` (`Edm.Int64`).
    #[cdms(field = "new_Field080")]
    pub new_field080: Option<i64>,
    /// `new_Field081` (`Edm.Decimal`).
    #[cdms(field = "new_Field081")]
    pub new_field081: Option<Decimal>,
    /// `new_Field082` (`Edm.Double`).
    #[cdms(field = "new_Field082")]
    pub new_field082: Option<f64>,
    /// `new_Field083` (`Edm.DateTime`).
    #[cdms(field = "new_Field083")]
    pub new_field083: Option<DateTime<Utc>>,
    /// `new_Field084` (`Edm.Guid`).
    #[cdms(field = "new_Field084")]
    pub new_field084: Option<Uuid>,
    /// `new_Field085` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field085", money)]
    pub new_field085: Option<Decimal>,
    /// `new_Field086` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field086")]
    pub new_field086: Option<NewWideNewField086>,
    /// `new_Field087` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field087", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field087: Option<Uuid>,
    /// `new_Field088` (`Edm.String`).
    #[cdms(field = "new_Field088")]
    pub new_field088: Option<String>,
    /// `new_Field089` (`Edm.Boolean`).
    #[cdms(field = "new_Field089")]
    pub new_field089: Option<bool>,
    /// `new_Field090` (`Edm.Int32`).
    #[cdms(field = "new_Field090")]
    pub new_field090: Option<i32>,
    /// `new_Field091` (`Edm.Int64`).
    #[cdms(field = "new_Field091")]
    pub new_field091: Option<i64>,
    /// `new_Field092` (`Edm.Decimal`).
    #[cdms(field = "new_Field092")]
    pub new_field092: Option<Decimal>,
    /// `new_Field093` (`Edm.Double`).
    #[cdms(field = "new_Field093")]
    pub new_field093: Option<f64>,
    /// `new_Field094` (`Edm.DateTime`).
    #[cdms(field = "new_Field094")]
    pub new_field094: Option<DateTime<Utc>>,
    /// `new_Field095` (`Edm.Guid`).
    #[cdms(field = "new_Field095")]
    pub new_field095: Option<Uuid>,
    /// `new_Field096` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field096", money)]
    pub new_field096: Option<Decimal>,
    /// `new_Field097` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field097")]
    pub new_field097: Option<NewWideNewField097>,
    /// `new_Field098` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field098", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field098: Option<Uuid>,
    /// `new_Field099` (`Edm.String`).
    #[cdms(field = "new_Field099")]
    pub new_field099: Option<String>,
    /// `new_Field100` (`Edm.Boolean`).
    #[cdms(field = "new_Field100")]
    pub new_field100: Option<bool>,
    /// `new_Field101` (`Edm.Int32`).
    #[cdms(field = "new_Field101")]
    pub new_field101: Option<i32>,
    /// `new_Field102` (`Edm.Int64`).
    #[cdms(field = "new_Field102")]
    pub new_field102: Option<i64>,
    /// `new_Field103` (`Edm.Decimal`).
    #[cdms(field = "new_Field103")]
    pub new_field103: Option<Decimal>,
    /// `new_Field104` (`Edm.Double`).
    #[cdms(field = "new_Field104")]
    pub new_field104: Option<f64>,
    /// `new_Field105` (`Edm.DateTime`).
    #[cdms(field = "new_Field105")]
    pub new_field105: Option<DateTime<Utc>>,
    /// `new_Field106` (`Edm.Guid`).
    #[cdms(field = "new_Field106")]
    pub new_field106: Option<Uuid>,
    /// `new_Field107` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field107", money)]
    pub new_field107: Option<Decimal>,
    /// `new_Field108` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field108")]
    pub new_field108: Option<NewWideNewField108>,
    /// `new_Field109` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field109", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field109: Option<Uuid>,
    /// `new_Field110` (`Edm.String`).
    #[cdms(field = "new_Field110")]
    pub new_field110: Option<String>,
    /// `new_Field111` (`Edm.Boolean`).
    #[cdms(field = "new_Field111")]
    pub new_field111: Option<bool>,
    /// `new_Field112` (`Edm.Int32`).
    #[cdms(field = "new_Field112")]
    pub new_field112: Option<i32>,
    /// `new_Field113` (`Edm.Int64`).
    #[cdms(field = "new_Field113")]
    pub new_field113: Option<i64>,
    /// `new_Field114` (`Edm.Decimal`).
    #[cdms(field = "new_Field114")]
    pub new_field114: Option<Decimal>,
    /// `new_Field115` (`Edm.Double`).
    #[cdms(field = "new_Field115")]
    pub new_field115: Option<f64>,
    /// `new_Field116` (`Edm.DateTime`).
    #[cdms(field = "new_Field116")]
    pub new_field116: Option<DateTime<Utc>>,
    /// `new_Field117` (`Edm.Guid`).
    #[cdms(field = "new_Field117")]
    pub new_field117: Option<Uuid>,
    /// `new_Field118` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field118", money)]
    pub new_field118: Option<Decimal>,
    /// `new_Field119` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field119")]
    pub new_field119: Option<NewWideNewField119>,
    /// `new_Field120` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field120", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field120: Option<Uuid>,
    /// `new_Field121` (`Edm.String`).
    #[cdms(field = "new_Field121")]
    pub new_field121: Option<String>,
    /// `new_Field122` (`Edm.Boolean`).
    #[cdms(field = "new_Field122")]
    pub new_field122: Option<bool>,
    /// `new_Field123` (`Edm.Int32`).
    #[cdms(field = "new_Field123")]
    pub new_field123: Option<i32>,
    /// `new_Field124` (`Edm.Int64`).
    #[cdms(field = "new_Field124")]
    pub new_field124: Option<i64>,
    /// `new_Field125` (`Edm.Decimal`).
    #[cdms(field = "new_Field125")]
    pub new_field125: Option<Decimal>,
    /// `new_Field126` (`Edm.Double`).
    #[cdms(field = "new_Field126")]
    pub new_field126: Option<f64>,
    /// `new_Field127` (`Edm.DateTime`).
    #[cdms(field = "new_Field127")]
    pub new_field127: Option<DateTime<Utc>>,
    /// `new_Field128` (`Edm.Guid`).
    #[cdms(field = "new_Field128")]
    pub new_field128: Option<Uuid>,
    /// `new_Field129` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field129", money)]
    pub new_field129: Option<Decimal>,
    /// `new_Field130` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field130")]
    pub new_field130: Option<NewWideNewField130>,
    /// `new_Field131` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field131", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field131: Option<Uuid>,
    /// `new_Field132` (`Edm.String`).
    #[cdms(field = "new_Field132")]
    pub new_field132: Option<String>,
    /// `new_Field133` (`Edm.Boolean`).
    #[cdms(field = "new_Field133")]
    pub new_field133: Option<bool>,
    /// `new_Field134` (`Edm.Int32`).
    #[cdms(field = "new_Field134")]
    pub new_field134: Option<i32>,
    /// `new_Field135` (`Edm.Int64`).
    #[cdms(field = "new_Field135")]
    pub new_field135: Option<i64>,
    /// `new_Field136` (`Edm.Decimal`).
    #[cdms(field = "new_Field136")]
    pub new_field136: Option<Decimal>,
    /// `new_Field137` (`Edm.Double`).
    #[cdms(field = "new_Field137")]
    pub new_field137: Option<f64>,
    /// `new_Field138` (`Edm.DateTime`).
    #[cdms(field = "new_Field138")]
    pub new_field138: Option<DateTime<Utc>>,
    /// `new_Field139` (`Edm.Guid`).
    #[cdms(field = "new_Field139")]
    pub new_field139: Option<Uuid>,
    /// `new_Field140` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field140", money)]
    pub new_field140: Option<Decimal>,
    /// `new_Field141` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field141")]
    pub new_field141: Option<NewWideNewField141>,
    /// `new_Field142` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field142", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field142: Option<Uuid>,
    /// `new_Field143` (`Edm.String`).
    #[cdms(field = "new_Field143")]
    pub new_field143: Option<String>,
    /// `new_Field144` (`Edm.Boolean`).
    #[cdms(field = "new_Field144")]
    pub new_field144: Option<bool>,
    /// `new_Field145` (`Edm.Int32`).
    #[cdms(field = "new_Field145")]
    pub new_field145: Option<i32>,
    /// `new_Field146` (`Edm.Int64`).
    #[cdms(field = "new_Field146")]
    pub new_field146: Option<i64>,
    /// `new_Field147` (`Edm.Decimal`).
    #[cdms(field = "new_Field147")]
    pub new_field147: Option<Decimal>,
    /// `new_Field148` (`Edm.Double`).
    #[cdms(field = "new_Field148")]
    pub new_field148: Option<f64>,
    /// `new_Field149` (`Edm.DateTime`).
    #[cdms(field = "new_Field149")]
    pub new_field149: Option<DateTime<Utc>>,
    /// `new_Field150` (`Edm.Guid`).
    #[cdms(field = "new_Field150")]
    pub new_field150: Option<Uuid>,
    /// `new_Field151` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field151", money)]
    pub new_field151: Option<Decimal>,
    /// `new_Field152` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field152")]
    pub new_field152: Option<NewWideNewField152>,
    /// `new_Field153` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field153", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field153: Option<Uuid>,
    /// `new_Field154` (`Edm.String`).
    #[cdms(field = "new_Field154")]
    pub new_field154: Option<String>,
    /// `new_Field155` (`Edm.Boolean`).
    #[cdms(field = "new_Field155")]
    pub new_field155: Option<bool>,
    /// `new_Field156` (`Edm.Int32`).
    #[cdms(field = "new_Field156")]
    pub new_field156: Option<i32>,
    /// `new_Field157` (`Edm.Int64`).
    #[cdms(field = "new_Field157")]
    pub new_field157: Option<i64>,
    /// `new_Field158` (`Edm.Decimal`).
    #[cdms(field = "new_Field158")]
    pub new_field158: Option<Decimal>,
    /// `new_Field159` (`Edm.Double`).
    #[cdms(field = "new_Field159")]
    pub new_field159: Option<f64>,
    /// `new_Field160` (`Edm.DateTime`).
    #[cdms(field = "new_Field160")]
    pub new_field160: Option<DateTime<Utc>>,
    /// `new_Field161` (`Edm.Guid`).
    #[cdms(field = "new_Field161")]
    pub new_field161: Option<Uuid>,
    /// `new_Field162` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field162", money)]
    pub new_field162: Option<Decimal>,
    /// `new_Field163` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field163")]
    pub new_field163: Option<NewWideNewField163>,
    /// `new_Field164` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field164", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field164: Option<Uuid>,
    /// `new_Field165` (`Edm.String`).
    #[cdms(field = "new_Field165")]
    pub new_field165: Option<String>,
    /// `new_Field166` (`Edm.Boolean`).
    #[cdms(field = "new_Field166")]
    pub new_field166: Option<bool>,
    /// `new_Field167` (`Edm.Int32`).
    #[cdms(field = "new_Field167")]
    pub new_field167: Option<i32>,
    /// `new_Field168` (`Edm.Int64`).
    #[cdms(field = "new_Field168")]
    pub new_field168: Option<i64>,
    /// `new_Field169` (`Edm.Decimal`).
    #[cdms(field = "new_Field169")]
    pub new_field169: Option<Decimal>,
    /// `new_Field170` (`Edm.Double`).
    #[cdms(field = "new_Field170")]
    pub new_field170: Option<f64>,
    /// `new_Field171` (`Edm.DateTime`).
    #[cdms(field = "new_Field171")]
    pub new_field171: Option<DateTime<Utc>>,
    /// `new_Field172` (`Edm.Guid`).
    #[cdms(field = "new_Field172")]
    pub new_field172: Option<Uuid>,
    /// `new_Field173` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field173", money)]
    pub new_field173: Option<Decimal>,
    /// `new_Field174` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field174")]
    pub new_field174: Option<NewWideNewField174>,
    /// `new_Field175` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field175", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field175: Option<Uuid>,
    /// `new_Field176` (`Edm.String`).
    #[cdms(field = "new_Field176")]
    pub new_field176: Option<String>,
    /// `new_Field177` (`Edm.Boolean`).
    #[cdms(field = "new_Field177")]
    pub new_field177: Option<bool>,
    /// `new_Field178` (`Edm.Int32`).
    #[cdms(field = "new_Field178")]
    pub new_field178: Option<i32>,
    /// `new_Field179` (`Edm.Int64`).
    #[cdms(field = "new_Field179")]
    pub new_field179: Option<i64>,
    /// `new_Field180` (`Edm.Decimal`).
    #[cdms(field = "new_Field180")]
    pub new_field180: Option<Decimal>,
    /// `new_Field181` (`Edm.Double`).
    #[cdms(field = "new_Field181")]
    pub new_field181: Option<f64>,
    /// `new_Field182` (`Edm.DateTime`).
    #[cdms(field = "new_Field182")]
    pub new_field182: Option<DateTime<Utc>>,
    /// `new_Field183` (`Edm.Guid`).
    #[cdms(field = "new_Field183")]
    pub new_field183: Option<Uuid>,
    /// `new_Field184` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field184", money)]
    pub new_field184: Option<Decimal>,
    /// `new_Field185` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field185")]
    pub new_field185: Option<NewWideNewField185>,
    /// `new_Field186` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field186", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field186: Option<Uuid>,
    /// `new_Field187` (`Edm.String`).
    #[cdms(field = "new_Field187")]
    pub new_field187: Option<String>,
    /// `new_Field188` (`Edm.Boolean`).
    #[cdms(field = "new_Field188")]
    pub new_field188: Option<bool>,
    /// `new_Field189` (`Edm.Int32`).
    #[cdms(field = "new_Field189")]
    pub new_field189: Option<i32>,
    /// `new_Field190` (`Edm.Int64`).
    #[cdms(field = "new_Field190")]
    pub new_field190: Option<i64>,
    /// `new_Field191` (`Edm.Decimal`).
    #[cdms(field = "new_Field191")]
    pub new_field191: Option<Decimal>,
    /// `new_Field192` (`Edm.Double`).
    #[cdms(field = "new_Field192")]
    pub new_field192: Option<f64>,
    /// `new_Field193` (`Edm.DateTime`).
    #[cdms(field = "new_Field193")]
    pub new_field193: Option<DateTime<Utc>>,
    /// `new_Field194` (`Edm.Guid`).
    #[cdms(field = "new_Field194")]
    pub new_field194: Option<Uuid>,
    /// `new_Field195` (`Microsoft.Crm.Sdk.Data.Services.Money`).
    #[cdms(field = "new_Field195", money)]
    pub new_field195: Option<Decimal>,
    /// `new_Field196` (`Microsoft.Crm.Sdk.Data.Services.OptionSetValue`). An option set: its codes
    /// and their labels are not in `$metadata`, so the code is kept as is.
    #[cdms(field = "new_Field196")]
    pub new_field196: Option<NewWideNewField196>,
    /// `new_Field197` (`Microsoft.Crm.Sdk.Data.Services.EntityReference`). A lookup whose target
    /// `$metadata` does not name: the raw CDMS id of the target.
    #[cdms(field = "new_Field197", with = ::cdms_runtime::cdms::lookup::raw_id)]
    pub new_field197: Option<Uuid>,
    /// When the record was created in CDMS (`CreatedOn`, `Edm.DateTime`, server-managed; `None`
    /// before it is published).
    #[entity(created)]
    pub created_on: Option<DateTime<Utc>>,
    /// When CDMS last changed the record (`ModifiedOn`, `Edm.DateTime`, server-managed).
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// `VersionNumber` (`Edm.Int64`). Set by CDMS itself: read only, never written.
    #[cdms(field = "VersionNumber", read_only)]
    pub version_number: Option<i64>,
}

/// The `new_Field009` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField009(pub i32);

/// The `new_Field020` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField020(pub i32);

/// The `new_Field031` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField031(pub i32);

/// The `new_Field042` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField042(pub i32);

/// The `new_Field053` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField053(pub i32);

/// The `new_Field064` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField064(pub i32);

/// The `new_Field075` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField075(pub i32);

/// The `new_Field086` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField086(pub i32);

/// The `new_Field097` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField097(pub i32);

/// The `new_Field108` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField108(pub i32);

/// The `new_Field119` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField119(pub i32);

/// The `new_Field130` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField130(pub i32);

/// The `new_Field141` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField141(pub i32);

/// The `new_Field152` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField152(pub i32);

/// The `new_Field163` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField163(pub i32);

/// The `new_Field174` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField174(pub i32);

/// The `new_Field185` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField185(pub i32);

/// The `new_Field196` option set of `new_wide`: the code as CDMS stores it (the labels are not in `$metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub struct NewWideNewField196(pub i32);

/// `{"Value": …}` of a Money property, as sent.
#[derive(Deserialize)]
pub struct PlainMoney {
    #[serde(rename = "Value")]
    pub value: Option<String>,
}

/// `{"Value": …}` of an OptionSetValue property.
#[derive(Deserialize)]
pub struct PlainOption {
    #[serde(rename = "Value")]
    pub value: Option<i64>,
}

/// An EntityReference, as sent.
#[derive(Deserialize)]
pub struct PlainRef {
    #[serde(rename = "Id")]
    pub id: Option<String>,
    #[serde(rename = "LogicalName")]
    pub logical_name: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
}

/// The plain serde struct of [`NewWide`]'s properties.
#[derive(Deserialize)]
pub struct PlainWide {
    #[serde(rename = "new_wideId")]
    id: String,
    #[serde(rename = "ModifiedOn")]
    modified_on: String,
    #[serde(rename = "CreatedOn")]
    created_on: Option<String>,
    #[serde(rename = "VersionNumber")]
    version_number: Option<String>,
    #[serde(rename = "new_Field000")]
    new_field000: Option<String>,
    #[serde(rename = "new_Field001")]
    new_field001: Option<bool>,
    #[serde(rename = "new_Field002")]
    new_field002: Option<i32>,
    #[serde(rename = "new_Field003")]
    new_field003: Option<String>,
    #[serde(rename = "new_Field004")]
    new_field004: Option<String>,
    #[serde(rename = "new_Field005")]
    new_field005: Option<f64>,
    #[serde(rename = "new_Field006")]
    new_field006: Option<String>,
    #[serde(rename = "new_Field007")]
    new_field007: Option<String>,
    #[serde(rename = "new_Field008")]
    new_field008: PlainMoney,
    #[serde(rename = "new_Field009")]
    new_field009: PlainOption,
    #[serde(rename = "new_Field010")]
    new_field010: PlainRef,
    #[serde(rename = "new_Field011")]
    new_field011: Option<String>,
    #[serde(rename = "new_Field012")]
    new_field012: Option<bool>,
    #[serde(rename = "new_Field013")]
    new_field013: Option<i32>,
    #[serde(rename = "new_Field014")]
    new_field014: Option<String>,
    #[serde(rename = "new_Field015")]
    new_field015: Option<String>,
    #[serde(rename = "new_Field016")]
    new_field016: Option<f64>,
    #[serde(rename = "new_Field017")]
    new_field017: Option<String>,
    #[serde(rename = "new_Field018")]
    new_field018: Option<String>,
    #[serde(rename = "new_Field019")]
    new_field019: PlainMoney,
    #[serde(rename = "new_Field020")]
    new_field020: PlainOption,
    #[serde(rename = "new_Field021")]
    new_field021: PlainRef,
    #[serde(rename = "new_Field022")]
    new_field022: Option<String>,
    #[serde(rename = "new_Field023")]
    new_field023: Option<bool>,
    #[serde(rename = "new_Field024")]
    new_field024: Option<i32>,
    #[serde(rename = "new_Field025")]
    new_field025: Option<String>,
    #[serde(rename = "new_Field026")]
    new_field026: Option<String>,
    #[serde(rename = "new_Field027")]
    new_field027: Option<f64>,
    #[serde(rename = "new_Field028")]
    new_field028: Option<String>,
    #[serde(rename = "new_Field029")]
    new_field029: Option<String>,
    #[serde(rename = "new_Field030")]
    new_field030: PlainMoney,
    #[serde(rename = "new_Field031")]
    new_field031: PlainOption,
    #[serde(rename = "new_Field032")]
    new_field032: PlainRef,
    #[serde(rename = "new_Field033")]
    new_field033: Option<String>,
    #[serde(rename = "new_Field034")]
    new_field034: Option<bool>,
    #[serde(rename = "new_Field035")]
    new_field035: Option<i32>,
    #[serde(rename = "new_Field036")]
    new_field036: Option<String>,
    #[serde(rename = "new_Field037")]
    new_field037: Option<String>,
    #[serde(rename = "new_Field038")]
    new_field038: Option<f64>,
    #[serde(rename = "new_Field039")]
    new_field039: Option<String>,
    #[serde(rename = "new_Field040")]
    new_field040: Option<String>,
    #[serde(rename = "new_Field041")]
    new_field041: PlainMoney,
    #[serde(rename = "new_Field042")]
    new_field042: PlainOption,
    #[serde(rename = "new_Field043")]
    new_field043: PlainRef,
    #[serde(rename = "new_Field044")]
    new_field044: Option<String>,
    #[serde(rename = "new_Field045")]
    new_field045: Option<bool>,
    #[serde(rename = "new_Field046")]
    new_field046: Option<i32>,
    #[serde(rename = "new_Field047")]
    new_field047: Option<String>,
    #[serde(rename = "new_Field048")]
    new_field048: Option<String>,
    #[serde(rename = "new_Field049")]
    new_field049: Option<f64>,
    #[serde(rename = "new_Field050")]
    new_field050: Option<String>,
    #[serde(rename = "new_Field051")]
    new_field051: Option<String>,
    #[serde(rename = "new_Field052")]
    new_field052: PlainMoney,
    #[serde(rename = "new_Field053")]
    new_field053: PlainOption,
    #[serde(rename = "new_Field054")]
    new_field054: PlainRef,
    #[serde(rename = "new_Field055")]
    new_field055: Option<String>,
    #[serde(rename = "new_Field056")]
    new_field056: Option<bool>,
    #[serde(rename = "new_Field057")]
    new_field057: Option<i32>,
    #[serde(rename = "new_Field058")]
    new_field058: Option<String>,
    #[serde(rename = "new_Field059")]
    new_field059: Option<String>,
    #[serde(rename = "new_Field060")]
    new_field060: Option<f64>,
    #[serde(rename = "new_Field061")]
    new_field061: Option<String>,
    #[serde(rename = "new_Field062")]
    new_field062: Option<String>,
    #[serde(rename = "new_Field063")]
    new_field063: PlainMoney,
    #[serde(rename = "new_Field064")]
    new_field064: PlainOption,
    #[serde(rename = "new_Field065")]
    new_field065: PlainRef,
    #[serde(rename = "new_Field066")]
    new_field066: Option<String>,
    #[serde(rename = "new_Field067")]
    new_field067: Option<bool>,
    #[serde(rename = "new_Field068")]
    new_field068: Option<i32>,
    #[serde(rename = "new_Field069")]
    new_field069: Option<String>,
    #[serde(rename = "new_Field070")]
    new_field070: Option<String>,
    #[serde(rename = "new_Field071")]
    new_field071: Option<f64>,
    #[serde(rename = "new_Field072")]
    new_field072: Option<String>,
    #[serde(rename = "new_Field073")]
    new_field073: Option<String>,
    #[serde(rename = "new_Field074")]
    new_field074: PlainMoney,
    #[serde(rename = "new_Field075")]
    new_field075: PlainOption,
    #[serde(rename = "new_Field076")]
    new_field076: PlainRef,
    #[serde(rename = "new_Field077")]
    new_field077: Option<String>,
    #[serde(rename = "new_Field078")]
    new_field078: Option<bool>,
    #[serde(rename = "new_Field079")]
    new_field079: Option<i32>,
    #[serde(rename = "new_Field080")]
    new_field080: Option<String>,
    #[serde(rename = "new_Field081")]
    new_field081: Option<String>,
    #[serde(rename = "new_Field082")]
    new_field082: Option<f64>,
    #[serde(rename = "new_Field083")]
    new_field083: Option<String>,
    #[serde(rename = "new_Field084")]
    new_field084: Option<String>,
    #[serde(rename = "new_Field085")]
    new_field085: PlainMoney,
    #[serde(rename = "new_Field086")]
    new_field086: PlainOption,
    #[serde(rename = "new_Field087")]
    new_field087: PlainRef,
    #[serde(rename = "new_Field088")]
    new_field088: Option<String>,
    #[serde(rename = "new_Field089")]
    new_field089: Option<bool>,
    #[serde(rename = "new_Field090")]
    new_field090: Option<i32>,
    #[serde(rename = "new_Field091")]
    new_field091: Option<String>,
    #[serde(rename = "new_Field092")]
    new_field092: Option<String>,
    #[serde(rename = "new_Field093")]
    new_field093: Option<f64>,
    #[serde(rename = "new_Field094")]
    new_field094: Option<String>,
    #[serde(rename = "new_Field095")]
    new_field095: Option<String>,
    #[serde(rename = "new_Field096")]
    new_field096: PlainMoney,
    #[serde(rename = "new_Field097")]
    new_field097: PlainOption,
    #[serde(rename = "new_Field098")]
    new_field098: PlainRef,
    #[serde(rename = "new_Field099")]
    new_field099: Option<String>,
    #[serde(rename = "new_Field100")]
    new_field100: Option<bool>,
    #[serde(rename = "new_Field101")]
    new_field101: Option<i32>,
    #[serde(rename = "new_Field102")]
    new_field102: Option<String>,
    #[serde(rename = "new_Field103")]
    new_field103: Option<String>,
    #[serde(rename = "new_Field104")]
    new_field104: Option<f64>,
    #[serde(rename = "new_Field105")]
    new_field105: Option<String>,
    #[serde(rename = "new_Field106")]
    new_field106: Option<String>,
    #[serde(rename = "new_Field107")]
    new_field107: PlainMoney,
    #[serde(rename = "new_Field108")]
    new_field108: PlainOption,
    #[serde(rename = "new_Field109")]
    new_field109: PlainRef,
    #[serde(rename = "new_Field110")]
    new_field110: Option<String>,
    #[serde(rename = "new_Field111")]
    new_field111: Option<bool>,
    #[serde(rename = "new_Field112")]
    new_field112: Option<i32>,
    #[serde(rename = "new_Field113")]
    new_field113: Option<String>,
    #[serde(rename = "new_Field114")]
    new_field114: Option<String>,
    #[serde(rename = "new_Field115")]
    new_field115: Option<f64>,
    #[serde(rename = "new_Field116")]
    new_field116: Option<String>,
    #[serde(rename = "new_Field117")]
    new_field117: Option<String>,
    #[serde(rename = "new_Field118")]
    new_field118: PlainMoney,
    #[serde(rename = "new_Field119")]
    new_field119: PlainOption,
    #[serde(rename = "new_Field120")]
    new_field120: PlainRef,
    #[serde(rename = "new_Field121")]
    new_field121: Option<String>,
    #[serde(rename = "new_Field122")]
    new_field122: Option<bool>,
    #[serde(rename = "new_Field123")]
    new_field123: Option<i32>,
    #[serde(rename = "new_Field124")]
    new_field124: Option<String>,
    #[serde(rename = "new_Field125")]
    new_field125: Option<String>,
    #[serde(rename = "new_Field126")]
    new_field126: Option<f64>,
    #[serde(rename = "new_Field127")]
    new_field127: Option<String>,
    #[serde(rename = "new_Field128")]
    new_field128: Option<String>,
    #[serde(rename = "new_Field129")]
    new_field129: PlainMoney,
    #[serde(rename = "new_Field130")]
    new_field130: PlainOption,
    #[serde(rename = "new_Field131")]
    new_field131: PlainRef,
    #[serde(rename = "new_Field132")]
    new_field132: Option<String>,
    #[serde(rename = "new_Field133")]
    new_field133: Option<bool>,
    #[serde(rename = "new_Field134")]
    new_field134: Option<i32>,
    #[serde(rename = "new_Field135")]
    new_field135: Option<String>,
    #[serde(rename = "new_Field136")]
    new_field136: Option<String>,
    #[serde(rename = "new_Field137")]
    new_field137: Option<f64>,
    #[serde(rename = "new_Field138")]
    new_field138: Option<String>,
    #[serde(rename = "new_Field139")]
    new_field139: Option<String>,
    #[serde(rename = "new_Field140")]
    new_field140: PlainMoney,
    #[serde(rename = "new_Field141")]
    new_field141: PlainOption,
    #[serde(rename = "new_Field142")]
    new_field142: PlainRef,
    #[serde(rename = "new_Field143")]
    new_field143: Option<String>,
    #[serde(rename = "new_Field144")]
    new_field144: Option<bool>,
    #[serde(rename = "new_Field145")]
    new_field145: Option<i32>,
    #[serde(rename = "new_Field146")]
    new_field146: Option<String>,
    #[serde(rename = "new_Field147")]
    new_field147: Option<String>,
    #[serde(rename = "new_Field148")]
    new_field148: Option<f64>,
    #[serde(rename = "new_Field149")]
    new_field149: Option<String>,
    #[serde(rename = "new_Field150")]
    new_field150: Option<String>,
    #[serde(rename = "new_Field151")]
    new_field151: PlainMoney,
    #[serde(rename = "new_Field152")]
    new_field152: PlainOption,
    #[serde(rename = "new_Field153")]
    new_field153: PlainRef,
    #[serde(rename = "new_Field154")]
    new_field154: Option<String>,
    #[serde(rename = "new_Field155")]
    new_field155: Option<bool>,
    #[serde(rename = "new_Field156")]
    new_field156: Option<i32>,
    #[serde(rename = "new_Field157")]
    new_field157: Option<String>,
    #[serde(rename = "new_Field158")]
    new_field158: Option<String>,
    #[serde(rename = "new_Field159")]
    new_field159: Option<f64>,
    #[serde(rename = "new_Field160")]
    new_field160: Option<String>,
    #[serde(rename = "new_Field161")]
    new_field161: Option<String>,
    #[serde(rename = "new_Field162")]
    new_field162: PlainMoney,
    #[serde(rename = "new_Field163")]
    new_field163: PlainOption,
    #[serde(rename = "new_Field164")]
    new_field164: PlainRef,
    #[serde(rename = "new_Field165")]
    new_field165: Option<String>,
    #[serde(rename = "new_Field166")]
    new_field166: Option<bool>,
    #[serde(rename = "new_Field167")]
    new_field167: Option<i32>,
    #[serde(rename = "new_Field168")]
    new_field168: Option<String>,
    #[serde(rename = "new_Field169")]
    new_field169: Option<String>,
    #[serde(rename = "new_Field170")]
    new_field170: Option<f64>,
    #[serde(rename = "new_Field171")]
    new_field171: Option<String>,
    #[serde(rename = "new_Field172")]
    new_field172: Option<String>,
    #[serde(rename = "new_Field173")]
    new_field173: PlainMoney,
    #[serde(rename = "new_Field174")]
    new_field174: PlainOption,
    #[serde(rename = "new_Field175")]
    new_field175: PlainRef,
    #[serde(rename = "new_Field176")]
    new_field176: Option<String>,
    #[serde(rename = "new_Field177")]
    new_field177: Option<bool>,
    #[serde(rename = "new_Field178")]
    new_field178: Option<i32>,
    #[serde(rename = "new_Field179")]
    new_field179: Option<String>,
    #[serde(rename = "new_Field180")]
    new_field180: Option<String>,
    #[serde(rename = "new_Field181")]
    new_field181: Option<f64>,
    #[serde(rename = "new_Field182")]
    new_field182: Option<String>,
    #[serde(rename = "new_Field183")]
    new_field183: Option<String>,
    #[serde(rename = "new_Field184")]
    new_field184: PlainMoney,
    #[serde(rename = "new_Field185")]
    new_field185: PlainOption,
    #[serde(rename = "new_Field186")]
    new_field186: PlainRef,
    #[serde(rename = "new_Field187")]
    new_field187: Option<String>,
    #[serde(rename = "new_Field188")]
    new_field188: Option<bool>,
    #[serde(rename = "new_Field189")]
    new_field189: Option<i32>,
    #[serde(rename = "new_Field190")]
    new_field190: Option<String>,
    #[serde(rename = "new_Field191")]
    new_field191: Option<String>,
    #[serde(rename = "new_Field192")]
    new_field192: Option<f64>,
    #[serde(rename = "new_Field193")]
    new_field193: Option<String>,
    #[serde(rename = "new_Field194")]
    new_field194: Option<String>,
    #[serde(rename = "new_Field195")]
    new_field195: PlainMoney,
    #[serde(rename = "new_Field196")]
    new_field196: PlainOption,
    #[serde(rename = "new_Field197")]
    new_field197: PlainRef,
}
