//! The permission catalog and the built-in role templates (DESIGN.md, "Built-in roles and
//! permissions"). Permissions are plain strings `area.resource.action` so that the log, the API
//! and the read models all speak the same words.

use crate::DomainError;

pub const BILLING_PLAN_MANAGE: &str = "billing.plan.manage";
pub const BILLING_INVOICES_VIEW: &str = "billing.invoices.view";
pub const DASHBOARD_KPIS_VIEW: &str = "dashboard.kpis.view";
pub const DOMAINS_PURCHASE: &str = "domains.purchase";
pub const DOMAINS_TRANSFER_TOKEN: &str = "domains.transfer_token";
pub const MEMBERS_USERS_MANAGE: &str = "members.users.manage";
pub const MEMBERS_ROLES_ASSIGN: &str = "members.roles.assign";
pub const SETTINGS_SITE_MANAGE: &str = "settings.site.manage";
pub const SETTINGS_API_KEYS_MANAGE: &str = "settings.api_keys.manage";
pub const CUSTOMERS_VIEW: &str = "customers.view";
pub const CUSTOMERS_CREATE: &str = "customers.create";
pub const ORDERS_VIEW: &str = "orders.view";
pub const INVOICES_CUSTOMER_VIEW: &str = "invoices.customer.view";
pub const REPORTS_VIEW: &str = "reports.view";
pub const PARTNERS_VIEW: &str = "partners.view";
pub const COURSES_VIEW: &str = "courses.view";
pub const CONTENT_PAGES_EDIT: &str = "content.pages.edit";
pub const CONTENT_POSTS_EDIT: &str = "content.posts.edit";
pub const SITE_FEATURES_USE: &str = "site.features.use";
pub const AGENDA_BOOKABLE: &str = "agenda.bookable";
pub const SUPPORT_REQUEST: &str = "support.request";
pub const CHANNELS_READ: &str = "channels.read";

/// What the owner alone may do: money, the dashboard, domains and who is on the team.
const OWNER_ONLY: &[&str] = &[
    BILLING_PLAN_MANAGE,
    BILLING_INVOICES_VIEW,
    DASHBOARD_KPIS_VIEW,
    DOMAINS_PURCHASE,
    DOMAINS_TRANSFER_TOKEN,
    MEMBERS_USERS_MANAGE,
    MEMBERS_ROLES_ASSIGN,
];

/// Settings and the site's customers and orders: owners and administrators.
const BACK_OFFICE: &[&str] = &[
    SETTINGS_SITE_MANAGE,
    SETTINGS_API_KEYS_MANAGE,
    CUSTOMERS_VIEW,
    CUSTOMERS_CREATE,
    ORDERS_VIEW,
    INVOICES_CUSTOMER_VIEW,
    REPORTS_VIEW,
    PARTNERS_VIEW,
    COURSES_VIEW,
];

/// Content work, shared by everyone with back-office access.
const CONTENT: &[&str] = &[
    CONTENT_PAGES_EDIT,
    CONTENT_POSTS_EDIT,
    SITE_FEATURES_USE,
    AGENDA_BOOKABLE,
    SUPPORT_REQUEST,
    CHANNELS_READ,
];

/// Every permission a role may contain.
pub const CATALOG: &[&str] = &[
    BILLING_PLAN_MANAGE,
    BILLING_INVOICES_VIEW,
    DASHBOARD_KPIS_VIEW,
    DOMAINS_PURCHASE,
    DOMAINS_TRANSFER_TOKEN,
    MEMBERS_USERS_MANAGE,
    MEMBERS_ROLES_ASSIGN,
    SETTINGS_SITE_MANAGE,
    SETTINGS_API_KEYS_MANAGE,
    CUSTOMERS_VIEW,
    CUSTOMERS_CREATE,
    ORDERS_VIEW,
    INVOICES_CUSTOMER_VIEW,
    REPORTS_VIEW,
    PARTNERS_VIEW,
    COURSES_VIEW,
    CONTENT_PAGES_EDIT,
    CONTENT_POSTS_EDIT,
    SITE_FEATURES_USE,
    AGENDA_BOOKABLE,
    SUPPORT_REQUEST,
    CHANNELS_READ,
];

