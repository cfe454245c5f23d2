use std::collections::BTreeSet;

use roster_domain::permissions::{
    BUILTIN_ROLES, CATALOG, builtin_role, validate_permission, validate_permission_shape,
};

fn permissions_of(role: &str) -> BTreeSet<&'static str> {
    builtin_role(role).unwrap().permissions().collect()
}

fn set(permissions: &[&'static str]) -> BTreeSet<&'static str> {
    permissions.iter().copied().collect()
}

const CONTENT: &[&str] = &[
    "content.pages.edit",
    "content.posts.edit",
    "site.features.use",
    "agenda.bookable",
    "support.request",
    "channels.read",
];

#[test]
fn the_catalog_is_well_formed_and_has_no_duplicates() {
    assert_eq!(set(CATALOG).len(), CATALOG.len());
    for permission in CATALOG {
        validate_permission(permission).unwrap();
    }
}

#[test]
fn every_built_in_permission_is_in_the_catalog() {
    for role in BUILTIN_ROLES {
        for permission in role.permissions() {
            assert!(
                CATALOG.contains(&permission),
                "{} holds {permission}",
                role.name
            );
        }
    }
}

#[test]
fn the_owner_holds_the_whole_catalog() {
    assert_eq!(permissions_of("owner"), set(CATALOG));
}

#[test]
fn an_administrator_manages_settings_customers_and_content_but_not_billing_or_users() {
    let mut expected = set(&[
        "settings.site.manage",
        "settings.api_keys.manage",
        "customers.view",
        "customers.create",
        "orders.view",
        "invoices.customer.view",
        "reports.view",
        "partners.view",
        "courses.view",
    ]);
    expected.extend(CONTENT);
    assert_eq!(permissions_of("administrator"), expected);
}

#[test]
fn freelancers_and_members_do_content_only() {
    assert_eq!(permissions_of("freelancer"), set(CONTENT));
    assert_eq!(permissions_of("member"), set(CONTENT));
}

#[test]
fn a_customer_holds_no_permission() {
    assert!(permissions_of("customer").is_empty());
}

#[test]
fn a_guest_only_reads_channels() {
    assert_eq!(permissions_of("guest"), set(&["channels.read"]));
}

#[test]
fn staff_roles_take_seats_and_client_roles_do_not() {
    let seats: Vec<(&str, bool)> = BUILTIN_ROLES
        .iter()
        .map(|r| (r.name, r.occupies_seat))
        .collect();
    assert_eq!(
        seats,
        vec![
            ("owner", true),
            ("administrator", true),
            ("freelancer", true),
            ("customer", false),
            ("member", true),
            ("guest", false),
        ]
    );
}

#[test]
fn customers_and_guests_have_no_back_office_access() {
    let outside: Vec<&str> = BUILTIN_ROLES
        .iter()
        .filter(|r| !r.back_office)
        .map(|r| r.name)
        .collect();
    assert_eq!(outside, vec!["customer", "guest"]);
}

#[test]
fn there_is_no_built_in_role_by_another_name() {
    assert!(builtin_role("wizard").is_none());
    assert!(builtin_role("Owner").is_none());
}

#[test]
fn a_permission_has_two_or_three_lowercase_segments() {
    for ok in [
        "customers.view",
        "billing.plan.manage",
        "settings.api_keys.manage",
        "a.b",
    ] {
        validate_permission_shape(ok).unwrap();
    }
    for bad in [
        "",
        "billing",
        "a.b.c.d",
        "Billing.plan.manage",
        "billing..manage",
        "billing.plan.",
        "a.b1",
    ] {
        assert_eq!(
            validate_permission_shape(bad).unwrap_err().code(),
            "invalid-input",
            "{bad}"
        );
    }
}

#[test]
fn a_well_formed_permission_outside_the_catalog_is_unknown() {
    assert_eq!(
        validate_permission("billing.plan.steal")
            .unwrap_err()
            .code(),
        "unknown-permission"
    );
}

#[test]
fn privileged_permissions_are_those_beyond_the_member_role() {
    use roster_domain::permissions::is_privileged;
    for permission in [
        "billing.plan.manage",
        "members.roles.assign",
        "settings.api_keys.manage",
        "customers.view",
        "reports.view",
    ] {
        assert!(is_privileged(permission), "{permission}");
    }
    for permission in ["content.pages.edit", "channels.read", "support.request"] {
        assert!(!is_privileged(permission), "{permission}");
    }
}

#[test]
fn an_access_review_sees_owners_and_administrators_but_not_plain_members() {
    use roster_domain::effective::privileged_roles;
    let state = crate::support::given(crate::fixtures::staffed(5)).state();
    let now = crate::support::now();
    let roles = |member| {
        privileged_roles(&state, member, now)
            .into_iter()
            .map(|(held, _)| held.role.to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(roles(crate::fixtures::owner()), ["owner"]);
    assert_eq!(roles(crate::fixtures::admin()), ["administrator"]);
    assert!(roles(crate::fixtures::bob()).is_empty());
    let (_, permissions) = privileged_roles(&state, crate::fixtures::admin(), now)
        .pop()
        .unwrap();
    assert!(permissions.contains(&"customers.view"));
    assert!(!permissions.contains(&"content.pages.edit"));
}
