"""What is free: the pure roster-and-slot engine (engine), the scheduling rules (rules), loading a
calendar's free slots (slots), and what that work costs (cost) under a request's budget (budget)."""
