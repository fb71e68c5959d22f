//! Who is calling: the claims of a verified access token, and what they may do.

use serde::{Deserialize, Serialize};

/// A user level ("authority") as SailPoint names them. Tokens carry these in `authorities`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Authority {
    /// Tenant administrator: every operation.
    OrgAdmin,
    /// Service-desk administrator: service-desk integrations and their status checks.
    ServiceDeskAdmin,
    /// Helpdesk.
    Helpdesk,
    /// Certification administrator.
    CertAdmin,
    /// Report administrator.
    ReportAdmin,
    /// Role administrator.
    RoleAdmin,
    /// Role sub-administrator.
    RoleSubadmin,
    /// Source administrator.
    SourceAdmin,
    /// Source sub-administrator.
    SourceSubadmin,
    /// An ordinary person.
    User,
    /// A client-credentials API client with no user context.
    Api,
}

impl Authority {
    /// SailPoint's spelling, as in `x-sailpoint-userLevels` and the JWT `authorities` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgAdmin => "ORG_ADMIN",
            Self::ServiceDeskAdmin => "SERVICE_DESK_ADMIN",
            Self::Helpdesk => "HELPDESK",
            Self::CertAdmin => "CERT_ADMIN",
            Self::ReportAdmin => "REPORT_ADMIN",
            Self::RoleAdmin => "ROLE_ADMIN",
            Self::RoleSubadmin => "ROLE_SUBADMIN",
            Self::SourceAdmin => "SOURCE_ADMIN",
            Self::SourceSubadmin => "SOURCE_SUBADMIN",
            Self::User => "USER",
            Self::Api => "API",
        }
    }

    /// Reads SailPoint's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

const ALL: [Authority; 11] = [
    Authority::OrgAdmin,
    Authority::ServiceDeskAdmin,
    Authority::Helpdesk,
    Authority::CertAdmin,
    Authority::ReportAdmin,
    Authority::RoleAdmin,
    Authority::RoleSubadmin,
    Authority::SourceAdmin,
    Authority::SourceSubadmin,
    Authority::User,
    Authority::Api,
];

/// The verified caller of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The tenant (org) every read and write is confined to.
    pub tenant_id: String,
    /// The OAuth client or personal access token the token was issued to.
    pub client_id: String,
    /// The person the token acts as; `None` for a plain API client.
    pub identity_id: Option<String>,
    /// The person's user name, when there is one.
    pub user_name: Option<String>,
    /// User levels.
    pub authorities: Vec<Authority>,
    /// Granted scopes (`sp:scopes:all`, `idn:…`, `sp:…`).
    pub scopes: Vec<String>,
}

impl Principal {
    /// True when the caller holds `a`.
    pub fn has(&self, a: Authority) -> bool {
        self.authorities.contains(&a)
    }

    /// True for a tenant administrator.
    pub fn is_org_admin(&self) -> bool {
        self.has(Authority::OrgAdmin)
    }

    /// True when any one of `scopes` is granted, or `sp:scopes:all` is.
    pub fn has_any_scope(&self, scopes: &[&str]) -> bool {
        self.scopes
            .iter()
            .any(|s| s == "sp:scopes:all" || scopes.contains(&s.as_str()))
    }
}
