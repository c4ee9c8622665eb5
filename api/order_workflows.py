"""The API's side of Temporal: start order workflows, read their state, send actions and events."""

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from domain import failures
from domain import order_actions as msg
from domain import search_attributes as sa
from domain.order_state import FulfillmentEvent, OrderInput, OrderState, workflow_id_for
from domain.statuses import OrderStatus

REQUEST_HASH_MEMO = "request_hash"


class NoRunningWorkflow(Exception):
    """Temporal has no running workflow for the order: it has finished (or never existed, or was purged).
    The caller, who knows whether the order exists, chooses the answer."""

    def __init__(self, order_id: str):
        super().__init__(f"no running workflow for order {order_id}")


class OrderWorkflows:
    def __init__(self, client: Client, task_queue: str):
        self.client = client
        self.task_queue = task_queue

    async def start(self, order: OrderInput, request_hash: str) -> bool:
        """Start the order's workflow; False when one exists already (whatever its payload)."""
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(sa.ORDER_STATUS, OrderStatus.PAYMENT_PENDING.value),
                SearchAttributePair(sa.SELLER_ID, order.seller_id),
                SearchAttributePair(sa.BUYER_ID, order.buyer_id),
                SearchAttributePair(sa.MARKETPLACE, order.marketplace),
            ]
        )
        try:
            await self.client.start_workflow(
                msg.WORKFLOW_TYPE,
                order,
                id=workflow_id_for(order.order_id),
                task_queue=self.task_queue,
                memo={REQUEST_HASH_MEMO: request_hash},
                search_attributes=attributes,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                static_summary=f"Order {order.order_id}: {order.total} {order.currency} from {order.buyer_id} to {order.seller_id}",
            )
            return True
        except WorkflowAlreadyStartedError:
            return False

    async def request_hash(self, order_id: str) -> str | None:
        try:
            description = await self.client.get_workflow_handle(workflow_id_for(order_id)).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        return (await description.memo()).get(REQUEST_HASH_MEMO)

    async def state(self, order_id: str) -> OrderState | None:
        try:
            return await self.client.get_workflow_handle(workflow_id_for(order_id)).query(msg.STATE_QUERY, result_type=OrderState)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    async def update(self, order_id: str, name: str, argument: BaseModel) -> OrderState:
        """Run the action (an update name of domain/order_actions.py and its input model); the workflow's
        refusal is a 409 with its reason. Raises NoRunningWorkflow."""
        handle = self.client.get_workflow_handle(workflow_id_for(order_id))
        try:
            return await handle.execute_update(name, argument, result_type=OrderState)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == failures.INVALID_TRANSITION:
                raise Problem(409, cause.message, kind="invalid-transition") from err
            raise
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NoRunningWorkflow(order_id) from err
            raise

    async def deliver_event(self, event: FulfillmentEvent) -> None:
        """Signal the event to the order. Raises NoRunningWorkflow."""
        handle = self.client.get_workflow_handle(workflow_id_for(event.order_id))
        try:
            await handle.signal(msg.FULFILLMENT_EVENT_SIGNAL, event)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise NoRunningWorkflow(event.order_id) from err
            raise
