"""The raw-export contract: every source system, table and column customer360 reads.

This module is the single source of truth for what a raw export must look like. The
generator writes exactly these tables and columns, the schema-drift check compares a
user's files against it before dbt runs, and the README's contract table is derived from
it. Types are DuckDB logical types of the *Parquet* export; CSV exports carry the same
columns as text and are cast in staging.

Layout on disk: ``<raw_path>/<system>/<table>.<parquet|csv>``,
e.g. ``data/raw/shop/orders.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = True  # a required column missing from a file fails the build fast
    # an optional column added to the contract after files were written against it: a file
    # may leave it out of its header (read as empty; check-raw says so), so adding it
    # breaks no existing export. Every other column must be in the header.
    omittable: bool = False


@dataclass(frozen=True)
class RawTable:
    system: str
    name: str
    primary_key: str
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def path(self, raw_path: str, fmt: str = "parquet") -> str:
        return f"{raw_path}/{self.system}/{self.name}.{fmt}"


def _c(name: str, type_: str, description: str, required: bool = True) -> Column:
    return Column(name, type_, description, required)


SYSTEMS: tuple[str, ...] = ("shop", "crm", "support", "newsletter", "app", "web", "loyalty")

RAW_TABLES: tuple[RawTable, ...] = (
    # ------------------------------------------------------------------ shop
    RawTable(
        "shop",
        "customers",
        "customer_id",
        "Web-shop customer accounts (one row per account).",
        (
            _c("customer_id", "VARCHAR", "Shop account id, e.g. 'SC0000123'."),
            _c("email", "VARCHAR", "Login e-mail as typed by the customer."),
            _c("first_name", "VARCHAR", "First name as typed."),
            _c("last_name", "VARCHAR", "Last name as typed."),
            _c("phone", "VARCHAR", "Phone number in any format.", required=False),
            _c("country_code", "VARCHAR", "ISO 3166-1 alpha-2 country of the account."),
            _c("created_at", "TIMESTAMP", "Account creation time (UTC)."),
            _c("updated_at", "TIMESTAMP", "Last change of the account (UTC)."),
        ),
    ),
    RawTable(
        "shop",
        "orders",
        "order_id",
        "Web-shop and app orders, including guest checkouts that carry only an e-mail.",
        (
            _c("order_id", "VARCHAR", "Order id, e.g. 'SO00000001'."),
            _c("customer_id", "VARCHAR", "Shop account id; null for guest checkouts."),
            _c("email", "VARCHAR", "E-mail given at checkout."),
            _c("ordered_at", "TIMESTAMP", "Order placement time (UTC)."),
            _c("currency", "VARCHAR", "ISO 4217 currency of the amounts (EUR, USD, GBP, CHF)."),
            _c("order_total", "DECIMAL(12,2)", "Gross order total in the order currency."),
            _c("status", "VARCHAR", "completed, refunded or cancelled."),
            _c("order_channel", "VARCHAR", "web or app."),
            _c("shipping_country", "VARCHAR", "ISO 3166-1 alpha-2 shipping country."),
        ),
    ),
    RawTable(
        "shop",
        "order_lines",
        "order_line_id",
        "Order lines (products) of shop orders.",
        (
            _c("order_line_id", "VARCHAR", "Order line id."),
            _c("order_id", "VARCHAR", "Order the line belongs to."),
            _c("product_id", "VARCHAR", "Product SKU."),
            _c("product_category", "VARCHAR", "Product category."),
            _c("quantity", "INTEGER", "Units ordered."),
            _c("unit_price", "DECIMAL(12,2)", "Unit price in the order currency."),
        ),
    ),
    # ------------------------------------------------------------------ crm
    RawTable(
        "crm",
        "contacts",
        "contact_id",
        "CRM contacts keyed by agents; the same person can be entered twice.",
        (
            _c("contact_id", "VARCHAR", "CRM contact id, e.g. 'CRM-000123'."),
            _c("email", "VARCHAR", "E-mail as entered by the agent.", required=False),
            _c("phone", "VARCHAR", "Phone as entered by the agent.", required=False),
            _c("first_name", "VARCHAR", "First name."),
            _c("last_name", "VARCHAR", "Last name."),
            _c("birth_date", "DATE", "Date of birth.", required=False),
            _c("street", "VARCHAR", "Street and house number.", required=False),
            _c("postal_code", "VARCHAR", "Postal code.", required=False),
            _c("city", "VARCHAR", "City.", required=False),
            _c("country_code", "VARCHAR", "ISO 3166-1 alpha-2 country."),
            _c("created_by", "VARCHAR", "Agent who created the contact."),
            Column(
                "id_number",
                "VARCHAR",
                "A personal id number the CRM holds (national id, social security or "
                "customer card number); compared by probabilistic matching. May be left "
                "out of the header.",
                required=False,
                omittable=True,
            ),
            _c("created_at", "TIMESTAMP", "Creation time (UTC)."),
            _c("updated_at", "TIMESTAMP", "Last update time (UTC)."),
        ),
    ),
    # ------------------------------------------------------------------ support
    RawTable(
        "support",
        "tickets",
        "ticket_id",
        "Help-desk tickets with the requester's e-mail or phone.",
        (
            _c("ticket_id", "VARCHAR", "Ticket id, e.g. 'T-0000001'."),
            _c("requester_email", "VARCHAR", "Requester e-mail.", required=False),
            _c("requester_phone", "VARCHAR", "Requester phone.", required=False),
            _c("channel", "VARCHAR", "email, phone or chat."),
            _c("category", "VARCHAR", "Ticket category."),
            _c("opened_at", "TIMESTAMP", "Ticket opened (UTC)."),
            _c("resolved_at", "TIMESTAMP", "Ticket resolved (UTC); null while open.", False),
            _c("satisfaction_score", "INTEGER", "CSAT 1-5; null if not answered.", False),
        ),
    ),
    # ------------------------------------------------------------------ newsletter
    RawTable(
        "newsletter",
        "subscribers",
        "subscriber_id",
        "Newsletter subscribers with consent status and timestamps.",
        (
            _c("subscriber_id", "VARCHAR", "Subscriber id, e.g. 'NL000123'."),
            _c("email", "VARCHAR", "Subscribed e-mail."),
            _c("status", "VARCHAR", "pending, subscribed or unsubscribed."),
            _c("opted_in_at", "TIMESTAMP", "Sign-up form submitted (UTC)."),
            _c("confirmed_at", "TIMESTAMP", "Double opt-in confirmed (UTC); null if not.", False),
            _c("opted_out_at", "TIMESTAMP", "Unsubscribed (UTC); null if still subscribed.", False),
            _c("signup_source", "VARCHAR", "Where the sign-up happened (footer, checkout, ...)."),
        ),
    ),
    RawTable(
        "newsletter",
        "email_events",
        "event_id",
        "E-mail events per subscriber and campaign.",
        (
            _c("event_id", "VARCHAR", "Event id."),
            _c("subscriber_id", "VARCHAR", "Subscriber the e-mail went to."),
            _c("campaign_id", "VARCHAR", "Campaign id, e.g. 'CMP-2024-07'."),
            _c("event_type", "VARCHAR", "sent, open, click, unsubscribe or bounce."),
            _c("occurred_at", "TIMESTAMP", "Event time (UTC)."),
        ),
    ),
    # ------------------------------------------------------------------ app
    RawTable(
        "app",
        "users",
        "login_id",
        "Mobile-app user accounts.",
        (
            _c("login_id", "VARCHAR", "App login id (user name), e.g. 'anna.m88'."),
            _c("email", "VARCHAR", "E-mail of the app account."),
            _c("created_at", "TIMESTAMP", "App account creation (UTC)."),
        ),
    ),
    RawTable(
        "app",
        "devices",
        "device_id",
        "Devices seen by the app, with the login last used on them.",
        (
            _c("device_id", "VARCHAR", "Device id (UUID-like, any case)."),
            _c(
                "login_id",
                "VARCHAR",
                "Login id used on the device; null if never logged in.",
                False,
            ),
            _c("platform", "VARCHAR", "ios or android."),
            _c("first_seen_at", "TIMESTAMP", "First app start on the device (UTC)."),
        ),
    ),
    RawTable(
        "app",
        "events",
        "event_id",
        "In-app events per device.",
        (
            _c("event_id", "VARCHAR", "Event id."),
            _c("device_id", "VARCHAR", "Device that sent the event."),
            _c("login_id", "VARCHAR", "Login id if logged in at the time.", False),
            _c("event_name", "VARCHAR", "app_open, product_view, add_to_cart, purchase, ..."),
            _c("occurred_at", "TIMESTAMP", "Event time (UTC)."),
        ),
    ),
    # ------------------------------------------------------------------ web
    RawTable(
        "web",
        "events",
        "event_id",
        "Web-analytics events: anonymous cookie id, and the shop customer id once logged in.",
        (
            _c("event_id", "VARCHAR", "Event id."),
            _c("cookie_id", "VARCHAR", "First-party anonymous cookie id."),
            _c("user_id", "VARCHAR", "Shop customer id when logged in, else null.", False),
            _c("event_type", "VARCHAR", "page_view, product_view, add_to_cart, login, checkout."),
            _c("page_url", "VARCHAR", "Page URL path."),
            _c("referrer", "VARCHAR", "Referrer host, null for direct.", False),
            _c("utm_source", "VARCHAR", "utm_source, null if absent.", False),
            _c("utm_medium", "VARCHAR", "utm_medium, null if absent.", False),
            _c("utm_campaign", "VARCHAR", "utm_campaign, null if absent.", False),
            _c("occurred_at", "TIMESTAMP", "Event time (UTC)."),
        ),
    ),
    # ------------------------------------------------------------------ loyalty
    RawTable(
        "loyalty",
        "members",
        "loyalty_number",
        "Loyalty-programme members.",
        (
            _c("loyalty_number", "VARCHAR", "Loyalty card number, printed with spaces or dashes."),
            _c("email", "VARCHAR", "Member e-mail.", required=False),
            _c("phone", "VARCHAR", "Member phone.", required=False),
            _c("first_name", "VARCHAR", "First name."),
            _c("last_name", "VARCHAR", "Last name."),
            _c("tier", "VARCHAR", "bronze, silver, gold."),
            _c("enrolled_at", "TIMESTAMP", "Enrolment time (UTC)."),
        ),
    ),
    RawTable(
        "loyalty",
        "pos_transactions",
        "transaction_id",
        "In-store point-of-sale transactions carrying the loyalty number that was scanned.",
        (
            _c("transaction_id", "VARCHAR", "POS transaction id."),
            _c("loyalty_number", "VARCHAR", "Scanned loyalty number; null if none.", False),
            _c("store_id", "VARCHAR", "Store id."),
            _c("transacted_at", "TIMESTAMP", "Transaction time (UTC)."),
            _c("currency", "VARCHAR", "ISO 4217 currency."),
            _c("amount", "DECIMAL(12,2)", "Gross amount; negative for returns."),
        ),
    ),
)

# Event tables with a freshness check: (system, table) -> (timestamp column, warn after
# hours, error after hours). Ages are measured against the export date (the newest record
# of any declared event table) unless the project config says `freshness.reference: now`
# or a date; the config can set other limits per table (customer360.config).
FRESHNESS: dict[tuple[str, str], tuple[str, int, int]] = {
    ("shop", "orders"): ("ordered_at", 72, 24 * 7),
    ("web", "events"): ("occurred_at", 72, 24 * 7),
    ("app", "events"): ("occurred_at", 72, 24 * 7),
    ("newsletter", "email_events"): ("occurred_at", 72, 24 * 7),
    # sparse feeds (a small shop has days without a till scan or a ticket): looser limits
    ("loyalty", "pos_transactions"): ("transacted_at", 24 * 7, 24 * 30),
    ("support", "tickets"): ("opened_at", 24 * 7, 24 * 30),
}

TABLES_BY_KEY: dict[tuple[str, str], RawTable] = {(t.system, t.name): t for t in RAW_TABLES}


def table(system: str, name: str) -> RawTable:
    return TABLES_BY_KEY[(system, name)]
