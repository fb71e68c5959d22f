#!/usr/bin/env python3
"""Writes demo/tenant.json, the demo tenant that `gatehouse serve` loads into an empty data directory.

Northwind Robotics: about 320 people in eleven departments with managers, twelve sources (three of
them disconnected and marked for service-desk provisioning), their entitlements, access profiles,
roles, governance groups, accounts and existing assignments. Seeded and deterministic: running it
again writes the same file. The format is docs/IMPORT-FORMAT.md; ids are left out, so the importer
derives them from names (the same ids on every installation; `derived_id` below shows how).

    python3 tools/gen_demo.py            # writes demo/tenant.json
    python3 tools/gen_demo.py --check    # fails if demo/tenant.json is not what this script writes
"""

import hashlib
import json
import random
import sys
from pathlib import Path

SEED = 20240517
DOMAIN = "northwind.example"
OUT = Path(__file__).resolve().parent.parent / "demo" / "tenant.json"
T0 = "2024-01-15T09:00:00.000Z"  # every object's created/modified, so exports are stable


def derived_id(tag, *key):
    """The id Gatehouse gives an object imported without one (docs/IMPORT-FORMAT.md)."""
    return hashlib.sha256("\x1f".join((tag,) + key).encode()).hexdigest()[:32]


FIRST = """Aaliyah Aarav Abigail Adrian Aiko Alejandro Amara Amelia Andre Anika Antonio Aria Arjun Astrid
Beatriz Benjamin Bianca Bilal Camila Carlos Chen Chiara Chloe Connor Dalia Daniel Dario Diego Dmitri Elena
Elif Elijah Emeka Emil Emma Ethan Fatima Felix Fiona Freya Gabriel Grace Hannah Hana Hassan Ines Ingrid
Isaac Isabella Ivan Jacob Jamal Javier Jin Joao Jonas Julia Kai Karim Katarzyna Keiko Kofi Lars Layla
Leon Liam Lucas Lucia Luis Malik Marco Maria Mateo Mei Mia Mohammed Nadia Naomi Nia Nikhil Noah Nora
Olga Oliver Olivia Oscar Pablo Paula Pedro Priya Rafael Rania Ravi Rosa Ryan Sakura Samuel Sara Sebastian
Sofia Soren Sunita Tariq Tessa Thabo Theo Valentina Victor Wei Yara Yusuf Zara Zoe""".split()

LAST = """Abbott Adeyemi Alvarez Andersen Bauer Becker Bergstrom Bianchi Brennan Castillo Chen Cohen Costa
Dubois Eriksen Fernandes Fischer Fitzgerald Garcia Gonzalez Gupta Hansen Hartmann Hughes Ibrahim Ivanova
Jensen Johansson Kaur Kaplan Kowalski Kruger Larsen Lindqvist Lopez Mahmoud Marino Martin Mensah Moreau
Morales Murphy Nakamura Nielsen Novak Nowak Okafor Olsen Ortiz Osei Park Petrov Pham Quinn Ramos Rossi
Sato Schmidt Schneider Shah Silva Singh Sorensen Suzuki Tanaka Torres Vargas Wagner Walsh Weber
Wong Yamamoto Yilmaz Zhang Zimmermann Visser""".split()

LOCATIONS = ["Austin", "Frankfurt", "Lisbon", "Toronto", "Singapore"]

# department: (head title, team titles, team count, people per team, cost center)
DEPARTMENTS = {
    "Executive": ("Chief Executive Officer", [], 0, 0, "CC-100"),
    "Engineering": ("VP Engineering", ["Software Engineer", "Senior Software Engineer", "QA Engineer", "Site Reliability Engineer"], 7, 11, "CC-200"),
    "Product": ("VP Product", ["Product Manager", "Product Designer", "UX Researcher"], 2, 7, "CC-210"),
    "Sales": ("VP Sales", ["Account Executive", "Sales Development Representative", "Solutions Engineer"], 4, 9, "CC-300"),
    "Marketing": ("VP Marketing", ["Marketing Specialist", "Content Strategist", "Marketing Analyst"], 2, 7, "CC-310"),
    "Customer Support": ("Director of Customer Support", ["Support Engineer", "Customer Success Manager"], 3, 8, "CC-320"),
    "Finance": ("Chief Financial Officer", ["Financial Analyst", "Accountant", "Accounts Payable Clerk"], 2, 7, "CC-400"),
    "Human Resources": ("VP People", ["HR Business Partner", "Recruiter", "Payroll Specialist"], 2, 6, "CC-410"),
    "Information Technology": ("Director of IT", ["Systems Administrator", "Service Desk Analyst", "Cloud Engineer", "Security Analyst"], 3, 7, "CC-420"),
    "Operations": ("VP Operations", ["Operations Analyst", "Supply Chain Planner", "Facilities Coordinator"], 2, 7, "CC-500"),
    "Legal": ("General Counsel", ["Corporate Counsel", "Paralegal", "Compliance Officer"], 1, 5, "CC-510"),
}

