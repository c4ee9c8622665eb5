"""db/read_model.py: versioned upserts of the order document and keyset pagination."""

from datetime import timedelta

from db.read_model import get_order, list_orders, record_order
from domain.statuses import OrderStatus
from tests.db.factories import PLACED_AT, order_state


async def stored_version(pool, order_id: str) -> tuple[int, str]:
    row = await pool.fetchrow("SELECT version, status FROM orders WHERE order_id = $1", order_id)
    return row["version"], row["status"]


async def event_statuses(pool, order_id: str) -> list[str]:
    return [r["status"] for r in await pool.fetch("SELECT status FROM order_events WHERE order_id = $1 ORDER BY seq", order_id)]


async def test_record_then_get_round_trips_the_document(db_pool, uid):
    state = order_state(f"o{uid}", steps=2)
    await record_order(db_pool, state)
    assert await get_order(db_pool, state.order_id) == state
    assert await stored_version(db_pool, state.order_id) == (2, "awaiting_shipment")
    assert await event_statuses(db_pool, state.order_id) == ["payment_pending", "awaiting_shipment"]


async def test_get_unknown_order_is_none(db_pool, uid):
    assert await get_order(db_pool, f"missing{uid}") is None


async def test_newer_version_overwrites(db_pool, uid):
    order = f"o{uid}"
    await record_order(db_pool, order_state(order, steps=1))
    await record_order(db_pool, order_state(order, steps=3))
    assert await stored_version(db_pool, order) == (3, "in_transit")
    assert (await get_order(db_pool, order)).status is OrderStatus.IN_TRANSIT
    assert await event_statuses(db_pool, order) == ["payment_pending", "awaiting_shipment", "in_transit"]


async def test_stale_version_does_not_overwrite_a_newer_one(db_pool, uid):
    order = f"o{uid}"
    newer = order_state(order, steps=4)
    await record_order(db_pool, newer)
    await record_order(db_pool, order_state(order, steps=2))
    assert await stored_version(db_pool, order) == (4, "awaiting_confirmation")
    assert await get_order(db_pool, order) == newer
    assert len(await event_statuses(db_pool, order)) == 4


async def test_repeated_write_changes_nothing(db_pool, uid):
    state = order_state(f"o{uid}", steps=3)
    await record_order(db_pool, state)
    await record_order(db_pool, state)
    assert await stored_version(db_pool, state.order_id) == (3, "in_transit")
    assert len(await event_statuses(db_pool, state.order_id)) == 3


async def collect_pages(pool, limit: int, **filters) -> list[list[str]]:
    pages, after = [], None
    while True:
        states, more = await list_orders(pool, after=after, limit=limit, **filters)
        pages.append([s.order_id for s in states])
        if not more:
            return pages
        after = (states[-1].placed_at, states[-1].order_id)
        assert len(pages) < 100, "pagination does not terminate"


async def seed_marketplace(pool, uid: str) -> tuple[str, list[tuple]]:
    """11 orders in one marketplace; several share a placed_at, so ties break on order_id."""
    marketplace = f"mkt{uid}"
    rows = []
    for i in range(11):
        placed_at = PLACED_AT + timedelta(hours=i // 3)  # groups of 3 with the same time
        state = order_state(f"o{uid}-{i:02d}", marketplace=marketplace, placed_at=placed_at, steps=1 + i % 2, seller_id=f"s{uid}-{i % 3}")
        await record_order(pool, state)
        rows.append((placed_at, state.order_id, state.status.value, state.seller_id))
    return marketplace, rows


async def test_pagination_returns_every_order_exactly_once_newest_first(db_pool, uid):
    marketplace, rows = await seed_marketplace(db_pool, uid)
    expected = [order_id for _, order_id, _, _ in sorted(rows, reverse=True)]
    for limit in (1, 3, 4, 11, 50):
        pages = await collect_pages(db_pool, limit, marketplace=marketplace)
        flat = [o for page in pages for o in page]
        assert flat == expected, f"limit {limit}"
        assert all(len(page) == limit for page in pages[:-1])
        assert len(pages) == max(1, -(-len(expected) // limit))


async def test_pagination_with_filters(db_pool, uid):
    marketplace, rows = await seed_marketplace(db_pool, uid)
    expected = [o for placed, o, status, _ in sorted(rows, reverse=True) if status == "awaiting_shipment"]
    pages = await collect_pages(db_pool, 2, marketplace=marketplace, status="awaiting_shipment")
    assert [o for page in pages for o in page] == expected
    seller = f"s{uid}-1"
    expected = [o for placed, o, _, s in sorted(rows, reverse=True) if s == seller]
    pages = await collect_pages(db_pool, 2, seller_id=seller, marketplace=marketplace)
    assert [o for page in pages for o in page] == expected


async def test_exactly_full_last_page_has_no_next_page(db_pool, uid):
    marketplace, rows = await seed_marketplace(db_pool, uid)
    states, more = await list_orders(db_pool, marketplace=marketplace, limit=len(rows))
    assert len(states) == len(rows)
    assert more is False


async def test_no_match_gives_an_empty_page(db_pool, uid):
    assert await list_orders(db_pool, marketplace=f"none{uid}") == ([], False)
