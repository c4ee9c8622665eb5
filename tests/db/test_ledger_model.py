"""Model-based test of db/ledger.py against real PostgreSQL (hypothesis RuleBasedStateMachine).

Rules post new balanced entries (some overdraw an account that may not go negative), repeat earlier keys
with the same postings in any order, reuse a written key with other postings, post unbalanced entries, and
post batches concurrently on a shared account (spends that overdraw when combined, a concurrent funding,
a twin or a conflicting copy of a batch member, a repeat of a written entry). After every step the
database must equal the model: balances, postings, entries and their ids.

Each example gets its own prefix for account codes and keys (ledger rows cannot be deleted), in a database
of this module's own.
"""

import asyncio
import uuid
from collections import defaultdict

import asyncpg
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from db.ledger import LedgerConflict, LedgerOverdrawn, LedgerUnbalanced, post_entry_once
from db.pool import create_pool
from domain.ledger import AccountSpec, EntryKind, EntryRequest, Posting
from tests.db.background_loop import BackgroundLoop, background_loop
from tests.db.conftest import create_migrated_database
from tests.db.ledger_model import (
    ACCOUNTS,
    CONFLICT,
    CREATED,
    EXISTING,
    NON_NEGATIVE,
    OVERDRAWN,
    UNBALANCED,
    Draft,
    LedgerModel,
    Outcome,
    accounts_in,
    currency_of,
    fingerprint,
)

SETTINGS = settings(max_examples=40, stateful_step_count=25, deadline=None)

AMOUNTS = st.integers(-60, 60).filter(bool)


def leg(currency: str) -> st.SearchStrategy[Draft]:
    """Postings on 2 or 3 distinct accounts of one currency that sum to zero."""
    return st.lists(st.sampled_from(accounts_in(currency)), min_size=2, max_size=3, unique=True).flatmap(
        lambda names: (
            st.lists(AMOUNTS, min_size=len(names) - 1, max_size=len(names) - 1)
            .filter(lambda amounts: sum(amounts) != 0)
            .map(lambda amounts: tuple(zip(names, [*amounts, -sum(amounts)], strict=True)))
        )
    )


BALANCED = st.one_of(leg("USD"), leg("EUR"), st.tuples(leg("USD"), leg("EUR")).map(lambda legs: legs[0] + legs[1]))


def unbalance(draft: Draft, index: int, delta: int) -> Draft:
    name, amount = draft[index % len(draft)]
    changed = amount + delta or amount + 2 * delta
    return tuple((name, changed) if i == index % len(draft) else posting for i, posting in enumerate(draft))


UNBALANCED_DRAFTS = st.builds(unbalance, BALANCED, st.integers(0, 5), AMOUNTS)


