"""Where orders go and the business's running totals.

- `orders.region` (an ISO 3166-2 subdivision, else the country, else `unknown`) and `orders.fulfillment_center`
  (`unknown` until the network names it), for filters and the list of orders needing attention.
- `insight_volume_minutes` / `insight_volume_hours`: orders and gross value placed, per marketplace, region and
  currency (minutes for surges over short intervals, hours for charts and long ones).
- `insight_statuses`: how many orders stand in each status.
- `insight_stage_times`: counts per power-of-two bucket of seconds of each stage (placement to shipment, ...).
- `insight_outcomes`: counts per day of what happened to orders, by seller, region, fulfillment centre and reason.

The rollups are filled from the read model for the orders recorded before: volume and statuses exactly; outcomes and
stage times from each order's timeline (lost and damaged parcels, and chargebacks, only from here on).

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ENGINE_ROLE = "settlement_engine"
TABLES = ("insight_volume_minutes", "insight_volume_hours", "insight_statuses", "insight_stage_times", "insight_outcomes")

STATEMENTS = [
    # A constant default: no table rewrite (PostgreSQL 11 and later).
    "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'unknown'",
    "ALTER TABLE orders ADD COLUMN fulfillment_center text NOT NULL DEFAULT 'unknown'",
    *[
        f"""CREATE TABLE {table} (
            at           timestamptz NOT NULL,
            marketplace  text NOT NULL,
            region       text NOT NULL,
            currency     char(3) NOT NULL,
            orders       integer NOT NULL,
            gross        bigint NOT NULL,
            PRIMARY KEY (at, marketplace, region, currency)
        )"""
        for table in TABLES[:2]
    ],
    """CREATE TABLE insight_statuses (
        marketplace  text NOT NULL,
        region       text NOT NULL,
        currency     char(3) NOT NULL,
        status       text NOT NULL,
        orders       integer NOT NULL,
        PRIMARY KEY (marketplace, region, currency, status)
    )""",
    """CREATE TABLE insight_stage_times (
        day          date NOT NULL,
        marketplace  text NOT NULL,
        region       text NOT NULL,
        stage        text NOT NULL,
        bucket       smallint NOT NULL,
        orders       integer NOT NULL,
        PRIMARY KEY (day, marketplace, region, stage, bucket)
    )""",
    """CREATE TABLE insight_outcomes (
        day                 date NOT NULL,
        marketplace         text NOT NULL,
        seller_id           text NOT NULL,
        region              text NOT NULL,
        fulfillment_center  text NOT NULL,
        outcome             text NOT NULL,
        reason              text NOT NULL,
        orders              integer NOT NULL,
        PRIMARY KEY (day, marketplace, seller_id, region, fulfillment_center, outcome, reason)
    )""",
    """INSERT INTO insight_volume_minutes (at, marketplace, region, currency, orders, gross)
       SELECT date_trunc('minute', placed_at, 'UTC'), marketplace, 'unknown', currency, count(*), sum(total) FROM orders GROUP BY 1, 2, 4""",
    """INSERT INTO insight_volume_hours (at, marketplace, region, currency, orders, gross)
       SELECT date_trunc('hour', placed_at, 'UTC'), marketplace, 'unknown', currency, count(*), sum(total) FROM orders GROUP BY 1, 2, 4""",
    """INSERT INTO insight_statuses (marketplace, region, currency, status, orders)
       SELECT marketplace, 'unknown', currency, status, count(*) FROM orders GROUP BY 1, 3, 4""",
    # The first time each order took each status, from its timeline.
    """CREATE TEMPORARY TABLE first_steps ON COMMIT DROP AS
       SELECT e.order_id, o.marketplace, o.seller_id, o.placed_at, e.status, min(e.at) AS at
       FROM order_events e JOIN orders o USING (order_id) GROUP BY 1, 2, 3, 4, 5""",
    """INSERT INTO insight_outcomes (day, marketplace, seller_id, region, fulfillment_center, outcome, reason, orders)
       SELECT (at AT TIME ZONE 'UTC')::date, marketplace, seller_id, 'unknown', 'unknown',
              CASE status WHEN 'payment_pending' THEN 'placed' WHEN 'in_transit' THEN 'shipped'
                          WHEN 'awaiting_confirmation' THEN 'delivered' WHEN 'disputed' THEN 'disputed' ELSE 'refunded' END,
              '', count(*)
       FROM first_steps WHERE status IN ('payment_pending', 'in_transit', 'awaiting_confirmation', 'disputed', 'refunded')
       GROUP BY 1, 2, 3, 6""",
    """INSERT INTO insight_stage_times (day, marketplace, region, stage, bucket, orders)
       SELECT (s.at AT TIME ZONE 'UTC')::date, s.marketplace, 'unknown', s.stage,
              CASE WHEN s.seconds < 2 THEN 0 ELSE floor(log(2, s.seconds::numeric)) END, count(*)
       FROM (
           SELECT shipped.at, shipped.marketplace, 'placed_to_shipped' AS stage, extract(epoch FROM shipped.at - shipped.placed_at) AS seconds
           FROM first_steps shipped WHERE shipped.status = 'in_transit'
           UNION ALL
           SELECT d.at, d.marketplace, 'shipped_to_delivered', extract(epoch FROM d.at - s.at)
           FROM first_steps d JOIN first_steps s ON s.order_id = d.order_id AND s.status = 'in_transit' WHERE d.status = 'awaiting_confirmation'
           UNION ALL
           SELECT p.at, p.marketplace, 'delivered_to_payout', extract(epoch FROM p.at - d.at)
           FROM first_steps p JOIN first_steps d ON d.order_id = p.order_id AND d.status = 'awaiting_confirmation' WHERE p.status = 'settled'
           UNION ALL
           SELECT p.at, p.marketplace, 'placed_to_payout', extract(epoch FROM p.at - p.placed_at) FROM first_steps p WHERE p.status = 'settled'
           UNION ALL
           SELECT r.at, r.marketplace, 'placed_to_refund', extract(epoch FROM r.at - r.placed_at) FROM first_steps r WHERE r.status = 'refunded'
       ) s
       GROUP BY 1, 2, 4, 5""",
    "CREATE INDEX insight_outcomes_seller ON insight_outcomes (seller_id, day)",
    *[f"GRANT SELECT, INSERT, UPDATE ON {table} TO {ENGINE_ROLE}" for table in TABLES],
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE {table}")
    op.execute("ALTER TABLE orders DROP COLUMN fulfillment_center")
    op.execute("ALTER TABLE orders DROP COLUMN region")
