//! The service desks Gatehouse provisions to, and what an integration of each needs.
//!
//! Each type is served by `getServiceDeskIntegrationTypes`, its template by
//! `getServiceDeskIntegrationTemplate`, and integrations of the type are validated against it.
//! The attribute names here are the contract with the provisioning jobs that open the tickets.

use super::{Attribute, IntegrationType, Kind, Need};

const QUEUED_COMMITTED_FAILED: &str =
    "Maps the desk's ticket statuses to SailPoint's: each value is Queued (still open), Committed \
     (done: the change was made) or Failed (refused or cancelled). At least one status must map to \
     Committed. Statuses not listed count as Queued.";

/// The OAuth 2.0 `authType` values: each needs a client id and secret (and, but for ServiceNow,
/// whose token endpoint is known, a token URL). The same attribute names serve every type:
/// `username`, `password`, `clientId`, `clientSecret`, `refreshToken`, `tokenUrl`.
const OAUTH2: &[&str] = &[
    "oauth2_client_credentials",
    "oauth2_password",
    "oauth2_refresh_token",
];

/// ServiceNow through its Table API (`POST /api/now/table/{ticketType}`).
const SERVICENOW: IntegrationType = IntegrationType {
    name: "ServiceNow Service Desk",
    type_name: "ServiceNowSDIM",
    aliases: &["ServiceNow"],
    script_name: "servicenow",
    description: "Opens a record in a ServiceNow table (Table API) for each manual change and polls its state.",
    attributes: &[
        Attribute {
            name: "url",
            kind: Kind::Url,
            need: Need::Required,
            default: None,
            description: "The instance URL, e.g. https://acme.service-now.com.",
        },
        Attribute {
            name: "authType",
            kind: Kind::Choice(&[
                "basic",
                "oauth2_client_credentials",
                "oauth2_password",
                "oauth2_refresh_token",
            ]),
            need: Need::Required,
            default: Some(r#""basic""#),
            description: "basic (user name and password), oauth2_client_credentials (OAuth 2.0 client-credentials grant), oauth2_password (OAuth 2.0 password grant) or oauth2_refresh_token (OAuth 2.0 refresh-token grant).",
        },
        Attribute {
            name: "username",
            kind: Kind::Account,
            need: Need::When("authType", &["basic", "oauth2_password"]),
            default: None,
            description: "The integration user's name.",
        },
        Attribute {
            name: "password",
            kind: Kind::Secret,
            need: Need::When("authType", &["basic", "oauth2_password"]),
            default: None,
            description: "The integration user's password. Stored encrypted, never returned.",
        },
        Attribute {
            name: "tokenUrl",
            kind: Kind::Url,
            need: Need::Optional,
            default: None,
            description: "OAuth 2.0 token endpoint; {url}/oauth_token.do when absent.",
        },
        Attribute {
            name: "clientId",
            kind: Kind::Account,
            need: Need::When("authType", OAUTH2),
            default: None,
            description: "OAuth 2.0 client id (System OAuth > Application Registry).",
        },
        Attribute {
            name: "clientSecret",
            kind: Kind::Secret,
            need: Need::When("authType", OAUTH2),
            default: None,
            description: "OAuth 2.0 client secret. Stored encrypted, never returned.",
        },
        Attribute {
            name: "refreshToken",
            kind: Kind::Secret,
            need: Need::When("authType", &["oauth2_refresh_token"]),
            default: None,
            description: "OAuth 2.0 refresh token. Stored encrypted, never returned.",
        },
        Attribute {
            name: "ticketType",
            kind: Kind::Choice(&["incident", "sc_request", "change_request"]),
            need: Need::Required,
            default: Some(r#""incident""#),
            description: "The table tickets are created in.",
        },
        Attribute {
            name: "assignmentGroup",
            kind: Kind::Text,
            need: Need::Optional,
            default: None,
            description: "The assignment group (name or sys_id) set on new tickets.",
        },
        Attribute {
            name: "statusField",
            kind: Kind::Text,
            need: Need::Required,
            default: Some(r#""state""#),
            description: "The field of the record that holds its status.",
        },
        Attribute {
            name: "statusMap",
            kind: Kind::StatusMap,
            need: Need::Required,
            default: Some(
                r#"{"1":"Queued","2":"Queued","3":"Queued","6":"Committed","7":"Committed","8":"Failed"}"#,
            ),
            description: QUEUED_COMMITTED_FAILED,
        },
    ],
};

/// Jira (Cloud or Data Center) through its REST API v3 (`POST /rest/api/3/issue`).
const JIRA: IntegrationType = IntegrationType {
    name: "Jira Service Desk",
    type_name: "JiraSDIM",
    aliases: &[],
    script_name: "jira",
    description: "Opens a Jira issue (REST API v3) for each manual change, labelled with its correlation id, and polls its status.",
    attributes: &[
        Attribute {
            name: "url",
            kind: Kind::Url,
            need: Need::Required,
            default: None,
            description: "The site URL, e.g. https://acme.atlassian.net.",
        },
        Attribute {
            name: "authType",
            kind: Kind::Choice(&["basic", "bearer", "oauth2_client_credentials"]),
            need: Need::Required,
            default: Some(r#""basic""#),
            description: "basic (Cloud: account e-mail and API token), bearer (Data Center: personal access token) or oauth2_client_credentials (Cloud service account: OAuth 2.0 client-credentials grant).",
        },
        Attribute {
            name: "username",
            kind: Kind::Account,
            need: Need::When("authType", &["basic"]),
            default: None,
            description: "The account e-mail (Cloud) or user name.",
        },
        Attribute {
            name: "apiToken",
            kind: Kind::Secret,
            need: Need::When("authType", &["basic", "bearer"]),
            default: None,
            description: "The API token (Cloud) or personal access token (Data Center). Stored encrypted, never returned.",
        },
        Attribute {
            name: "tokenUrl",
            kind: Kind::Url,
            need: Need::When("authType", &["oauth2_client_credentials"]),
            default: None,
            description: "The OAuth 2.0 token endpoint, e.g. https://auth.atlassian.com/oauth/token.",
        },
        Attribute {
            name: "clientId",
            kind: Kind::Account,
            need: Need::When("authType", &["oauth2_client_credentials"]),
            default: None,
            description: "The OAuth 2.0 client id of the service account.",
        },
        Attribute {
            name: "clientSecret",
            kind: Kind::Secret,
            need: Need::When("authType", &["oauth2_client_credentials"]),
            default: None,
            description: "The OAuth 2.0 client secret. Stored encrypted, never returned.",
        },
        Attribute {
            name: "projectKey",
            kind: Kind::Text,
            need: Need::Required,
            default: None,
            description: "The key of the project issues are created in, e.g. IAM.",
        },
        Attribute {
            name: "issueType",
            kind: Kind::Text,
            need: Need::Required,
            default: Some(r#""Task""#),
            description: "The issue type of new issues.",
        },
        Attribute {
            name: "statusMap",
            kind: Kind::StatusMap,
            need: Need::Required,
            default: Some(
                r#"{"To Do":"Queued","In Progress":"Queued","Done":"Committed","Declined":"Failed"}"#,
            ),
            description: QUEUED_COMMITTED_FAILED,
        },
    ],
};

/// Any REST service desk, described by request and response mappings.
const GENERIC: IntegrationType = IntegrationType {
    name: "Generic Service Desk",
    type_name: "Web Service SDIM",
    aliases: &[],
    script_name: "generic",
    description: "Calls any REST service desk: the create and status requests and where their answers hold the ticket id and status are mappings.",
    attributes: &[
        Attribute {
            name: "url",
            kind: Kind::Url,
            need: Need::Required,
            default: None,
            description: "The base URL; request paths are relative to it.",
        },
        Attribute {
            name: "authType",
            kind: Kind::Choice(&[
                "none",
                "basic",
                "bearer",
                "apiKey",
                "oauth2_client_credentials",
                "oauth2_password",
                "oauth2_refresh_token",
            ]),
            need: Need::Required,
            default: Some(r#""basic""#),
            description: "none, basic (user name and password), bearer (a static token), apiKey (a key sent in a header), oauth2_client_credentials, oauth2_password or oauth2_refresh_token (the OAuth 2.0 grants).",
        },
        Attribute {
            name: "username",
            kind: Kind::Account,
            need: Need::When("authType", &["basic", "oauth2_password"]),
            default: None,
            description: "The user name for basic authentication or the OAuth 2.0 password grant.",
        },
        Attribute {
            name: "password",
            kind: Kind::Secret,
            need: Need::When("authType", &["basic", "oauth2_password"]),
            default: None,
            description: "The password for basic authentication or the OAuth 2.0 password grant. Stored encrypted, never returned.",
        },
        Attribute {
            name: "token",
            kind: Kind::Secret,
            need: Need::When("authType", &["bearer"]),
            default: None,
            description: "The bearer token. Stored encrypted, never returned.",
        },
        Attribute {
            name: "apiKeyHeader",
            kind: Kind::Text,
            need: Need::When("authType", &["apiKey"]),
            default: Some(r#""X-API-Key""#),
            description: "The header that carries the API key.",
        },
        Attribute {
            name: "apiKey",
            kind: Kind::Secret,
            need: Need::When("authType", &["apiKey"]),
            default: None,
            description: "The API key. Stored encrypted, never returned.",
        },
        Attribute {
            name: "tokenUrl",
            kind: Kind::Url,
            need: Need::When("authType", OAUTH2),
            default: None,
            description: "The OAuth 2.0 token endpoint.",
        },
        Attribute {
            name: "clientId",
            kind: Kind::Account,
            need: Need::When("authType", OAUTH2),
            default: None,
            description: "The OAuth 2.0 client id.",
        },
        Attribute {
            name: "clientSecret",
            kind: Kind::Secret,
            need: Need::When("authType", OAUTH2),
            default: None,
            description: "The OAuth 2.0 client secret. Stored encrypted, never returned.",
        },
        Attribute {
            name: "refreshToken",
            kind: Kind::Secret,
            need: Need::When("authType", &["oauth2_refresh_token"]),
            default: None,
            description: "The OAuth 2.0 refresh token. Stored encrypted, never returned.",
        },
        Attribute {
            name: "headers",
            kind: Kind::Headers,
            need: Need::Optional,
            default: None,
            description: "Extra headers sent with every request. Values of headers whose names look like credentials (Authorization, *-Token, *-Key…) are stored encrypted and never returned.",
        },
        Attribute {
            name: "createRequest",
            kind: Kind::Request,
            need: Need::Required,
            default: Some(
                r#"{"method":"POST","path":"/tickets","body":{"summary":"${summary}","description":"${description}","requester":"${requesterName}","correlationId":"${correlationId}"}}"#,
            ),
            description: "How a ticket is opened: method, path and JSON body; strings in the body may hold the placeholders ${summary}, ${description}, ${requesterName}, ${identityName}, ${sourceName}, ${itemName}, ${itemType}, ${operation}, ${requestId} and ${correlationId}. The request also carries the correlation id as the Idempotency-Key header.",
        },
        Attribute {
            name: "lookupRequest",
            kind: Kind::Request,
            need: Need::Optional,
            default: Some(r#"{"method":"GET","path":"/tickets?correlationId=${correlationId}"}"#),
            description: "How a ticket is found by its correlation id before a create is retried (so a lost answer never opens a second ticket); the path may hold ${correlationId}. Without it, retries rely on the Idempotency-Key header.",
        },
        Attribute {
            name: "lookupIdPointer",
            kind: Kind::Pointer,
            need: Need::Optional,
            default: Some(r#""/items/0/id""#),
            description: "JSON Pointer to the found ticket's id in the lookup response.",
        },
        Attribute {
            name: "ticketIdPointer",
            kind: Kind::Pointer,
            need: Need::Required,
            default: Some(r#""/id""#),
            description: "JSON Pointer to the ticket id in the create response.",
        },
        Attribute {
            name: "statusRequest",
            kind: Kind::Request,
            need: Need::Required,
            default: Some(r#"{"method":"GET","path":"/tickets/${ticketId}"}"#),
            description: "How a ticket's status is read; the path may hold ${ticketId}.",
        },
        Attribute {
            name: "statusPointer",
            kind: Kind::Pointer,
            need: Need::Required,
            default: Some(r#""/status""#),
            description: "JSON Pointer to the status in the status response.",
        },
        Attribute {
            name: "statusMap",
            kind: Kind::StatusMap,
            need: Need::Required,
            default: Some(
                r#"{"open":"Queued","in_progress":"Queued","resolved":"Committed","closed":"Committed","rejected":"Failed"}"#,
            ),
            description: QUEUED_COMMITTED_FAILED,
        },
    ],
};

/// Every type, in the order `getServiceDeskIntegrationTypes` lists them.
pub(super) const TYPES: &[IntegrationType] = &[SERVICENOW, JIRA, GENERIC];