def spend(shared: str, to: str, balance: int, percent: int) -> Draft:
    amount = max(1, balance * percent // 100)
    return (shared, -amount), (to, amount)


def rearranged(draft: Draft, turn: int, reverse: bool) -> Draft:
    turned = draft[turn % len(draft) :] + draft[: turn % len(draft)]
    return turned[::-1] if reverse else turned


def entry(prefix: str, key: str, draft: Draft) -> EntryRequest:
    postings = [
        Posting(
            account=AccountSpec(
                code=f"{prefix}:{name}", owner=name.split(":")[0], currency=currency_of(name), may_go_negative=ACCOUNTS[name]
            ),
            amount=amount,
        )
        for name, amount in draft
    ]
    return EntryRequest(idempotency_key=key, order_id=f"{prefix}:order", kind=EntryKind.CAPTURE, postings=postings)


async def submit(pool: asyncpg.Pool, request: EntryRequest) -> Outcome:
    try:
        entry_id, created = await post_entry_once(pool, request)
    except LedgerOverdrawn:
        return OVERDRAWN, None
    except LedgerConflict:
        return CONFLICT, None
    except LedgerUnbalanced:
        return UNBALANCED, None
    return (CREATED if created else EXISTING), entry_id


async def read_ledger(pool: asyncpg.Pool, prefix: str) -> tuple[list, list, list]:
    accounts = await pool.fetch(
        "SELECT code, currency, may_go_negative, balance FROM ledger_accounts WHERE starts_with(code, $1)", f"{prefix}:"
    )
    posted = await pool.fetch(
        "SELECT account, sum(amount)::bigint AS total FROM ledger_postings WHERE starts_with(account, $1) GROUP BY account", f"{prefix}:"
    )
    entries = await pool.fetch(
        "SELECT e.idempotency_key, e.id, p.account, p.amount FROM ledger_entries e "
        "LEFT JOIN ledger_postings p ON p.entry_id = e.id WHERE starts_with(e.idempotency_key, $1)",
        f"{prefix}:",
    )
    return accounts, posted, entries


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, loop: BackgroundLoop, pool: asyncpg.Pool) -> None:
        super().__init__()
        self.loop, self.pool = loop, pool
        self.prefix = f"m{uuid.uuid4().hex[:12]}"
        self.model = LedgerModel()
        self.tried: dict[str, Draft] = {}  # every balanced entry posted so far, written or refused
        self.keys = 0

    def fresh_key(self) -> str:
        self.keys += 1
        return f"{self.prefix}:e{self.keys}"

    def postings_of(self, key: str) -> Draft:
        """The postings written under `key`, or those last refused under it."""
        return self.model.entries[key][0] if key in self.model.entries else self.tried[key]

    def pick_key(self, data: st.DataObject, label: str) -> str:
        """A key tried earlier, written if any was. Every draw has fixed bounds: concurrent outcomes differ
        from run to run, and hypothesis needs the same choices to draw the same way when it replays them."""
        keys = sorted(self.model.entries) or sorted(self.tried)
        return keys[data.draw(st.integers(0, 999), label=label) % len(keys)]

    def expect(self, key: str, draft: Draft) -> None:
        predicted = self.model.predict(key, draft)
        outcome = self.loop.run(submit(self.pool, entry(self.prefix, key, draft)))
        assert self.model.accept(key, draft, outcome), f"{key} {draft}: expected {predicted}, got {outcome}"

    @rule(draft=BALANCED)
    def post_new_entry(self, draft: Draft) -> None:
        key = self.fresh_key()
        self.tried[key] = draft
        self.expect(key, draft)

    @rule(shared=st.sampled_from(NON_NEGATIVE), amount=st.integers(1, 200))
    def fund(self, shared: str, amount: int) -> None:
        key = self.fresh_key()
        self.tried[key] = (f"external:buyers:{currency_of(shared)}", -amount), (shared, amount)
        self.expect(key, self.tried[key])

    @precondition(lambda self: self.tried)
    @rule(data=st.data(), turn=st.integers(0, 5), reverse=st.booleans())
    def repeat_same_postings(self, data: st.DataObject, turn: int, reverse: bool) -> None:
        key = self.pick_key(data, "key")
        self.expect(key, rearranged(self.postings_of(key), turn, reverse))

    @precondition(lambda self: self.tried)
    @rule(data=st.data(), draft=BALANCED)
    def reuse_key_with_other_postings(self, data: st.DataObject, draft: Draft) -> None:
        self.expect(self.pick_key(data, "key"), draft)

    @rule(draft=UNBALANCED_DRAFTS)
    def post_unbalanced(self, draft: Draft) -> None:
        self.expect(self.fresh_key(), draft)

    @rule(data=st.data(), shared=st.sampled_from(NON_NEGATIVE))
    def post_concurrently(self, data: st.DataObject, shared: str) -> None:
        """Spends of up to 120 % of the shared account's balance each, so together they overdraw it."""
        others = [name for name in accounts_in(currency_of(shared)) if name != shared]
        balance = self.model.balances[shared]
        spends = data.draw(st.lists(st.tuples(st.sampled_from(others), st.integers(1, 120)), min_size=2, max_size=4), label="spends")
        batch = [(self.fresh_key(), spend(shared, to, balance, percent)) for to, percent in spends]
        if data.draw(st.booleans(), label="fund the shared account meanwhile"):
            amount = data.draw(st.integers(1, 60), label="funding")
            batch.append((self.fresh_key(), ((f"external:buyers:{currency_of(shared)}", -amount), (shared, amount))))
        extra = data.draw(st.sampled_from(["none", "twin", "conflicting copy", "repeat"]), label="extra")
        if extra == "twin":
            batch.append(data.draw(st.sampled_from(batch)))
        elif extra == "conflicting copy":
            batch.append((data.draw(st.sampled_from(batch))[0], data.draw(BALANCED)))
        elif extra == "repeat" and self.tried:
            key = self.pick_key(data, "repeated key")
            batch.append((key, self.postings_of(key)))
        self.tried.update((key, draft) for key, draft in batch if key not in self.tried)
        outcomes = self.loop.run(self.post_all(batch))
        after = self.model.after_concurrent(batch, outcomes)
        assert after is not None, f"no serial order explains {list(zip(batch, outcomes, strict=True))}"
        self.model = after

    async def post_all(self, batch: list[tuple[str, Draft]]) -> list[Outcome]:
        return list(await asyncio.gather(*(submit(self.pool, entry(self.prefix, key, draft)) for key, draft in batch)))

    @invariant()
    def database_equals_model(self) -> None:
        accounts, posted, entry_rows = self.loop.run(read_ledger(self.pool, self.prefix))
        cut = len(self.prefix) + 1
        stored = {row["code"][cut:]: row["balance"] for row in accounts}
        summed = {row["account"][cut:]: row["total"] for row in posted}
        wrong = {
            name: (stored.get(name, 0), summed.get(name, 0), want)
            for name, want in self.model.balances.items()
            if stored.get(name, 0) != want or summed.get(name, 0) != want
        }
        assert not wrong, f"(balance, sum of postings, model) differ: {wrong}"
        totals: dict[str, int] = defaultdict(int)
        for row in accounts:
            totals[row["currency"]] += row["balance"]
            assert row["may_go_negative"] == ACCOUNTS[row["code"][cut:]], f"{row['code']} has the wrong may_go_negative"
            assert row["may_go_negative"] or row["balance"] >= 0, f"{row['code']} is negative: {row['balance']}"
        assert not any(totals.values()), f"balances per currency do not sum to zero: {dict(totals)}"
        written: dict[str, tuple[int, list]] = {}
        for row in entry_rows:
            postings = written.setdefault(row["idempotency_key"], (row["id"], []))[1]
            if row["account"] is not None:
                postings.append((row["account"][cut:], row["amount"]))
        found = {(key, entry_id, fingerprint(tuple(postings))) for key, (entry_id, postings) in written.items()}
        modelled = {(key, entry_id, fp) for key, (fp, entry_id) in self.model.entries.items()}
        assert len(written) == len(modelled), f"{len(written)} entries written, the model has {len(modelled)}"
        assert found == modelled, f"entries (key, id, postings) differ from the model: {found ^ modelled}"


@pytest.fixture(scope="module")
def ledger_db(pg_server):
    with background_loop() as loop:
        uri = loop.run(create_migrated_database(pg_server, f"ledger_model_{uuid.uuid4().hex[:8]}"))
        pool = loop.run(create_pool(uri, min_size=2, max_size=8))
        try:
            yield loop, pool
        finally:
            loop.run(pool.close())


def test_ledger_behaves_like_its_model(ledger_db):
    loop, pool = ledger_db
    run_state_machine_as_test(lambda: LedgerMachine(loop, pool), settings=SETTINGS)