/// A built-in role: a fixed permission set every organization has without defining it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleTemplate {
    pub name: &'static str,
    /// The permissions, each from [`CATALOG`]. Several slices because the table is built from
    /// tiers; use [`RoleTemplate::permissions`] to iterate.
    tiers: &'static [&'static [&'static str]],
    /// Whether a member holding this role counts against the organization's seat limit.
    pub occupies_seat: bool,
    /// Whether the role opens the back office at all (customers and guests stay outside).
    pub back_office: bool,
}

impl RoleTemplate {
    /// The role's permissions, each a [`CATALOG`] entry.
    pub fn permissions(&self) -> impl Iterator<Item = &'static str> + use<> {
        let tiers: &'static [&'static [&'static str]] = self.tiers;
        tiers.iter().flat_map(|tier| tier.iter().copied())
    }

    pub fn allows(&self, permission: &str) -> bool {
        self.permissions().any(|p| p == permission)
    }
}

pub const OWNER: &str = "owner";
pub const ADMINISTRATOR: &str = "administrator";
pub const FREELANCER: &str = "freelancer";
pub const CUSTOMER: &str = "customer";
pub const MEMBER: &str = "member";
pub const GUEST: &str = "guest";

/// The built-in roles, in the order of the design table.
pub const BUILTIN_ROLES: &[RoleTemplate] = &[
    RoleTemplate {
        name: OWNER,
        tiers: &[OWNER_ONLY, BACK_OFFICE, CONTENT],
        occupies_seat: true,
        back_office: true,
    },
    RoleTemplate {
        name: ADMINISTRATOR,
        tiers: &[BACK_OFFICE, CONTENT],
        occupies_seat: true,
        back_office: true,
    },
    RoleTemplate {
        name: FREELANCER,
        tiers: &[CONTENT],
        occupies_seat: true,
        back_office: true,
    },
    // Customers are the site's clients, not its staff: no back office and no seat.
    RoleTemplate {
        name: CUSTOMER,
        tiers: &[],
        occupies_seat: false,
        back_office: false,
    },
    RoleTemplate {
        name: MEMBER,
        tiers: &[CONTENT],
        occupies_seat: true,
        back_office: true,
    },
    // A guest reads channels; it is meant to be granted with a scope such as `channel:42`.
    RoleTemplate {
        name: GUEST,
        tiers: &[&[CHANNELS_READ]],
        occupies_seat: false,
        back_office: false,
    },
];

/// The built-in role called `name`, if there is one.
pub fn builtin_role(name: &str) -> Option<&'static RoleTemplate> {
    BUILTIN_ROLES.iter().find(|role| role.name == name)
}

/// Whether `permission` is privileged: beyond what the built-in `member` role holds (billing,
/// back-office users and roles, settings and API keys, domains, the business's customers,
/// orders, reports). An access review lists who still holds such permissions.
pub fn is_privileged(permission: &str) -> bool {
    builtin_role(MEMBER).is_none_or(|member| !member.allows(permission))
}

/// Checks the shape `area.resource.action`: two or three dot-separated segments of `[a-z_]`.
/// Two segments exist in the catalog too (`customers.view`).
pub fn validate_permission_shape(permission: &str) -> Result<(), DomainError> {
    let segments: Vec<&str> = permission.split('.').collect();
    let segment_ok =
        |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    if (2..=3).contains(&segments.len()) && segments.iter().all(segment_ok) {
        return Ok(());
    }
    Err(DomainError::invalid(
        "permissions",
        format!("{permission:?} is not of the form area.resource.action"),
    ))
}

/// Checks the shape and that the permission is in the [`CATALOG`], as custom roles require.
pub fn validate_permission(permission: &str) -> Result<(), DomainError> {
    validate_permission_shape(permission)?;
    if CATALOG.contains(&permission) {
        return Ok(());
    }
    Err(DomainError::UnknownPermission {
        permission: permission.to_owned(),
    })
}