# People the README and tests talk about: fixed names, departments, titles and user levels.
FIXED = {
    "helen.carter": ("Helen", "Carter", "Executive", "Chief Executive Officer", ["USER"]),
    "maya.patel": ("Maya", "Patel", "Information Technology", "Director of IT", ["ORG_ADMIN", "USER"]),
    "tom.becker": ("Tom", "Becker", "Information Technology", "Service Desk Lead", ["SERVICE_DESK_ADMIN", "HELPDESK", "USER"]),
    "lena.novak": ("Lena", "Novak", "Information Technology", "IAM Engineer", ["SOURCE_ADMIN", "ROLE_ADMIN", "USER"]),
    "daniel.kim": ("Daniel", "Kim", "Engineering", "Engineering Manager", ["USER"]),
    "alice.nguyen": ("Alice", "Nguyen", "Engineering", "Software Engineer", ["USER"]),
    "sam.okafor": ("Sam", "Okafor", "Finance", "Chief Financial Officer", ["USER"]),
    "rachel.green": ("Rachel", "Green", "Human Resources", "VP People", ["USER"]),
}


def main():
    rng = random.Random(SEED)
    people = []
    taken = set()

    def person(first, last, dept, title, manager, levels=None, username=None):
        base = username or f"{first}.{last}".lower().replace(" ", "")
        name, n = base, 2
        while name in taken:
            name, n = f"{base}{n}", n + 1
        taken.add(name)
        number = f"E{10000 + len(people):05d}"
        lifecycle = "active"
        roll = rng.random()
        if username is None and roll < 0.03:
            lifecycle = "inactive"
        elif username is None and roll < 0.05:
            lifecycle = "prehire"
        p = {
            "name": name,
            "displayName": f"{first} {last}",
            "firstName": first,
            "lastName": last,
            "email": f"{name}@{DOMAIN}",
            "alias": (first[0] + last).lower().replace(" ", "")[:12],
            "authorities": levels or ["USER"],
            "lifecycleState": lifecycle,
            "cloudStatus": "UNREGISTERED" if lifecycle == "prehire" else "ACTIVE",
            "attributes": {
                "department": dept,
                "title": title,
                "location": rng.choice(LOCATIONS),
                "employeeNumber": number,
                "costCenter": DEPARTMENTS[dept][4],
            },
            "created": T0,
            "modified": T0,
        }
        if manager:
            p["manager"] = manager
        people.append(p)
        return name

    def random_person(dept, title, manager):
        return person(rng.choice(FIRST), rng.choice(LAST), dept, title, manager)

    def fixed(username, manager):
        first, last, dept, title, levels = FIXED[username]
        return person(first, last, dept, title, manager, levels, username)

    ceo = fixed("helen.carter", None)
    heads = {"Executive": ceo}
    by_dept = {d: [] for d in DEPARTMENTS}
    managers = {d: [] for d in DEPARTMENTS}
    for dept, (head_title, titles, teams, size, _) in DEPARTMENTS.items():
        if dept == "Executive":
            for title in ["Chief of Staff", "Executive Assistant"]:
                by_dept[dept].append(random_person(dept, title, ceo))
            continue
        if dept == "Information Technology":
            head = fixed("maya.patel", ceo)
        elif dept == "Finance":
            head = fixed("sam.okafor", ceo)
        elif dept == "Human Resources":
            head = fixed("rachel.green", ceo)
        else:
            head = random_person(dept, head_title, ceo)
        heads[dept] = head
        for t in range(teams):
            if dept == "Engineering" and t == 0:
                mgr = fixed("daniel.kim", head)
            elif dept == "Information Technology" and t == 0:
                mgr = fixed("tom.becker", head)
            else:
                mgr = random_person(dept, f"{titles[0].split()[-1]} Manager" if dept != "Engineering" else "Engineering Manager", head)
            managers[dept].append(mgr)
            for i in range(size):
                if dept == "Engineering" and t == 0 and i == 0:
                    by_dept[dept].append(fixed("alice.nguyen", mgr))
                elif dept == "Information Technology" and t == 1 and i == 0:
                    by_dept[dept].append(fixed("lena.novak", mgr))
                else:
                    by_dept[dept].append(random_person(dept, rng.choice(titles), mgr))

    everyone = [p["name"] for p in people]
    active = [p["name"] for p in people if p["lifecycleState"] == "active"]
    dept_of = {p["name"]: p["attributes"]["department"] for p in people}
    staff_of = lambda d: [n for n in [heads[d]] + managers[d] + by_dept[d] if n in active]  # noqa: E731

    clusters = [
        {"name": "Frankfurt VA Cluster", "type": "idn", "description": "Virtual appliances in the Frankfurt data centre", "status": "NORMAL", "created": T0, "modified": T0},
        {"name": "Austin VA Cluster", "type": "idn", "description": "Virtual appliances in the Austin office", "status": "NORMAL", "created": T0, "modified": T0},
    ]

    groups = [
        ("IT Service Desk", "Handles tickets for disconnected sources", "tom.becker", [n for n in staff_of("Information Technology")][:8]),
        ("Security Approvers", "Approves privileged access", "maya.patel", ["maya.patel", "lena.novak"] + staff_of("Information Technology")[8:11]),
        ("Finance Approvers", "Approves access to financial systems", "sam.okafor", staff_of("Finance")[:4]),
        ("Engineering Leads", "Approves engineering tooling access", heads["Engineering"], managers["Engineering"]),
        ("HR Business Partners", "Approves access to people data", "rachel.green", staff_of("Human Resources")[:4]),
        ("Sales Operations", "Owns the CRM", heads["Sales"], [heads["Sales"]] + managers["Sales"]),
    ]
    governance_groups = [
        {"name": n, "description": d, "owner": o, "members": sorted(set(m)), "created": T0, "modified": T0}
        for n, d, o, m in groups
    ]
    gid = lambda name: derived_id("governanceGroup", name)  # noqa: E731

    def src(name, desc, kind, connector, owner, cluster=None, workgroup=None, authoritative=False, service_desk=False, features=None):
        s = {
            "name": name,
            "description": desc,
            "type": kind,
            "owner": owner,
            "connector": connector,
            "connectionType": "file" if service_desk else "direct",
            "authoritative": authoritative,
            "healthy": True,
            "status": "SOURCE_STATE_HEALTHY",
            "features": features or (["NO_PERMISSIONS_PROVISIONING"] if service_desk else ["PROVISIONING", "ENABLE", "SEARCH"]),
            "created": T0,
            "modified": T0,
        }
        if cluster:
            s["cluster"] = cluster
        if workgroup:
            s["managementWorkgroup"] = workgroup
        if service_desk:
            s["serviceDeskManaged"] = True
            s["connectorAttributes"] = {"provisioning": "service desk ticket", "note": "linked to a service-desk integration by the service-desk feature"}
        return s

    sources = [
        src("Workday", "HR system of record", "Workday", "workday", "rachel.green", authoritative=True, features=["SEARCH"]),
        src("Active Directory", "Corporate directory (northwind.local)", "Active Directory - Direct", "active-directory", "lena.novak", cluster="Frankfurt VA Cluster"),
        src("Entra ID", "Microsoft Entra ID tenant", "Azure Active Directory", "azure-active-directory", "lena.novak"),
        src("Salesforce", "CRM", "Salesforce", "salesforce", heads["Sales"], workgroup="Sales Operations"),
        src("GitHub", "Source code hosting (northwind-robotics org)", "GitHub", "github", "daniel.kim", workgroup="Engineering Leads"),
        src("Jira Cloud", "Issue tracking", "Jira", "jira", "daniel.kim"),
        src("ServiceNow", "IT service management", "ServiceNow", "servicenow", "tom.becker", cluster="Austin VA Cluster"),
        src("Slack", "Chat", "Slack", "slack", "maya.patel"),
        src("AWS IAM Identity Center", "Amazon Web Services accounts", "AWS", "aws", "lena.novak", workgroup="Security Approvers"),
        src("SAP S/4HANA", "ERP (finance and procurement); no connector: access is provisioned by the service desk", "DelimitedFile", "delimited-file", "sam.okafor", workgroup="IT Service Desk", service_desk=True),
        src("NetSuite", "Subsidiary accounting; no connector: access is provisioned by the service desk", "DelimitedFile", "delimited-file", "sam.okafor", workgroup="IT Service Desk", service_desk=True),
        src("Badge Access", "Office door badges; no connector: facilities provision through the service desk", "DelimitedFile", "delimited-file", "maya.patel", workgroup="IT Service Desk", service_desk=True),
    ]

    # (source, attribute, value, name, description, privileged, owner)
    ents = []

    def ent(source, attribute, value, name, description, privileged=False, owner=None, requestable=True):
        e = {"source": source, "attribute": attribute, "value": value, "name": name, "type": "group", "description": description,
             "requestable": requestable, "privileged": privileged, "created": T0, "modified": T0}
        if owner:
            e["owner"] = owner
        ents.append(e)
        return {"source": source, "attribute": attribute, "value": value}

    ad = {}
    for d in DEPARTMENTS:
        cn = d.replace(" ", "")
        ad[d] = ent("Active Directory", "memberOf", f"CN=DL-{cn},OU=Groups,DC=northwind,DC=local", f"DL-{cn}", f"Distribution list of {d}", requestable=False)
    ad_users = ent("Active Directory", "memberOf", "CN=Domain Users,CN=Users,DC=northwind,DC=local", "Domain Users", "Every employee", requestable=False)
    ad_vpn = ent("Active Directory", "memberOf", "CN=VPN-Users,OU=Groups,DC=northwind,DC=local", "VPN-Users", "Remote access VPN")
    ad_admins = ent("Active Directory", "memberOf", "CN=Domain Admins,CN=Users,DC=northwind,DC=local", "Domain Admins", "Full control of the domain", privileged=True, owner="maya.patel")
    ad_server = ent("Active Directory", "memberOf", "CN=Server-Operators,OU=Groups,DC=northwind,DC=local", "Server-Operators", "Log on to and manage servers", privileged=True, owner="lena.novak")
    ad_fileshare = {d: ent("Active Directory", "memberOf", f"CN=FS-{d.replace(' ', '')}-RW,OU=Shares,DC=northwind,DC=local", f"FS-{d.replace(' ', '')}-RW", f"Read/write on the {d} file share") for d in ["Finance", "Human Resources", "Legal", "Engineering", "Operations"]}
    entra_m365 = ent("Entra ID", "groups", "M365-E3-Licensed", "Microsoft 365 E3", "Microsoft 365 E3 licence", requestable=False)
    entra_visio = ent("Entra ID", "groups", "Visio-Plan2", "Visio Plan 2", "Visio licence")
    entra_powerbi = ent("Entra ID", "groups", "PowerBI-Pro", "Power BI Pro", "Power BI Pro licence")
    entra_ga = ent("Entra ID", "roles", "Global Administrator", "Global Administrator", "Entra ID global administrator", privileged=True, owner="maya.patel")
    sf = {v: ent("Salesforce", "profile", v, v, f"Salesforce profile {v}") for v in ["Standard User", "Sales User", "Sales Manager", "Support User", "Marketing User", "Read Only"]}
    sf_admin = ent("Salesforce", "profile", "System Administrator", "System Administrator", "Salesforce administrator", privileged=True)
    sf_ps = {v: ent("Salesforce", "permissionSet", v, v, f"Salesforce permission set {v}") for v in ["CPQ User", "Reports Builder", "Service Cloud User", "API Enabled"]}
    gh = {v: ent("GitHub", "team", v, f"@northwind-robotics/{v}", f"GitHub team {v}") for v in ["engineering", "platform", "robotics-firmware", "web", "mobile", "data", "sre", "security"]}
    gh_owner = ent("GitHub", "orgRole", "owner", "Organization owner", "Owner of the GitHub organization", privileged=True, owner="daniel.kim")
    jira = {}
    for proj in ["ENG", "OPS", "SUP", "MKT", "FIN", "HR", "IT"]:
        for role in ["Developers", "Users"]:
            jira[(proj, role)] = ent("Jira Cloud", "projectRole", f"{proj}:{role}", f"{proj} {role}", f"Role {role} in Jira project {proj}")
    jira_admin = ent("Jira Cloud", "projectRole", "*:Administrators", "Jira administrators", "Administer every Jira project", privileged=True)
    snow = {v: ent("ServiceNow", "role", v, v, f"ServiceNow role {v}") for v in ["itil", "itil_admin", "knowledge", "asset", "approver_user", "catalog_admin"]}
    snow_admin = ent("ServiceNow", "role", "admin", "admin", "ServiceNow administrator", privileged=True, owner="tom.becker")
    slack = {v: ent("Slack", "channel", v, f"#{v}", f"Private Slack channel #{v}") for v in ["eng-incidents", "sales-deals", "finance-close", "leadership", "it-ops", "hr-private"]}
    slack_member = ent("Slack", "userType", "member", "Member", "Full Slack member", requestable=False)
    aws = {v: ent("AWS IAM Identity Center", "permissionSet", v, v, f"AWS permission set {v}", privileged=(v in ("AdministratorAccess", "PowerUserAccess"))) for v in ["ReadOnlyAccess", "ViewOnlyAccess", "PowerUserAccess", "AdministratorAccess", "BillingReadOnly", "DataScientist"]}
    sap = {v: ent("SAP S/4HANA", "role", v, v, f"SAP role {v}", privileged=(v == "SAP_ALL")) for v in ["Z_FI_AP_CLERK", "Z_FI_AR_CLERK", "Z_FI_GL_ACCOUNTANT", "Z_MM_BUYER", "Z_MM_REQUESTER", "Z_CO_CONTROLLER", "Z_DISPLAY_ALL", "SAP_ALL"]}
    netsuite = {v: ent("NetSuite", "role", v, v, f"NetSuite role {v}") for v in ["Accountant", "A/P Clerk", "Controller", "Employee Center"]}
    badge = {v: ent("Badge Access", "zone", v, v, f"Door access: {v}") for v in ["Austin HQ - General", "Frankfurt - General", "Lisbon - General", "Toronto - General", "Singapore - General", "Server Room", "Lab - Robotics", "Executive Floor"]}

    approvals = lambda *schemes: {"commentsRequired": True, "denialCommentsRequired": True, "approvalSchemes": list(schemes)}  # noqa: E731
    manager = {"approverType": "MANAGER", "approverId": None}
    owner_ = {"approverType": "OWNER", "approverId": None}
    gg = lambda n: {"approverType": "GOVERNANCE_GROUP", "approverId": gid(n)}  # noqa: E731

    aps = []

    def ap(name, source, owner, items, description, request=None, requestable=True):
        a = {"name": name, "description": description, "source": source, "owner": owner, "enabled": True, "requestable": requestable,
             "entitlements": [{"attribute": i["attribute"], "value": i["value"]} for i in items], "created": T0, "modified": T0}
        if request:
            a["accessRequestConfig"] = request
            a["revocationRequestConfig"] = {"approvalSchemes": []}
        aps.append(a)
        return name

    ap_base_ad = ap("AD Employee Baseline", "Active Directory", "lena.novak", [ad_users], "Every employee's directory groups", requestable=False)
    ap_vpn = ap("AD Remote Access", "Active Directory", "lena.novak", [ad_vpn], "VPN access", approvals(manager))
    ap_ad_admin = ap("AD Domain Administration", "Active Directory", "maya.patel", [ad_admins, ad_server], "Domain administration", approvals(manager, gg("Security Approvers")))
    ap_share = {d: ap(f"{d} File Share", "Active Directory", heads[d], [ad_fileshare[d]], f"Read/write on the {d} share", approvals(manager, owner_)) for d in ad_fileshare}
    ap_m365 = ap("Microsoft 365 Standard", "Entra ID", "lena.novak", [entra_m365], "Microsoft 365 E3 licence", requestable=False)
    ap_powerbi = ap("Power BI Pro", "Entra ID", "lena.novak", [entra_powerbi], "Power BI Pro licence", approvals(manager))
    ap_visio = ap("Visio", "Entra ID", "lena.novak", [entra_visio], "Visio licence", approvals(manager))
    ap_entra_admin = ap("Entra Global Admin", "Entra ID", "maya.patel", [entra_ga], "Entra ID global administrator", approvals(manager, gg("Security Approvers")))
    ap_sf_sales = ap("Salesforce Sales", "Salesforce", heads["Sales"], [sf["Sales User"], sf_ps["CPQ User"]], "Sell in Salesforce", approvals(manager))
    ap_sf_mgr = ap("Salesforce Sales Management", "Salesforce", heads["Sales"], [sf["Sales Manager"], sf_ps["Reports Builder"]], "Manage a sales team", approvals(manager, gg("Sales Operations")))
    ap_sf_support = ap("Salesforce Service Cloud", "Salesforce", heads["Customer Support"], [sf["Support User"], sf_ps["Service Cloud User"]], "Work support cases", approvals(manager))
    ap_sf_marketing = ap("Salesforce Marketing", "Salesforce", heads["Marketing"], [sf["Marketing User"]], "Campaigns in Salesforce", approvals(manager))
    ap_sf_ro = ap("Salesforce Read Only", "Salesforce", heads["Sales"], [sf["Read Only"]], "Look at accounts and opportunities", approvals(manager))
    ap_sf_admin = ap("Salesforce Administration", "Salesforce", heads["Sales"], [sf_admin, sf_ps["API Enabled"]], "Administer Salesforce", approvals(manager, gg("Security Approvers")))
    ap_gh = {t: ap(f"GitHub {t.replace('-', ' ').title()} Team", "GitHub", "daniel.kim", [gh["engineering"], gh[t]] if t != "engineering" else [gh[t]], f"Member of the {t} team", approvals(manager)) for t in ["engineering", "platform", "robotics-firmware", "web", "mobile", "data", "sre", "security"]}
    ap_gh_owner = ap("GitHub Organization Owner", "GitHub", "daniel.kim", [gh_owner], "Owner of the GitHub organization", approvals(manager, gg("Engineering Leads"), gg("Security Approvers")))
    ap_jira = {p: ap(f"Jira {p} Project", "Jira Cloud", heads[dep], [jira[(p, "Developers" if p in ("ENG", "IT", "OPS") else "Users")]], f"Work in Jira project {p}", approvals(manager)) for p, dep in [("ENG", "Engineering"), ("OPS", "Operations"), ("SUP", "Customer Support"), ("MKT", "Marketing"), ("FIN", "Finance"), ("HR", "Human Resources"), ("IT", "Information Technology")]}
    ap_jira_admin = ap("Jira Administration", "Jira Cloud", "daniel.kim", [jira_admin], "Administer Jira", approvals(manager, gg("Security Approvers")))
    ap_snow_agent = ap("ServiceNow Agent", "ServiceNow", "tom.becker", [snow["itil"], snow["knowledge"]], "Work incidents and requests", approvals(manager))
    ap_snow_approver = ap("ServiceNow Approver", "ServiceNow", "tom.becker", [snow["approver_user"]], "Approve requests in ServiceNow", approvals(manager))
    ap_snow_admin = ap("ServiceNow Administration", "ServiceNow", "tom.becker", [snow_admin, snow["itil_admin"], snow["catalog_admin"]], "Administer ServiceNow", approvals(manager, gg("Security Approvers")))
    ap_snow_asset = ap("ServiceNow Asset Management", "ServiceNow", "tom.becker", [snow["asset"]], "Manage hardware assets", approvals(manager))
    ap_slack_base = ap("Slack Member", "Slack", "maya.patel", [slack_member], "Full Slack member", requestable=False)
    ap_slack = {c: ap(f"Slack #{c}", "Slack", "maya.patel", [slack[c]], f"Private channel #{c}", approvals(manager)) for c in slack}
    ap_aws_ro = ap("AWS Read Only", "AWS IAM Identity Center", "lena.novak", [aws["ReadOnlyAccess"], aws["ViewOnlyAccess"]], "Look at AWS accounts", approvals(manager))
    ap_aws_power = ap("AWS Power User", "AWS IAM Identity Center", "lena.novak", [aws["PowerUserAccess"]], "Build in AWS accounts", approvals(manager, gg("Security Approvers")))
    ap_aws_admin = ap("AWS Administrator", "AWS IAM Identity Center", "maya.patel", [aws["AdministratorAccess"]], "Administer AWS accounts", approvals(manager, gg("Security Approvers")))
    ap_aws_billing = ap("AWS Billing", "AWS IAM Identity Center", "sam.okafor", [aws["BillingReadOnly"]], "See AWS bills", approvals(manager, gg("Finance Approvers")))
    ap_aws_data = ap("AWS Data Science", "AWS IAM Identity Center", "lena.novak", [aws["DataScientist"]], "SageMaker and Athena", approvals(manager))
    ap_sap_ap = ap("SAP Accounts Payable", "SAP S/4HANA", "sam.okafor", [sap["Z_FI_AP_CLERK"], sap["Z_DISPLAY_ALL"]], "Enter and pay supplier invoices", approvals(manager, gg("Finance Approvers")))
    ap_sap_ar = ap("SAP Accounts Receivable", "SAP S/4HANA", "sam.okafor", [sap["Z_FI_AR_CLERK"], sap["Z_DISPLAY_ALL"]], "Customer invoices and payments", approvals(manager, gg("Finance Approvers")))
    ap_sap_gl = ap("SAP General Ledger", "SAP S/4HANA", "sam.okafor", [sap["Z_FI_GL_ACCOUNTANT"], sap["Z_CO_CONTROLLER"]], "Post and close the books", approvals(manager, gg("Finance Approvers")))
    ap_sap_buyer = ap("SAP Purchasing", "SAP S/4HANA", heads["Operations"], [sap["Z_MM_BUYER"]], "Create purchase orders", approvals(manager, gg("Finance Approvers")))
    ap_sap_req = ap("SAP Requisitioner", "SAP S/4HANA", heads["Operations"], [sap["Z_MM_REQUESTER"]], "Request purchases", approvals(manager))
    ap_sap_all = ap("SAP Firefighter", "SAP S/4HANA", "maya.patel", [sap["SAP_ALL"]], "Emergency access to everything in SAP", approvals(manager, gg("Security Approvers"), gg("Finance Approvers")))
    ap_ns_acct = ap("NetSuite Accounting", "NetSuite", "sam.okafor", [netsuite["Accountant"], netsuite["A/P Clerk"]], "Subsidiary bookkeeping", approvals(manager, gg("Finance Approvers")))
    ap_ns_ctrl = ap("NetSuite Controller", "NetSuite", "sam.okafor", [netsuite["Controller"]], "Subsidiary close", approvals(manager, gg("Finance Approvers")))
    ap_ns_emp = ap("NetSuite Employee Center", "NetSuite", "sam.okafor", [netsuite["Employee Center"]], "Expense reports", approvals(manager))
    ap_badge = {z: ap(f"Badge: {z}", "Badge Access", "maya.patel", [badge[z]], f"Door access to {z}", approvals(manager) if "General" in z else approvals(manager, gg("Security Approvers"))) for z in badge}

    roles = []

    def role(name, description, owner, access_profiles, entitlements=(), requestable=False, request=None):
        r = {"name": name, "description": description, "owner": owner, "enabled": True, "requestable": requestable, "dimensional": False,
             "accessProfiles": list(access_profiles), "entitlements": list(entitlements), "created": T0, "modified": T0}
        if request:
            r["accessRequestConfig"] = request
            r["revocationRequestConfig"] = {"approvalSchemes": []}
        roles.append(r)
        return name

    birthright = role("Employee Baseline", "What every employee gets on day one", "lena.novak", [ap_base_ad, ap_m365, ap_slack_base])
    dept_roles = {
        "Engineering": role("Software Engineer", "Engineering tools", "daniel.kim", [ap_gh["engineering"], ap_jira["ENG"], ap_vpn, ap_aws_ro, ap_slack["eng-incidents"]], [ad["Engineering"]]),
        "Product": role("Product Team", "Product management tools", heads["Product"], [ap_jira["ENG"], ap_sf_ro, ap_visio], [ad["Product"]]),
        "Sales": role("Sales Representative", "Selling", heads["Sales"], [ap_sf_sales, ap_slack["sales-deals"]], [ad["Sales"]]),
        "Marketing": role("Marketing Team", "Campaigns and content", heads["Marketing"], [ap_sf_marketing, ap_jira["MKT"]], [ad["Marketing"]]),
        "Customer Support": role("Support Agent", "Customer support tools", heads["Customer Support"], [ap_sf_support, ap_jira["SUP"], ap_snow_agent], [ad["Customer Support"]]),
        "Finance": role("Finance Analyst", "Finance systems", "sam.okafor", [ap_sap_ar, ap_sap_req, ap_share["Finance"], ap_ns_emp, ap_jira["FIN"], ap_slack["finance-close"]], [ad["Finance"]]),
        "Human Resources": role("HR Specialist", "People systems", "rachel.green", [ap_share["Human Resources"], ap_jira["HR"], ap_slack["hr-private"]], [ad["Human Resources"]]),
        "Information Technology": role("IT Operations", "Running IT", "maya.patel", [ap_snow_agent, ap_jira["IT"], ap_aws_ro, ap_vpn, ap_slack["it-ops"], ap_badge["Server Room"]], [ad["Information Technology"]]),
        "Operations": role("Operations Team", "Supply chain and facilities", heads["Operations"], [ap_sap_req, ap_share["Operations"], ap_jira["OPS"]], [ad["Operations"]]),
        "Legal": role("Legal Team", "Contracts and compliance", heads["Legal"], [ap_share["Legal"], ap_sf_ro], [ad["Legal"]]),
        "Executive": role("Leadership", "The executive team", ceo, [ap_slack["leadership"], ap_badge["Executive Floor"], ap_powerbi], [ad["Executive"]]),
    }
    role("Engineering Manager", "Leading an engineering team", "daniel.kim", [ap_gh["engineering"], ap_jira_admin, ap_aws_power, ap_snow_approver], requestable=True, request=approvals(manager, gg("Engineering Leads")))
    role("Cloud Administrator", "Full control of the cloud estate", "maya.patel", [ap_aws_admin, ap_entra_admin, ap_gh["sre"]], requestable=True, request=approvals(manager, gg("Security Approvers")))
    role("Service Desk Agent", "Working the service desk, including disconnected sources", "tom.becker", [ap_snow_agent, ap_snow_asset, ap_vpn], requestable=True, request=approvals(manager))
    role("Finance Controller", "Month-end close", "sam.okafor", [ap_sap_gl, ap_ns_ctrl, ap_aws_billing], requestable=True, request=approvals(manager, gg("Finance Approvers")))
    role("Accounts Payable", "Paying suppliers", "sam.okafor", [ap_sap_ap, ap_ns_acct], requestable=True, request=approvals(manager, gg("Finance Approvers")))

    # Accounts: Workday, AD, Entra and Slack for everyone not in pre-hire; apps by department.
    dept_sources = {
        "Engineering": ["GitHub", "Jira Cloud", "AWS IAM Identity Center"],
        "Product": ["Jira Cloud", "Salesforce"],
        "Sales": ["Salesforce"],
        "Marketing": ["Salesforce", "Jira Cloud"],
        "Customer Support": ["Salesforce", "Jira Cloud", "ServiceNow"],
        "Finance": ["SAP S/4HANA", "NetSuite", "Jira Cloud"],
        "Human Resources": ["Jira Cloud"],
        "Information Technology": ["ServiceNow", "Jira Cloud", "AWS IAM Identity Center", "GitHub"],
        "Operations": ["SAP S/4HANA", "Jira Cloud"],
        "Legal": ["Salesforce"],
        "Executive": [],
    }
    accounts = []
    account_of = {}
    person_of = {p["name"]: p for p in people}

    def account(source, who):
        p = person_of[who]
        native = {
            "Workday": p["attributes"]["employeeNumber"],
            "Active Directory": f"CN={p['name']},OU=Users,DC=northwind,DC=local",
            "GitHub": f"{p['name'].replace('.', '-')}-nw",
            "SAP S/4HANA": p["name"].replace(".", "_").upper(),
        }.get(source, p["email"])
        a = {"source": source, "nativeIdentity": native, "name": p["name"] if source not in ("Workday",) else p["displayName"], "identity": who,
             "disabled": p["lifecycleState"] == "inactive", "locked": False, "manuallyCorrelated": False,
             "attributes": {"email": p["email"], "displayName": p["displayName"]}, "created": T0, "modified": T0}
        accounts.append(a)
        account_of[(source, who)] = {"source": source, "nativeIdentity": native}

    for who in everyone:
        p = person_of[who]
        account("Workday", who)
        if p["lifecycleState"] == "prehire":
            continue
        for s in ["Active Directory", "Entra ID", "Slack"]:
            account(s, who)
        for s in dept_sources[dept_of[who]]:
            account(s, who)
        if rng.random() < 0.6:
            account("Badge Access", who)
    # Two uncorrelated accounts, as aggregation leaves them.
    accounts.append({"source": "Active Directory", "nativeIdentity": "CN=svc-backup,OU=Service Accounts,DC=northwind,DC=local", "name": "svc-backup",
                     "disabled": False, "locked": False, "manuallyCorrelated": False, "attributes": {"description": "backup service account"}, "created": T0, "modified": T0})
    accounts.append({"source": "Salesforce", "nativeIdentity": "integration@northwind.example", "name": "integration", "disabled": False, "locked": False,
                     "manuallyCorrelated": False, "attributes": {"description": "integration user"}, "created": T0, "modified": T0})

    assignments = []

    def assign(who, reason, role=None, access_profile=None, entitlement=None, account=None, start=None, remove=None):
        a = {"identity": who}
        if role:
            a["role"] = role
        if access_profile:
            a["accessProfile"] = access_profile
        if entitlement:
            a["entitlement"] = entitlement
        a["reason"] = reason
        if account:
            a["account"] = account
        if start:
            a["startDate"] = start
        if remove:
            a["removeDate"] = remove
        a["created"] = T0
        a["modified"] = T0
        assignments.append(a)

    for who in active:
        assign(who, "BIRTHRIGHT", role=birthright)
        assign(who, "ROLE_MEMBERSHIP", role=dept_roles[dept_of[who]])
    # Access granted by earlier access requests.
    assign("daniel.kim", "ACCESS_REQUEST", role="Engineering Manager")
    assign("maya.patel", "ACCESS_REQUEST", role="Cloud Administrator")
    assign("tom.becker", "ACCESS_REQUEST", role="Service Desk Agent")
    assign("sam.okafor", "ACCESS_REQUEST", role="Finance Controller")
    assign("lena.novak", "ACCESS_REQUEST", access_profile=ap_aws_power)
    assign("lena.novak", "ACCESS_REQUEST", access_profile=ap_gh["security"])
    assign("alice.nguyen", "ACCESS_REQUEST", access_profile=ap_gh["robotics-firmware"])
    assign("alice.nguyen", "ACCESS_REQUEST", access_profile=ap_aws_data, start="2024-02-01T00:00:00.000Z", remove="2026-12-31T00:00:00.000Z")
    for who in [n for n in staff_of("Finance") if n != "sam.okafor"][:4]:
        assign(who, "ACCESS_REQUEST", role="Accounts Payable")
    for who in rng.sample([n for n in active if dept_of[n] == "Engineering"], 12):
        team = rng.choice(["platform", "web", "mobile", "data", "sre"])
        assign(who, "ACCESS_REQUEST", access_profile=ap_gh[team])
    for who in rng.sample([n for n in active if dept_of[n] in ("Sales", "Customer Support")], 8):
        assign(who, "ACCESS_REQUEST", access_profile=ap_powerbi)
    # Entitlements granted directly on a specific account.
    for who in rng.sample([n for n in active if ("Active Directory", n) in account_of], 10):
        assign(who, "ACCESS_REQUEST", entitlement=ad_vpn, account=account_of[("Active Directory", who)])
    for who in [n for n in staff_of("Finance")][:3]:
        if ("SAP S/4HANA", who) in account_of:
            assign(who, "ACCESS_REQUEST", entitlement=sap["Z_DISPLAY_ALL"], account=account_of[("SAP S/4HANA", who)])

    doc = {
        "gatehouse": "tenant/1",
        "identities": people,
        "clusters": clusters,
        "governanceGroups": governance_groups,
        "sources": sources,
        "entitlements": ents,
        "accessProfiles": aps,
        "roles": roles,
        "accounts": accounts,
        "assignments": assignments,
    }
    lines = ["{", '  "gatehouse": "tenant/1"']
    for member in list(doc)[1:]:
        items = doc[member]
        body = ",\n".join("    " + json.dumps(o, ensure_ascii=False, separators=(", ", ": ")) for o in items)
        lines[-1] += ","
        lines.append(f'  "{member}": [\n{body}\n  ]' if items else f'  "{member}": []')
    text = "\n".join(lines) + "\n}\n"
    if "--check" in sys.argv:
        if OUT.read_text() != text:
            sys.exit(f"{OUT} is not what tools/gen_demo.py writes: run it and commit the result")
        return
    OUT.write_text(text)
    counts = ", ".join(f"{len(doc[m])} {m}" for m in list(doc)[1:])
    print(f"wrote {OUT}: {counts}")


if __name__ == "__main__":
    main()
