//! People: CDMS `Contact`.

use cdms_runtime::{CdmsSynced, Entity, OptionSet, Ref};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::organisation::Organisation;

/// A person, usually working for an [`Organisation`] (CDMS `Contact`).
#[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
#[cdms(service = "Contact")]
pub struct Contact {
    /// The local primary key (0 until saved).
    #[entity(primary_key)]
    pub id: i64,
    /// The CDMS GUID (`None` until the record exists in CDMS).
    #[entity(unique)]
    #[cdms(field = "ContactId", id)]
    pub cdms_id: Option<Uuid>,
    /// When CDMS last changed the record (`ModifiedOn`).
    #[entity(modified)]
    pub modified_on: DateTime<Utc>,
    /// When the record was created in CDMS (`CreatedOn`; `None` before it is published).
    #[entity(created)]
    pub created_on: Option<DateTime<Utc>>,
    /// Given name.
    #[cdms(field = "FirstName")]
    pub first_name: Option<String>,
    /// Family name. CRM requires it only on its forms (imports and integrations leave it empty),
    /// and stores a blank as null: that reads as `""`.
    #[cdms(field = "LastName", null = default)]
    pub last_name: String,
    /// Main e-mail address.
    #[cdms(field = "EMailAddress1")]
    pub email: Option<String>,
    /// Main telephone number.
    #[cdms(field = "Telephone1")]
    pub telephone: Option<String>,
    /// Job title.
    #[cdms(field = "JobTitle")]
    pub job_title: Option<String>,
    /// Date of birth (a CDMS DateTime at midnight UTC).
    #[cdms(field = "BirthDate")]
    pub birth_date: Option<NaiveDate>,
    /// Whether the contact must not be phoned.
    #[cdms(field = "DoNotPhone")]
    pub do_not_phone: bool,
    /// Annual income (CDMS Money).
    #[cdms(field = "AnnualIncome", money)]
    pub annual_income: Option<Decimal>,
    /// The organisation the contact works for (`ParentCustomerId`, a lookup to `account`; CRM's
    /// relationship `contact_customer_accounts`, the navigation property `$expand` takes).
    #[cdms(field = "ParentCustomerId", relationship = "contact_customer_accounts")]
    pub organisation: Option<Ref<Organisation>>,
    /// Gender (CRM's `GenderCode` option set).
    #[cdms(field = "GenderCode")]
    pub gender: Option<Gender>,
}

/// CRM's standard `GenderCode` option set. Any other code is a decode error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
pub enum Gender {
    /// Code 1.
    Male = 1,
    /// Code 2.
    Female = 2,
}
