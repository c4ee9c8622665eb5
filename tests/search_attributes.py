"""Register the order search attributes on a Temporal server (tests' own servers)."""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client

from domain.search_attributes import ALL

ORDER_SEARCH_ATTRIBUTES = tuple(key.name for key in ALL)


async def register_search_attributes(client: Client) -> None:
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in ORDER_SEARCH_ATTRIBUTES},
        )
    )
