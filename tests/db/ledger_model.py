"""A pure-Python model of the ledger for tests/db/test_ledger_model.py.

It knows a fixed universe of accounts, their balances and the entries written by key, and predicts what
`post_entry_once` must answer for an entry. A batch of entries posted concurrently is explained by finding
a serial order of the batch whose predictions match every observed outcome.
"""

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import permutations

# account name -> may go negative; the last part of the name is its currency
ACCOUNTS = {
    "external:buyers:USD": True,
    "external:payouts:USD": True,
    "escrow:o1:USD": False,
    "seller:s1:USD": False,
    "platform:fees:USD": False,
    "external:buyers:EUR": True,
    "escrow:o1:EUR": False,
    "seller:s1:EUR": False,
}
NON_NEGATIVE = sorted(name for name, may_go_negative in ACCOUNTS.items() if not may_go_negative)

# an entry's postings as (account name, amount), in the order they are handed to post_entry
Draft = tuple[tuple[str, int], ...]

CREATED, EXISTING, CONFLICT, OVERDRAWN, UNBALANCED = "created", "existing", "conflict", "overdrawn", "unbalanced"
# what post_entry_once answered: one of the kinds above, with the entry's id for CREATED and EXISTING
Outcome = tuple[str, int | None]


def currency_of(name: str) -> str:
    return name.rsplit(":", 1)[1]


def accounts_in(currency: str) -> list[str]:
    return [name for name in ACCOUNTS if currency_of(name) == currency]


def fingerprint(draft: Draft) -> Draft:
    return tuple(sorted(draft))


def is_balanced(draft: Draft) -> bool:
    sums: dict[str, int] = defaultdict(int)
    for name, amount in draft:
        sums[currency_of(name)] += amount
    return not any(sums.values())


@dataclass
class LedgerModel:
    balances: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACCOUNTS, 0))
    entries: dict[str, tuple[Draft, int]] = field(default_factory=dict)  # key -> (fingerprint, id)

    def predict(self, key: str, draft: Draft) -> str:
        if not is_balanced(draft):
            return UNBALANCED
        if key in self.entries:
            return EXISTING if self.entries[key][0] == fingerprint(draft) else CONFLICT
        if any(not ACCOUNTS[name] and self.balances[name] + amount < 0 for name, amount in draft):
            return OVERDRAWN
        return CREATED

    def accept(self, key: str, draft: Draft, outcome: Outcome) -> bool:
        """Whether `outcome` is what the model predicts for the entry; if so, the model takes it in."""
        kind, entry_id = outcome
        if kind != self.predict(key, draft):
            return False
        if kind == EXISTING:
            return entry_id == self.entries[key][1]
        if kind == CREATED:
            if entry_id is None or entry_id in {known for _, known in self.entries.values()}:
                return False
            self.entries[key] = (fingerprint(draft), entry_id)
            for name, amount in draft:
                self.balances[name] += amount
        return True

    def after_concurrent(self, batch: list[tuple[str, Draft]], outcomes: list[Outcome]) -> "LedgerModel | None":
        """The model after the batch, if some serial order of it explains every outcome; None if none does."""
        for order in permutations(range(len(batch))):
            trial = copy.deepcopy(self)
            if all(trial.accept(*batch[i], outcomes[i]) for i in order):
                return trial
        return None
