//! A faithful Dynamics CRM 2011 OData endpoint.
