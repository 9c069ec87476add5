"""After-sales customer service: an authenticated customer's orders, changed only under a written policy.

The retail domain of tau-bench (users with addresses and payment methods, orders of product variants,
products with variants) loaded from files (`data`), read through a durable per-owner overlay of the
changes made (`records`, `domain`), changed by the benchmark's write actions (`actions`) only through the
policy (`policy`), which proposes every write and runs it only on the customer's explicit yes. The tools
(`tools`) carry the benchmark's names and arguments; the agent (`agent`) reads each customer message into
a small structured parse (`parse`, `extract`) that code resolves against the data (`resolve`).

The entry point for the shopper engine is `ServiceAgent.turn(state, text) -> ServiceReply`.
"""
