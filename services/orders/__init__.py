"""Orders: carts, checkout, orders and their status history, fulfilment."""
